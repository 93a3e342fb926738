"""The null-model tables of report.html: every spacing statistic of a level set, and the pair
statistics (⟨s²⟩, P(s), β) and ⟨r̃⟩ of clusters of 2-7 levels, beside the same statistic on GOE,
Wishart and shuffled-entry nulls (mpi_dbm.analysis.nulls). HTML only, no plots; report_html.py
places them after the level-statistics table."""

from __future__ import annotations

import html
import math
from typing import Any

from .analysis.nulls import CLUSTER_STATISTICS, PAIR_STATISTICS, STATISTICS
from .analysis.pipeline import Analysis

#: the report's labels of the statistics (analysis.nulls.STATISTICS keys)
LABELS = {
    "rtilde_1": "⟨r̃⟩",
    "rtilde_2": "⟨r̃⁽²⁾⟩",
    "rtilde_3": "⟨r̃⁽³⁾⟩",
    "ps_ks_goe": "P(s): KS distance to GOE surmise",
    "s2": "P(s): ⟨s²⟩",
    "beta": "β (small s)",
    "brody_q": "Brody q",
    "ps_ks_pair": "P(s): KS distance to the Wigner surmise (2×2 GOE)",
    "rtilde": "⟨r̃⟩",
}
#: column heads of both tables
_HEAD = ["GOE null", "Wishart null", "shuffled-entry null"]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else "–"
    return html.escape(str(v))


def _null_cell(c: dict[str, Any] | None) -> str:
    """mean ± spread (p, distinguishable or not) of one null, or –."""
    if c is None or c.get("distinguishable") is None:
        return "–"
    word = "<b>distinguishable</b>" if c["distinguishable"] else "not distinguishable"
    if "spread" in c:
        return f"{_fmt(c['mean'])} ± {_fmt(c['spread'])} (p = {_fmt(c['p'])}; {word})"
    return f"{_fmt(c['value'])} ± {_fmt(c['error'])} (p = {_fmt(c['p'])}; {word})"


def _rows(name: str, idx: int, rec: dict[str, Any]) -> list[list[str]]:
    nulls = rec["nulls"]
    shuffled_note = nulls["shuffled_note"]
    rows = []
    for key in STATISTICS:
        r = nulls["statistics"][key]
        shuffled = html.escape(shuffled_note) if shuffled_note else _null_cell(r.get("shuffled"))
        rows.append(
            [
                html.escape(name),
                str(idx),
                html.escape(rec["label"]),
                LABELS.get(key, html.escape(key)),
                _fmt(r["measured"]),
                _null_cell(r.get("goe")),
                _null_cell(r.get("wishart")),
                shuffled,
            ]
        )
    return rows


def _table_html(head: list[str], rows: list[list[str]]) -> str:
    table = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    table += ["<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows]
    return "\n".join(table) + "</table>"


def _cluster_rows(name: str, idx: int, label: str, nulls: dict[str, Any]) -> list[list[str]]:
    note = nulls["shuffled_note"]
    keys = PAIR_STATISTICS if "s2" in nulls["statistics"] else CLUSTER_STATISTICS
    out = []
    for key in keys:
        r = nulls["statistics"][key]
        shown = "ps_ks_pair" if key == "ps_ks_goe" else key
        shuffled = html.escape(note) if note else _null_cell(r.get("shuffled"))
        head = [html.escape(name), str(idx), html.escape(label), LABELS.get(shown, html.escape(key))]
        nulls_ = [_null_cell(r.get("goe")), _null_cell(r.get("wishart")), shuffled]
        out.append([*head, _fmt(r["measured"]), *nulls_])
    return out


def cluster_nulls_html(a: Analysis) -> list[str]:
    """Pair statistics and ⟨r̃⟩ of clusters of 2-7 levels beside their nulls, or nothing."""
    rows: list[list[str]] = []
    ks: set[int] = set()
    ms: list[float] = []
    for (name, idx), stats in sorted(a.stats.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        for st in stats:
            if st.nulls is not None and "statistics" in st.nulls:
                rows += _cluster_rows(name, idx, st.cluster.label, st.nulls)
                ks.add(st.nulls["k"])
                ms.append(st.nulls["models"]["wishart"]["m"])
    if not rows:
        return []
    k = ", ".join(map(str, sorted(ks)))
    m = f"{min(ms):.0f}" if min(ms) == max(ms) else f"{min(ms):.0f} to {max(ms):.0f}"
    return [
        "<h2>Cluster statistics beside null models</h2>",
        "<p>Pairs: ⟨s²⟩ = ⟨S²⟩/⟨S⟩², the KS distance of P(s) to the Wigner surmise and the small-s β; "
        "clusters of 3-7 levels: ⟨r̃⟩. Measured on one spectrum per replica (the last analysed "
        f"measurement) and on {k} null ensembles of as many clusters: the GOE of the same n (for a "
        "pair the 2×2 GOE, whose spacing law is the Wigner surmise: the theory reference), and "
        "the Gram matrix W Wᵀ/m of a Gaussian n×m W whose eigenvalues have the cluster's mean and "
        f"variance (m = (n+1)⟨λ⟩²/Var λ, here m = {m}; see docs/rmt.md); entry-shuffled copies "
        "where the file has them. Mean ± spread over the ensembles, p of the measured value as one "
        "more draw; distinguishable: p &lt; α.</p>",
        _table_html(["spectrum", "point", "cluster", "statistic", "measured", *_HEAD], rows),
    ]


def null_models_html(a: Analysis) -> list[str]:
    """The sections (heading, method, table) of level sets and of clusters with null comparisons;
    nothing when there are none."""
    return _level_set_nulls_html(a) + cluster_nulls_html(a)


def _level_set_nulls_html(a: Analysis) -> list[str]:
    rows: list[list[str]] = []
    ks: set[int] = set()
    for (name, idx), sets in sorted(a.spectral.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        for rec in sets:
            if "nulls" in rec:
                rows += _rows(name, idx, rec)
                ks.add(rec["nulls"]["k"])
    if not rows:
        return []
    head = ["spectrum", "point", "levels", "statistic", "measured", *_HEAD]
    k = ", ".join(map(str, sorted(ks)))
    return [
        "<h2>Spacing statistics beside null models</h2>",
        "<p>Each spacing statistic of a level set (one spectrum per replica, the last analysed "
        "measurement; ⟨r̃⁽ⁿ⁾⟩ over all levels, P(s), β and Brody q of the ensemble-unfolded bulk) beside "
        f"the same statistic on {k} sampled null ensembles of as many spectra: GOE matrices of the data's "
        "centre and width, Wishart matrices W Wᵀ/m of a fitted (or moment-matched) shape and scale "
        "(mean ± spread over the ensembles; p of the measured value as one more draw); and spectra of "
        "entry-shuffled copies of the same matrices where the results file has them (value ± jackknife "
        "error). Distinguishable: p &lt; α. The bulk of a random Gram matrix is GOE-like already "
        "(arXiv:2603.27885), so a GOE-like value says little unless it differs from the Wishart null.</p>",
        _table_html(head, rows),
    ]
