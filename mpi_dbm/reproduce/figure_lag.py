"""Figure of row 9c (experiment `chain_lag`): the persistent chains' lag.

The relative mean shift (measured / §2.6) of the n = 8 GRBM cluster against the number k of Gibbs
sweeps per update, for the Gibbs and the marginal chain, beside the value with independent exact
samples (a band) and §2.6 itself (1). It imports no matplotlib: reproduce/figures.py hands in its
pyplot (as for report_phases.py).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from .checks.chain_lag import relative_shifts
from .data import Experiments

FIGURE = "repro_chain_lag.png"
CAPTION = (
    "Mean shift of the n = 8 cluster over the §2.6 prediction (1, dashed) at α/|B| = 0.005 against the "
    "Gibbs sweeps k per update of the persistent chains; grey band: independent exact samples (± 1σ). "
    "A chain of k sweeps keeps a correlation (4/9)^k with its last state, and the cluster moves less: "
    "the reason 9a/9b fail at k = 3. Row 9c."
)


def chain_lag_figure(ex: Experiments, outdir: Path, plt: ModuleType) -> tuple[str, str, str] | None:
    """(file, title, caption) of the figure, None when `chain_lag` was not run."""
    exp = ex.get("chain_lag")
    got = relative_shifts(exp) if exp is not None else {}
    chains = {
        s: sorted((k, v, e) for (s2, k), (v, e) in got.items() if s2 == s) for s in ("gibbs", "marginal")
    }
    if not any(chains.values()):
        return None
    fig, ax = plt.subplots(figsize=(4.2, 2.8))
    exact = [ve for (s, _), ve in got.items() if s == "exact"]
    if exact:
        v, e = exact[0]
        ax.axhspan(v - e, v + e, color="0.8", label="exact samples")
    ax.axhline(1.0, color="k", ls="--", lw=0.8, label="§2.6")
    for (sampler, rows), marker in zip(chains.items(), ("o", "s"), strict=True):
        if rows:
            ks, vs, es = zip(*rows, strict=True)
            ax.errorbar(ks, vs, yerr=es, fmt=f"{marker}-", ms=4, capsize=2, label=f"{sampler} chain")
    ax.set_xscale("log")
    ax.set_xticks([1, 3, 10], labels=["1", "3", "10"])
    ax.set_xlabel("Gibbs sweeps k per update")
    ax.set_ylabel("shift / §2.6 prediction")
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(outdir / FIGURE, dpi=80, pil_kwargs={"optimize": True})
    plt.close(fig)
    return FIGURE, "The persistent chains' lag (row 9c)", CAPTION
