"""The tables of report.html beyond the cluster statistics: level statistics per level set
(n-th order ratios, Sigma2, Delta3, largest level), the largest eigenvalue at initialisation and the
Dyson SDE fits; and the cell formatting every table of the page shares. HTML only, no plots."""

from __future__ import annotations

import html
import math
from typing import Any

from .analysis.pipeline import Analysis, dyson_beta_status


def _relative_cell(measured: dict[str, float] | None, predicted: float | None) -> str:
    """measured / predicted ± error (a persistent-chain lag or finite-α correction shows here)."""
    if not measured or not predicted:
        return "–"
    return f"{_fmt(measured['value'] / predicted)} ± {_fmt(measured['error'] / abs(predicted))}"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else "–"
    return html.escape(str(v))


def _value_cell(d: dict[str, float] | None) -> str:
    if not d:
        return "–"
    return f"{_fmt(d['value'])} ± {_fmt(d['error'])}"


def _table(header: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    for i, r in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    return "\n".join(out) + "</table>"


def _ratio_cell(rec: dict[str, Any], key: str) -> str:
    r = rec.get("nth_ratios", {}).get(key)
    if r is None or "value" not in r:
        return "–"
    ok = ", ".join(e.upper() for e in r["consistent"]) or "none"
    return (
        f"{_fmt(r['value'])} ± {_fmt(r['error'])} (GOE {_fmt(r['references']['goe']['matched'])}; "
        f"consistent: {html.escape(ok)})"
    )


def _series_cell(r: dict[str, Any] | None, at: float) -> str:
    if not r or at not in r["lengths"]:
        return "–"
    i = r["lengths"].index(at)
    return (
        f"{_fmt(r['values'][i])} ± {_fmt(r['errors'][i])} (GOE {_fmt(r['matched']['goe'][i])}, "
        f"∞ {_fmt(r['large_n']['goe'][i])}; Poisson {_fmt(r['large_n']['poisson'][i])})"
    )


def _left_out(rec: dict[str, Any]) -> dict[str, str]:
    """Every statistic of a level set left out, with why (its own notes and the long-range ones)."""
    out = dict(rec["not_enough_data"])
    lr = rec.get("long_range", {})
    for key, what in (("long_range_not_enough_data", "Σ², Δ₃"), ("form_factor_not_enough_data", "K(τ)")):
        if key in lr:
            out[what] = lr[key]
    return out


def _spectral_html(a: Analysis) -> list[str]:
    """Tables of the n-th order ratios, Σ²/Δ₃/edge per level set, the step-0 edge and the Dyson SDE."""
    return _level_set_html(a) + _initial_edge_html(a) + _dyson_html(a)


def _level_set_html(a: Analysis) -> list[str]:
    """The level statistics of every level set: n-th order ratios, Sigma2(1), Delta3(1), largest level."""
    parts: list[str] = []
    rows = []
    for (name, idx), sets in sorted(a.spectral.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        for rec in sets:
            lr = rec.get("long_range", {})
            edge = rec.get("edge")
            rows.append(
                [
                    html.escape(name),
                    str(idx),
                    html.escape(rec["label"]),
                    *(_ratio_cell(rec, f"n{k}") for k in (1, 2, 3)),
                    _series_cell(lr.get("number_variance"), 1.0),
                    _series_cell(lr.get("rigidity"), 1.0),
                    f"KS p = {_fmt(edge['matched']['ks_p'])} (TW₁ p = {_fmt(edge['tracy_widom_1']['ks_p'])})"
                    if edge
                    else "–",
                    html.escape("; ".join(f"{k}: {v}" for k, v in _left_out(rec).items())) or "–",
                ]
            )
    if rows:
        parts.append("<h2>Level statistics beyond nearest neighbours</h2>")
        parts.append(
            "<p>Per level set (a family cluster of ≥ 8 levels, or the whole spectrum where the family gives "
            "no clusters): n-th order spacing ratios ⟨r̃<sup>(n)</sup>⟩ (errors jackknife over replicas), "
            "against matched-size sampled GOE spectra (the decision; ∞: the N → ∞ law); Σ²(1) and Δ₃(1) "
            "after an ensemble unfolding (pooled staircase) of the last analysed measurement of each "
            "replica; the largest level of a set that is one GOE-like cluster. Everything with all "
            "references is in <code>summary.json</code> (points[].spectra[].level_sets).</p>"
        )
        parts.append(
            _table(
                [
                    "spectrum",
                    "point",
                    "levels",
                    "⟨r̃⁽¹⁾⟩",
                    "⟨r̃⁽²⁾⟩",
                    "⟨r̃⁽³⁾⟩",
                    "Σ²(1)",
                    "Δ₃(1)",
                    "largest level vs GOE",
                    "not enough data",
                ],
                rows,
            )
        )
    return parts


def _initial_edge_html(a: Analysis) -> list[str]:
    """The largest eigenvalue at initialisation against matched Wishart and Tracy-Widom."""
    parts: list[str] = []
    if a.initial_edge:
        parts.append("<h2>Largest eigenvalue at initialisation</h2>")
        erows = []
        for name, e in a.initial_edge.items():
            if "not_enough_data" in e:
                erows.append([html.escape(name), html.escape(e["not_enough_data"]), "–", "–", "–"])
                continue
            erows.append(
                [
                    html.escape(name),
                    html.escape(e["scaling"]),
                    f"{_fmt(e['mean'])} / {_fmt(e['variance'])}",
                    f"{_fmt(e['matched']['mean'])} / {_fmt(e['matched']['variance'])}, KS p = "
                    f"{_fmt(e['matched']['ks_p'])}",
                    f"{_fmt(e['tracy_widom_1']['mean'])} / {_fmt(e['tracy_widom_1']['variance'])}, KS p = "
                    f"{_fmt(e['tracy_widom_1']['ks_p'])}",
                ]
            )
        parts.append(
            _table(
                ["spectrum", "scaling", "mean / variance", "matched Wishart", "Tracy–Widom F₁"],
                erows,
            )
        )
    return parts


def _dyson_html(a: Analysis) -> list[str]:
    """The Dyson SDE fits (a note where there is none)."""
    parts: list[str] = []
    parts.append("<h2>Dyson SDE</h2>")
    if not a.dyson:
        parts.append(f"<p>{html.escape(str(a.dyson_series.get('note', 'no fit')))}</p>")
        return parts
    drows, classes = [], []
    for r in a.dyson:
        rec = r.record
        base = [html.escape(r.spectrum), str(r.point), _fmt(a.dataset.points[r.point].temperature)]
        base.append(html.escape(r.label))
        if "beta" not in rec:
            drows.append([*base, html.escape(rec.get("not_enough_data") or rec.get("note", "")), *["–"] * 5])
            classes.append("info")
            continue
        drows.append(
            [
                *base,
                f"{_fmt(rec['repulsion_over_T'])} ± {_fmt(rec['repulsion_over_T_error'])}",
                f"{_fmt(rec['diffusion_over_T'])} ± {_fmt(rec['diffusion_over_T_error'])}",
                *(
                    f"{_fmt(rec[f'{k}_over_predicted'])} ± {_fmt(rec[f'{k}_over_predicted_error'])}"
                    if rec[f"{k}_over_predicted"] is not None
                    else "–"
                    for k in ("repulsion", "diffusion")
                ),
                f"{_fmt(rec['beta'])} ± {_fmt(rec['beta_error'])}",
                f"Δt = {_fmt(rec['dt'])}, {html.escape(rec['fit']['method'])}",
            ]
        )
        classes.append(dyson_beta_status(rec["beta"], rec["beta_error"]))
    parts.append(
        "<p>Kramers–Moyal fit of the level SDE on the measurement series of the window "
        "(rmt.fit_grbm_dyson for the GRBM: predicted a = c = T = α/|B|; elsewhere the confined Dyson model "
        "of a cluster, predicted a = 2γv, c = 4γv with the family's GOE variance v and relaxation rate γ); "
        "β = 1 for both.</p>"
    )
    parts.append(
        _table(
            [
                "spectrum",
                "point",
                "α/|B|",
                "levels",
                "a/T",
                "c/T",
                "a/predicted",
                "c/predicted",
                "β",
                "method",
            ],
            drows,
            classes,
        )
    )
    return parts
