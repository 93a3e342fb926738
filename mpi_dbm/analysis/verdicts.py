"""The verdicts of an analysis (pass / fail / inconclusive / info, report.html's first table):
statistics left out, pair spacings and r-tilde against GOE, collapse at equal alpha/|B|, slopes
against sqrt(v), Marchenko–Pastur at initialisation, level-set statistics, edges, Dyson SDE."""

from __future__ import annotations

import math
from typing import Any

from .nulls import null_verdict
from .observables import MIN_REALISATIONS
from .result import MIN_REPLICAS, Analysis, Verdict

#: relative tolerance of a pooled slope against its small-T prediction: O(α/|B|) corrections
#: lower ⟨S⟩/√v by a few per cent at the temperatures of interest (physics.md §2.5, §6 item 2:
#: 2.35–2.63 against √(2π) = 2.51 at T ≤ 0.002)
SLOPE_TOLERANCE = 0.06


def _goe_status(test: dict[str, Any]) -> tuple[str]:
    """pass: GOE consistent and GUE, GSE, Poisson all rejected; inconclusive: GOE consistent but
    another ensemble not rejected (too few samples to tell); fail: GOE rejected."""
    if "goe" not in test["consistent"]:
        return ("fail",)
    return ("pass",) if len(test["consistent"]) == 1 else ("inconclusive",)


def _ratio_status(test: dict[str, Any]) -> str:
    """pass: GOE consistent and Poisson rejected; inconclusive: both consistent (too few samples
    to tell level repulsion from none); fail: GOE rejected."""
    if "goe" not in test["consistent"]:
        return "fail"
    return "inconclusive" if "poisson" in test["consistent"] else "pass"


def _expected_observables(a: Analysis, name: str) -> list[str]:
    """Observables with a predicted slope against √v for this spectrum (at any point)."""
    out: list[str] = []
    for p in a.dataset.points:
        for c in a.clusters_of(p)[name]:
            if (
                c.centre is None
                or a.expectation_of(p).variance(name, c, p.learning_rate, p.batch_size) is None
            ):
                continue
            obs = {1: ["single_std"], 2: ["pair_mean_spacing", "pair_sqrt_pi_sigma"]}.get(
                c.n, [f"cluster{c.n}_rms"]
            )
            out += [o for o in obs if o not in out]
    return out


def _completeness(a: Analysis) -> list[Verdict]:
    out: list[Verdict] = []
    points = a.dataset.points
    pending, total = sum(p.n_pending for p in points), sum(p.n_total for p in points)
    if pending:
        out.append(
            Verdict(
                "results file completeness",
                "info",
                f"{pending} of {total} tasks pending (not run: a chunk of a split sweep or a stopped run)"
                " are ignored; `mpi-dbm run --resume` completes the file, `mpi-dbm merge` joins chunks",
            )
        )
    for p in points:
        if p.n_diverged or p.n_pending:
            out.append(
                Verdict(
                    f"point {p.index} completeness",
                    "info",
                    f"{p.n_done} of {p.n_total} replicas analysed: {p.n_diverged} diverged (excluded), "
                    f"{p.n_pending} pending (missing)",
                )
            )
        if p.n_done < MIN_REPLICAS:
            out.append(
                Verdict(
                    f"point {p.index}",
                    "info",
                    f"not enough data: need {MIN_REPLICAS} finished replicas (errors are jackknife over "
                    f"replicas), have {p.n_done}: not analysed",
                )
            )
    return out


def _verdicts(a: Analysis) -> list[Verdict]:
    """Every verdict of an analysis, in the order of report.html's table."""
    return (
        _completeness(a)
        + _left_out_verdicts(a)
        + _spacing_verdicts(a)
        + _ratio_verdicts(a)
        + _collapse_verdicts(a)
        + _slope_verdicts(a)
        + _initial_verdicts(a)
        + _spectral_verdicts(a)
    )


def _left_out_verdicts(a: Analysis) -> list[Verdict]:
    """Statistics a cluster left out (not enough data), per spectrum and point."""
    out: list[Verdict] = []
    for (name, idx), rows in sorted(a.stats.items(), key=lambda kv: kv[0][1]):
        skipped: dict[str, list[str]] = {}  # reason -> what was left out
        for st in rows:
            for what, why in st.missing.items():
                if what == "spacing":  # per pair; the pooled spacing verdict below speaks for it
                    continue
                skipped.setdefault(why, []).append(f"{what} of {st.cluster.label}")
        if skipped:
            detail = "; ".join(f"{why}: {', '.join(whats)}" for why, whats in skipped.items())
            out.append(Verdict(f"{name} point {idx}: statistics left out", "info", detail))
    return out


