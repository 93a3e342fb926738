"""Σ²(L), Δ₃(L) and the form factor: exact cases (picket fence, closed-form Δ₃ against a direct
least-squares integral), the cluster-function references against the literature asymptotics and
Fourier transforms, and sampled GOE/GUE/Poisson spectra against the references within their
standard errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import chi2

from mpi_dbm import rmt
from mpi_dbm.rmt import longrange as lr
from mpi_dbm.rmt._base import InsufficientDataError

ENTROPY = 1975_0393  # Bohigas & Giannoni, Ann. Phys. 89, 393 (1975)
N = 300  # levels per matrix; the bulk (60 %) is kept: 180 unfolded levels per row
ROWS = 100
TRIM = 0.2


def rng(key: int) -> np.random.Generator:
    """An independent stream per use, whatever the test order."""
    return np.random.default_rng(np.random.SeedSequence(ENTROPY, spawn_key=(key,)))


@pytest.fixture(scope="module")
def spectra() -> dict[str, np.ndarray]:
    """100 realisations of 300 levels per ensemble (≈ 2 s)."""
    return {
        "goe": rmt.goe_eigenvalues(N, rng(1), ROWS),
        "gue": rmt.gue_eigenvalues(N, rng(2), ROWS),
        "poisson": rmt.poisson_levels(N, rng(3), ROWS),
    }


def unfolded(spectra: dict[str, np.ndarray], ensemble: str, trim: float = TRIM) -> rmt.Unfolding:
    """The analytic semicircle (v = 1/2: radius √(2N), nothing fitted) for GOE/GUE; Poisson
    levels have unit mean spacing already and are unfolded by the ensemble staircase."""
    if ensemble == "poisson":
        return rmt.unfold_ensemble(spectra[ensemble], trim=trim)
    return rmt.unfold_semicircle(spectra[ensemble], center=0.0, radius=math.sqrt(2 * N), trim=trim)


# --------------------------------------------------------------------------- estimators, exact cases


def direct_delta3(levels: np.ndarray, a: float, length: float) -> float:
    """min_{A,B} (1/L)∫ (N(E) − AE − B)² dE by quadrature of the normal equations (independent of
    the closed form): moments of the staircase integrated piecewise with scipy.quad."""
    inside = np.sort(levels[(levels > a) & (levels <= a + length)])

    def stair(e: float) -> float:
        return float(np.searchsorted(inside, e, side="right"))

    pts = list(inside)
    m = [quad(lambda e, k=k: e**k, a, a + length)[0] for k in range(3)]
    f = [quad(lambda e, k=k: stair(e) * e**k, a, a + length, points=pts, limit=200)[0] for k in range(2)]
    ff = quad(lambda e: stair(e) ** 2, a, a + length, points=pts, limit=200)[0]
    gram = np.array([[m[2], m[1]], [m[1], m[0]]])
    coef = np.linalg.solve(gram, np.array([f[1], f[0]]))
    return float((ff - coef @ np.array([f[1], f[0]])) / length)


def test_closed_form_delta3_matches_a_direct_least_squares_fit() -> None:
    levels = np.sort(rng(4).uniform(0, 40, 40))
    for length in (3.0, 7.5, 16.0):
        res = lr.rigidity(levels, length, n_windows=3, margin=1.0)
        # the same three windows, evaluated directly
        lo, hi = levels[0] + 1.0, levels[-1] - 1.0
        starts = lo + (hi - lo - length) * (np.arange(3) + 0.5) / 3
        direct = np.mean([direct_delta3(levels, a, length) for a in starts])
        assert res.values[0] == pytest.approx(direct, rel=1e-8, abs=1e-10)


def test_picket_fence_is_rigid() -> None:
    # Equally spaced levels: n(a, L) = L exactly for integer L. N(E) − E is a unit sawtooth f of
    # phase θ relative to the window start; with ∫f = 0 and ∫f·t = L·c(θ), c = θ(1 − θ)/2 − 1/12,
    # the least-squares residual is Δ₃ = 1/12 − 12c²/L², and the phase average (E c² = 1/720)
    # gives ⟨Δ₃⟩ = 1/12 − 1/(60L²) for integer L.
    levels = np.arange(500.0)[None, :] + rng(5).uniform(0, 1, (3, 1))
    L = np.array([1.0, 5.0, 20.0])
    s2 = lr.number_variance(levels, L, n_windows=400)
    d3 = lr.rigidity(levels, L, n_windows=400)
    np.testing.assert_allclose(s2.values, 0.0, atol=1e-12)
    np.testing.assert_allclose(d3.values, 1 / 12 - 1 / (60 * L**2), rtol=2e-3)
    assert d3.params["unfolding"]["method"].startswith("none")


def test_window_longer_than_the_spectrum_is_rejected() -> None:
    with pytest.raises(rmt.InsufficientDataError, match="not enough data"):
        lr.number_variance(np.arange(10.0), 9.0)
    with pytest.raises(ValueError, match="positive"):
        lr.rigidity(np.arange(10.0), -1.0)


# --------------------------------------------------------------------------- references


def test_poisson_references_and_cluster_function_limits() -> None:
    L = np.array([0.5, 2.0, 10.0])
    np.testing.assert_allclose(lr.number_variance_reference(L, "poisson"), L)
    np.testing.assert_allclose(lr.rigidity_reference(L, "poisson"), L / 15)
    for ens in ("goe", "gue"):
        # No level coincides with another: Y₂(0) = 1; the sum rule ∫₀^∞ Y₂ = 1/2.
        assert lr.cluster_function(0.0, ens) == pytest.approx(1.0, abs=1e-12)
        total = quad(lambda r, e=ens: float(lr.cluster_function(r, e)), 0, 2000, limit=4000)[0]
        assert total == pytest.approx(0.5, abs=2e-4)
    # The series branch of s′(r) below r = 0.01 joins the closed form above it: the step across
    # 0.01 equals the one from the slope (Y₂_GOE ≈ 1 − π²r/6 is linear there), to 1e-10.
    y = lr.cluster_function(np.array([0.0099997, 0.0099999, 0.0100001, 0.0100003]), "goe")
    assert y[2] - y[1] == pytest.approx(0.5 * (y[1] - y[0] + y[3] - y[2]), abs=1e-10)
    with pytest.raises(ValueError, match="GSE"):
        lr.number_variance_reference(L, "gse")


@pytest.mark.parametrize("ensemble", ["goe", "gue"])
def test_exact_references_approach_the_large_L_asymptotics(ensemble: str) -> None:
    # The exact Σ², Δ₃ (quadrature of the cluster function) against Mehta's asymptotic forms,
    # whose corrections fall off like 1/L (Σ²) and 1/L (Δ₃): independent checks of Y₂ and of
    # both integral kernels.
    L = np.array([50.0, 200.0, 800.0])
    s2 = lr.number_variance_reference(L, ensemble)
    d3 = lr.rigidity_reference(L, ensemble)
    assert np.all(np.abs(s2 - lr.number_variance_asymptotic(L, ensemble)) < 0.5 / L)
    assert np.all(np.abs(d3 - lr.rigidity_asymptotic(L, ensemble)) < 5.0 / L)
    # Δ₃ from Σ² (Pandey): Δ₃(L) = (2/L⁴)∫₀^L (L³ − 2L²r + r³) Σ²(r) dr.
    x = 6.5
    via_s2 = (2 / x**4) * quad(
        lambda r: (x**3 - 2 * x * x * r + r**3) * lr.number_variance_reference(r, ensemble)[0],
        0,
        x,
        limit=200,
    )[0]
    assert lr.rigidity_reference(x, ensemble)[0] == pytest.approx(via_s2, rel=1e-8)


@pytest.mark.parametrize("ensemble", ["goe", "gue"])
def test_form_factor_reference_is_one_minus_the_fourier_transform_of_Y2(ensemble: str) -> None:
    for tau in (0.2, 0.6, 0.95, 1.3, 2.2):
        b = quad(
            lambda r: float(lr.cluster_function(r, ensemble)),
            0,
            np.inf,
            weight="cos",
            wvar=2 * np.pi * tau,
            limlst=400,
        )[0]
        assert lr.form_factor_reference(tau, ensemble) == pytest.approx(1 - 2 * b, abs=1e-7)
    np.testing.assert_allclose(lr.form_factor_reference([0.0, 3.0], "poisson"), 1.0)


# --------------------------------------------------------------------------- sampled spectra


L_SAMPLED = np.array([1.0, 3.0, 8.0, 15.0])


def z_scores(stat: lr.LongRangeStatistic, reference: np.ndarray) -> np.ndarray:
    return (stat.values - reference) / stat.errors


@pytest.mark.parametrize("ensemble", ["goe", "gue", "poisson"])
def test_sampled_number_variance_and_rigidity_match_their_ensemble(spectra, ensemble: str) -> None:
    u = unfolded(spectra, ensemble)
    s2 = lr.number_variance(u, L_SAMPLED)
    d3 = lr.rigidity(u, L_SAMPLED)
    assert s2.params["unfolding"]["method"] == u.method
    assert s2.rows == ROWS
    # Each value is a mean over 100 independent realisations: the z-scores are ≈ N(0, 1); the four
    # L of one statistic are correlated (shared windows), so each |z| is held to 3.5 (a
    # Bonferroni bound at α ≈ 0.002 over 4 values) rather than a joint χ².
    for stat, ref in (
        (s2, lr.number_variance_reference(L_SAMPLED, ensemble)),
        (d3, lr.rigidity_reference(L_SAMPLED, ensemble)),
    ):
        z = z_scores(stat, ref)
        assert np.all(np.abs(z) < 3.5), (stat.statistic, z)
    # Power: the other ensembles' references are far outside the errors at L ≥ 3.
    for other in {"goe", "gue", "poisson"} - {ensemble}:
        z = z_scores(d3, lr.rigidity_reference(L_SAMPLED, other))
        assert np.all(np.abs(z[1:]) > 10), (other, z)


def test_index_trimmed_rows_give_poisson_counts_at_large_L(spectra) -> None:
    # Unit-density Poisson levels trimmed by index (levels 60…239 of each row, R ≈ 178 spacings):
    # each row's kept range holds a fixed number of levels, yet counts in windows at fixed positions
    # are Poisson, Σ² = L, also at L = 40 where a count conditioned on the row's own range would
    # be binomial, L(1 − L/R) ≈ 31.
    kept = spectra["poisson"][:, 60:240]
    s2 = lr.number_variance(kept, [10.0, 40.0])
    z = (s2.values - np.array([10.0, 40.0])) / s2.errors
    assert np.all(np.abs(z) < 3.5), z


def test_per_row_unfolding_fakes_rigidity_for_poisson(spectra) -> None:
    # The documented pitfall: a per-row polynomial fit to the staircase absorbs long-range
    # fluctuations, so Σ² of Poisson levels at L = 15 falls far below L.
    poly = rmt.unfold_polynomial(spectra["poisson"], degree=7, trim=TRIM)
    s2 = lr.number_variance(poly, 15.0)
    assert s2.values[0] + 5 * s2.errors[0] < 15.0


TAUS = np.linspace(0.05, 2.5, 246)
EDGES = np.array([0.1, 0.3, 0.5, 0.7, 0.9, 1.2, 1.6, 2.0, 2.5])


def binned_reference(ensemble: str) -> np.ndarray:
    """The reference K averaged over the same τ grid points as FormFactor.binned."""
    t = TAUS
    return np.array(
        [
            lr.form_factor_reference(t[(t >= lo) & (t < hi)], ensemble).mean()
            for lo, hi in itertools.pairwise(EDGES)
        ]
    )


@pytest.mark.parametrize("ensemble", ["goe", "gue", "poisson"])
def test_sampled_form_factor_matches_its_ensemble(spectra, ensemble: str) -> None:
    # The whole spectrum unfolded (no trim), a Gaussian window of σ = N/6 centred on it: the edges
    # (≥ 3σ away) get weight ≤ 1 %, and the smoothing δτ ≈ 1/(2πσ) ≈ 0.003 is far below the bins.
    # τ < 0.1 is left out: there the window's own transform and the fixed level count dominate.
    u = unfolded(spectra, ensemble, trim=0)
    ff = lr.form_factor(u, TAUS)
    assert ff.params["window"] == "gaussian"
    assert ff.params["unfolding"]["method"] == u.method
    _, mean, err = ff.binned(EDGES)
    reference = binned_reference(ensemble)
    # Bins are 0.2–0.5 wide, ≫ the τ-correlation length 1/σ ≈ 0.02: nearly independent, so the
    # sum of squared z-scores is χ² with 8 degrees of freedom.
    z = (mean - reference) / err
    assert chi2.sf(np.sum(z**2), z.size) > 0.001, z
    # Power: GOE and GUE differ by ≥ 0.1 below τ = 0.7 (errors ≈ 0.01); Poisson is flat.
    for other in {"goe", "gue", "poisson"} - {ensemble}:
        ref_other = binned_reference(other)
        assert chi2.sf(np.sum(((mean - ref_other) / err) ** 2), z.size) < 1e-10, other


def poisson_form_factor_exact(taus: np.ndarray, n: int) -> np.ndarray:
    """Connected K of n Poisson levels x_j = e_1 + … + e_j (e iid Exp(1)), no window, exactly:
    E e^{iθ(x_j − x_k)} = φ^{j−k} (j ≥ k), E e^{iθx_j} = φ^j with φ = 1/(1 − iθ), θ = 2πτ, so
    K = [n + 2 Re Σ_{d=1}^{n−1} (n − d) φ^d − |Σ_{j=1}^n φ^j|²]/n."""
    out = []
    for tau in taus:
        phi = 1.0 / (1.0 - 2j * np.pi * tau)
        d = np.arange(1, n)
        second = n + 2.0 * np.real(np.sum((n - d) * phi**d))
        first = np.sum(phi ** np.arange(1, n + 1))
        out.append((second - abs(first) ** 2) / n)
    return np.array(out)


def test_connected_form_factor_of_finite_poisson_sequences_is_exact() -> None:
    # Without a window the hard edges make ⟨S(τ)⟩ large at small τ (|⟨S⟩|²/n ≈ 1.3 at τ = 0.01,
    # n = 200): the connected subtraction must remove exactly that, leaving the finite-n law.
    n = 200
    levels = rmt.poisson_levels(n, rng(7), 400)
    taus = np.linspace(0.002, 0.1, 50)
    edges = np.array([0.002, 0.01, 0.02, 0.04, 0.07, 0.1001])
    _, mean, err = lr.form_factor(levels, taus, window="none").binned(edges)
    exact = poisson_form_factor_exact(taus, n)
    reference = np.array([exact[(taus >= lo) & (taus < hi)].mean() for lo, hi in itertools.pairwise(edges)])
    z = (mean - reference) / err
    assert chi2.sf(np.sum(z**2), z.size) > 0.001, z


def test_form_factor_without_window_and_errors() -> None:
    levels = rmt.poisson_levels(200, rng(6), 40)
    ff = lr.form_factor(levels, [0.5, 1.5], window="none")
    assert ff.params["window"] == "none"
    assert ff.values.shape == (2,) and np.all(ff.errors > 0)
    with pytest.raises(rmt.InsufficientDataError):
        lr.form_factor(levels[:1], [0.5])
    with pytest.raises(ValueError, match="unknown window"):
        lr.form_factor(levels, [0.5], window="hann")


def test_form_factor_default_window_needs_a_common_range() -> None:
    """Rows whose unfolded ranges do not overlap have no default window: one clear
    'not enough data' error (an explicit centre and width still work)."""
    rows = np.stack([np.arange(0.0, 10.0), np.arange(20.0, 30.0)])
    with pytest.raises(InsufficientDataError, match="common to all rows"):
        lr.form_factor(rows, np.array([0.5]))
    assert np.isfinite(lr.form_factor(rows, np.array([0.5]), centre=15.0, width=5.0).values).all()
