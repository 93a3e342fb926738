"""The null-model table of report.html: every spacing statistic of a level set beside the same
statistic on GOE, Wishart and shuffled-entry nulls (mpi_dbm.analysis.nulls). HTML only, no plots;
report_html.py places it after the level-statistics table."""

from __future__ import annotations

import html
import math
from typing import Any

from .analysis.nulls import STATISTICS
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
}


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


def null_models_html(a: Analysis) -> list[str]:
    """The section (heading, method, table) or nothing when no level set has null comparisons."""
    rows: list[list[str]] = []
    ks: set[int] = set()
    for (name, idx), sets in sorted(a.spectral.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        for rec in sets:
            if "nulls" in rec:
                rows += _rows(name, idx, rec)
                ks.add(rec["nulls"]["k"])
    if not rows:
        return []
    head = [
        "spectrum",
        "point",
        "levels",
        "statistic",
        "measured",
        "GOE null",
        "Wishart null",
        "shuffled-entry null",
    ]
    table = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    table += ["<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows]
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
        "\n".join(table) + "</table>",
    ]