def _spacing_verdicts(a: Analysis) -> list[Verdict]:
    """The pooled pair-spacing test of each spectrum and point against GOE."""
    out: list[Verdict] = []
    for (name, idx), uni in sorted(a.universality.items(), key=lambda kv: kv[0][1]):
        if uni is None:
            continue
        check = f"{name} point {idx}: pair spacings GOE (beta=1)"
        if "not_enough_data" in uni:
            out.append(Verdict(check, "inconclusive", uni["not_enough_data"]))
            continue
        out.append(Verdict(check, *_goe_status(uni), f"{uni['summary']} ({uni['n_spacings']} spacings)"))
    return out


def _ratio_verdicts(a: Analysis) -> list[Verdict]:
    """r-tilde against GOE, per cluster."""
    out: list[Verdict] = []
    for (name, idx), rows in sorted(a.stats.items(), key=lambda kv: kv[0][1]):
        for st in rows:
            check = f"{name} point {idx} {st.cluster.label}: r-tilde GOE"
            if "ratio" in st.tests:
                t = st.tests["ratio"]
                out.append(Verdict(check, _ratio_status(t), t["summary"]))
            elif "ratio" in st.missing:
                out.append(Verdict(check, "inconclusive", st.missing["ratio"]))
    return out


def _collapse_verdicts(a: Analysis) -> list[Verdict]:
    """The collapse tests at equal alpha/|B|."""
    out: list[Verdict] = []
    for c in a.collapse:
        points = ", ".join(map(str, c.points))
        check = f"{c.spectrum}: collapse at alpha/|B| = {c.temperature:.4g} (points {points})"
        if not c.resolvable:
            out.append(
                Verdict(
                    check,
                    "inconclusive",
                    f"not enough data: need {c.replicas_needed} replicas per point, have {c.replicas} "
                    f"(the smallest possible combined KS p is {c.smallest_possible_pvalue:.3g},"
                    f" not below alpha = {c.alpha:g})",
                )
            )
            continue
        out.append(
            Verdict(
                check,
                "pass" if c.passed else "fail",
                f"combined KS p = {c.combined_pvalue:.3g} (alpha = {c.alpha:g})",
            )
        )
    return out


def _slope_verdicts(a: Analysis) -> list[Verdict]:
    """Each observable's pooled slope against sqrt(v) and its prediction (missing fits: inconclusive)."""
    out: list[Verdict] = []
    for name in a.dataset.spectra:
        fitted = {f.observable for f in a.fits.get(name, [])}
        for obs in _expected_observables(a, name):
            if obs not in fitted:
                out.append(
                    Verdict(
                        f"{name}: {obs} vs sqrt(v), slope",
                        "inconclusive",
                        f"not enough data: need 1 point with {MIN_REPLICAS} finished replicas and "
                        f"{MIN_REALISATIONS} realisations, have 0",
                    )
                )
    for name, fits in a.fits.items():
        for f in fits:
            if f.predicted_slope is None:
                continue
            rel = f.slope / f.predicted_slope - 1
            ok = (f.pull is not None and abs(f.pull) < 3) or abs(rel) < SLOPE_TOLERANCE
            out.append(
                Verdict(
                    f"{name}: {f.observable} vs sqrt(v), slope",
                    "pass" if ok else "fail",
                    f"a = {f.slope:.4g} +- {f.slope_error:.2g} vs {f.predicted_slope:.4g} "
                    f"({rel:+.1%}, pull {f.pull:+.1f}; pass within 3 sigma or {SLOPE_TOLERANCE:.0%}),"
                    f" chi2/dof {f.chi2_dof:.2f}, {f.n_points} points",
                )
            )
    return out


def _initial_verdicts(a: Analysis) -> list[Verdict]:
    """Marchenko-Pastur at initialisation, per spectrum."""
    out: list[Verdict] = []
    for name, ini in a.initial.items():
        if "not_enough_data" in ini:
            out.append(
                Verdict(f"{name}: Marchenko-Pastur at initialisation", "inconclusive", ini["not_enough_data"])
            )
            continue
        fit = ini["fit"]
        z = (fit["scale"] - ini["expected_scale"]) / fit["scale_err"] if fit["scale_err"] > 0 else math.inf
        ok = abs(z) < 3 or abs(ini["scale_over_expected"] - 1) < 0.02
        out.append(
            Verdict(
                f"{name}: Marchenko-Pastur at initialisation",
                "pass" if ok else "fail",
                f"scale {fit['scale']:.4g} +- {fit['scale_err']:.2g}"
                f" (init variance {ini['expected_scale']:.4g}), "
                f"ratio {fit['ratio']:.3g} +- {fit['ratio_err']:.2g} (expected {ini['expected_ratio']:.3g})",
            )
        )
    return out


def _nth_ratio_status(rec: dict[str, Any], expected_goe: bool) -> str:
    """As `_ratio_status` over the orders: fail if GOE is rejected at any order; pass if GOE is
    consistent at every order and Poisson rejected at one at least; else inconclusive. A set with
    no GOE prediction (a whole spectrum) gets "info"."""
    orders = [r for r in rec.values() if "consistent" in r]
    if not expected_goe:
        return "info"
    if any("goe" not in r["consistent"] for r in orders):
        return "fail"
    return "pass" if any("poisson" in r["rejected"] for r in orders) else "inconclusive"


def _nth_ratio_detail(rec: dict[str, Any]) -> str:
    parts = []
    for key, r in rec.items():
        if "not_enough_data" in r:
            parts.append(f"{key}: {r['not_enough_data']}")
            continue
        refs = ", ".join(f"{e.upper()} {x['matched']:.4f}" for e, x in r["references"].items())
        ok = ", ".join(e.upper() for e in r["consistent"]) or "none"
        parts.append(
            f"<r~^({key[1:]})> = {r['value']:.4f} +- {r['error']:.2g} (matched {refs}; consistent: {ok})"
        )
    return "; ".join(parts)


def _long_range_detail(rec: dict[str, Any]) -> str:
    parts = [f"unfolding: {rec['unfolding']['method']}"]
    for key, sym in (("number_variance", "Sigma2"), ("rigidity", "Delta3")):
        if key not in rec:
            continue
        r = rec[key]
        vals = [
            f"{sym}({L:g}) = {v:.3g} +- {e:.2g} (GOE {g:.3g}, N -> infinity {gi:.3g}; Poisson {q:.3g})"
            for L, v, e, g, gi, q in zip(
                r["lengths"],
                r["values"],
                r["errors"],
                r["matched"]["goe"],
                r["large_n"]["goe"],
                r["large_n"]["poisson"],
                strict=True,
            )
        ]
        parts.append("; ".join(vals))
    if "long_range_not_enough_data" in rec:
        parts.append(f"Sigma2, Delta3: {rec['long_range_not_enough_data']}")
    if "form_factor" in rec:
        f = rec["form_factor"]
        vals = [
            f"K({t:.2g}) = {v:.3g} +- {e:.2g} (GOE {g:.3g}, N -> infinity {gi:.3g})"
            for t, v, e, g, gi in zip(
                f["tau"], f["values"], f["errors"], f["matched"]["goe"], f["large_n"]["goe"], strict=True
            )
        ]
        parts.append("form factor: " + "; ".join(vals[:4]))
    elif "form_factor_not_enough_data" in rec:
        parts.append(f"form factor: {rec['form_factor_not_enough_data']}")
    return "; ".join(parts)


def _edge_detail(e: dict[str, Any]) -> str:
    tw, m = e["tracy_widom_1"], e["matched"]
    return (
        f"{e['n_matrices']} largest levels, mean {e['mean']:.3f}, variance {e['variance']:.3f}; matched-size "
        f"reference: mean {m['mean']:.3f}, variance {m['variance']:.3f}, two-sample KS p = {m['ks_p']:.3g}; "
        f"Tracy-Widom F1 (N -> infinity): KS p = {tw['ks_p']:.3g}, z(mean) {tw['z_mean']:+.1f}, "
        f"z(variance) {tw['z_variance']:+.1f}"
    )


def _sde_ratios(rec: dict[str, Any]) -> str:
    """Repulsion and diffusion over their predictions (GRBM: T = alpha/|B|), or over T alone."""
    parts = []
    for key in ("repulsion", "diffusion"):
        if rec[f"{key}_over_predicted"] is not None:
            parts.append(
                f"{key}/predicted = {rec[f'{key}_over_predicted']:.3f}"
                f" +- {rec[f'{key}_over_predicted_error']:.3f}"
            )
        else:
            parts.append(
                f"{key}/T = {rec[f'{key}_over_T']:.4g} +- {rec[f'{key}_over_T_error']:.2g} (no prediction)"
            )
    return ", ".join(parts)


def dyson_beta_status(beta: float, error: float) -> str:
    """pass: beta = 1 within 3 sigma and beta = 0 (no repulsion) rejected beyond 3 sigma; fail:
    beta = 1 rejected; inconclusive: both within 3 sigma (too few data to see the repulsion)."""
    if not (math.isfinite(beta) and math.isfinite(error) and error > 0) or abs(beta - 1) >= 3 * error:
        return "fail"
    return "pass" if abs(beta) >= 3 * error else "inconclusive"


def _dyson_verdicts(a: Analysis) -> list[Verdict]:
    out: list[Verdict] = []
    for r in a.dyson:
        check = f"{r.spectrum} point {r.point} {r.label}: Dyson SDE: beta = 1 within 3 sigma"
        rec = r.record
        if "not_enough_data" in rec:
            out.append(Verdict(check, "inconclusive", rec["not_enough_data"]))
        elif "note" in rec:
            out.append(Verdict(check, "info", rec["note"]))
        else:
            out.append(
                Verdict(
                    check,
                    dyson_beta_status(rec["beta"], rec["beta_error"]),
                    f"beta = {rec['beta']:.3f} +- {rec['beta_error']:.3f} (pull {rec['beta_pull']:+.1f}); "
                    f"{_sde_ratios(rec)}; dt = {rec['dt']:.3g}, {rec['fit']['method']}",
                )
            )
    return out


def _spectral_verdicts(a: Analysis) -> list[Verdict]:
    out: list[Verdict] = []
    for (name, idx), sets in sorted(a.spectral.items(), key=lambda kv: kv[0][1]):
        for rec in sets:
            head = f"{name} point {idx} {rec['label']}"
            missing = rec["not_enough_data"]
            if "nth_ratios" in rec:
                out.append(
                    Verdict(
                        f"{head}: n-th order ratios GOE",
                        _nth_ratio_status(rec["nth_ratios"], rec["expected_goe"]),
                        _nth_ratio_detail(rec["nth_ratios"]),
                    )
                )
            elif "nth_ratios" in missing:
                out.append(Verdict(f"{head}: n-th order ratios GOE", "inconclusive", missing["nth_ratios"]))
            if "long_range" in rec:
                out.append(
                    Verdict(
                        f"{head}: Sigma2, Delta3, form factor", "info", _long_range_detail(rec["long_range"])
                    )
                )
            elif "long_range" in missing:
                out.append(
                    Verdict(f"{head}: Sigma2, Delta3, form factor", "inconclusive", missing["long_range"])
                )
            if "edge" in rec:
                out.append(
                    Verdict(
                        f"{head}: largest level GOE edge",
                        "pass" if rec["edge"]["consistent"] else "fail",
                        _edge_detail(rec["edge"]),
                    )
                )
            elif "edge" in missing:
                out.append(Verdict(f"{head}: largest level GOE edge", "inconclusive", missing["edge"]))
            if "nulls" in rec:  # null models of the spacing statistics (analysis/nulls.py)
                out.append(Verdict(f"{head}: spacing statistics vs null models", *null_verdict(rec["nulls"])))
            for key, why in missing.items():
                if key not in ("nth_ratios", "long_range", "edge"):
                    out.append(Verdict(f"{head}: {key} left out", "info", why))
    for name, e in a.initial_edge.items():
        check = f"{name}: largest eigenvalue at initialisation (Johnstone-Wishart)"
        if "not_enough_data" in e:
            out.append(Verdict(check, "inconclusive", e["not_enough_data"]))
        else:
            out.append(
                Verdict(check, "pass" if e["consistent"] else "fail", f"{e['scaling']}; {_edge_detail(e)}")
            )
    return out + _dyson_verdicts(a)
