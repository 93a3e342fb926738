"""mpi_dbm.analysis.phases: the classifier on synthetic trajectories, the release's boundary
formulas against exact results, spacing ratios against GOE/Poisson, and a small real sweep."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import run_cli
from scipy import integrate

from mpi_dbm.analysis import phases
from mpi_dbm.rmt.ensembles import goe_eigenvalues

K, L = 16, 32
TEACHER = phases.teacher_edge(1.0, K, L)


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(20250901, spawn_key=key))


def _initial(rng: np.random.Generator, eps: float, reps: int) -> np.ndarray:
    """Ascending singular values of K×L matrices W ~ N(0, ε²/L)."""
    w = rng.standard_normal((reps, K, L)) * (eps / math.sqrt(L))
    return np.sort(np.linalg.svd(w, compute_uv=False), axis=1)


def _trajectories(kind: str, seed: int, reps: int = 6, n_meas: int = 21) -> tuple[np.ndarray, np.ndarray]:
    """(singular values (reps, n_meas, K), loss (reps, n_meas)) with a known behaviour."""
    rng = _rng(seed)
    t = np.linspace(0.0, 1.0, n_meas)[None, :, None]
    if kind == "converging":  # small init relaxes to a teacher-scale fixed point
        s0 = _initial(rng, 0.125, reps)[:, None, :]
        target = np.sort(rng.uniform(0.1, TEACHER, (reps, K)), axis=1)[:, None, :]
        s = target + (s0 - target) * np.exp(-t / 0.1) + 1e-3 * rng.standard_normal((reps, n_meas, K))
        loss = np.broadcast_to(0.1 * np.exp(-t[..., 0] / 0.1) + 1e-4, (reps, n_meas)).copy()
    elif kind == "frozen":  # large init stays where it started
        s0 = _initial(rng, 8.0, reps)[:, None, :]
        s = s0 * (1.0 + 1e-3 * rng.standard_normal((reps, n_meas, K)))
        loss = np.full((reps, n_meas), 5e-3)
    elif kind == "fluctuating":  # noise drives the spectrum far beyond init and teacher, with jitter
        s0 = _initial(rng, 1.0, reps)[:, None, :]
        scale = 1.0 + 40.0 * np.sqrt(t)
        s = s0 * scale * (1.0 + 0.05 * rng.standard_normal((reps, n_meas, K)))
        loss = np.full((reps, n_meas), 2e-2)
    else:
        raise ValueError(kind)
    return np.sort(s, axis=2), loss


@pytest.mark.parametrize(
    ("kind", "eps", "expected"),
    [("converging", 0.125, "ordered"), ("frozen", 8.0, "jammed"), ("fluctuating", 1.0, "noisy")],
)
def test_classifier_on_synthetic_trajectories(kind: str, eps: float, expected: str) -> None:
    sv, loss = _trajectories(kind, seed=len(kind))
    div = np.zeros(sv.shape[0], dtype=bool)
    obs = phases.point_observables(sv, loss, div, 0.5, 4, eps, TEACHER)
    assert phases.classify(obs) == expected
    assert obs.temperature == 0.125 and obs.diverged_fraction == 0.0


def test_diverging_replicas_make_a_diverged_point() -> None:
    sv, loss = _trajectories("fluctuating", seed=3)
    div = np.array([True, True, True, True, False, False])
    sv[div, 5:] = np.nan  # the file holds NaN after a divergence
    loss[div, 5:] = np.nan
    obs = phases.point_observables(sv, loss, div, 64.0, 4, 1.0, TEACHER)
    assert obs.diverged_fraction == pytest.approx(4 / 6)
    assert phases.classify(obs) == "diverged"
    # a minority of diverged replicas leaves the phase to the survivors
    div2 = np.array([True, False, False, False, False, False])
    obs2 = phases.point_observables(sv, loss, div2, 64.0, 4, 1.0, TEACHER)
    assert phases.classify(obs2) == "noisy" and obs2.diverged_fraction == pytest.approx(1 / 6)
    all_div = phases.point_observables(sv, loss, np.ones(6, dtype=bool), 64.0, 4, 1.0, TEACHER)
    assert phases.classify(all_div) == "diverged" and math.isnan(all_div.change)


def test_tanh_spin_density_is_the_law_of_tanh_of_a_gaussian() -> None:
    for s2 in (0.1, 0.5, 2.0):
        norm, _ = integrate.quad(
            lambda p, s2=s2: float(phases.tanh_spin_density(np.array([p]), s2)[0]), -1, 1, limit=200
        )
        assert norm == pytest.approx(1.0, abs=1e-6)
    # against samples: P(|tanh z| < 1/2) for z ~ N(0, σ²) is erf(artanh(1/2)/√(2σ²))
    sigma2 = 0.8
    z = _rng(99).normal(0.0, math.sqrt(sigma2), 200_000)
    frac = np.mean(np.abs(np.tanh(z)) < 0.5)
    exact, _ = integrate.quad(lambda p: float(phases.tanh_spin_density(np.array([p]), sigma2)[0]), -0.5, 0.5)
    assert exact == pytest.approx(math.erf(math.atanh(0.5) / math.sqrt(2 * sigma2)), rel=1e-8)
    assert frac == pytest.approx(exact, abs=5 * math.sqrt(exact * (1 - exact) / z.size))


@pytest.mark.parametrize("sigma2", [0.3, 0.45, 0.49, 0.51, 0.55, 1.0])
def test_density_turns_bimodal_at_sigma_c(sigma2: float) -> None:
    """ln p(φ) − ln p(0) = φ²(1 − 1/(2σ²)) + O(φ⁴): a minimum at 0 exactly when σ² > σ_c² = 1/2."""
    phi = 1e-3
    p = phases.tanh_spin_density(np.array([0.0, phi]), sigma2)
    curvature = (math.log(p[1]) - math.log(p[0])) / phi**2
    assert curvature == pytest.approx(1.0 - 1.0 / (2.0 * sigma2), abs=1e-5)
    assert (curvature > 0) == (sigma2 > phases.SIGMA_C2)
    assert bool(phases.jammed_by_width(math.sqrt(sigma2))) == (sigma2 > 0.5)
    assert pytest.approx(1 / math.sqrt(2)) == phases.EPS_C


def test_langevin_boundary_formulas() -> None:
    # uniform rotated variances v: Ṽ_rep = 2v/(K − 1) + 2v·H_{K−2}
    for k in (3, 5, 16):
        v = 0.7
        harmonic = sum(1.0 / j for j in range(1, k - 1))
        assert phases.coulomb_repulsion(np.full((k, k), v)) == pytest.approx(
            2 * v / (k - 1) + 2 * v * harmonic
        )
    # K = 3, the release's indexing (its k = 1 term takes the diagonal Ṽ_KK): 2Ṽ_13/2 + Ṽ_12 + Ṽ_33
    V = np.arange(9.0).reshape(3, 3)
    assert phases.coulomb_repulsion(V) == pytest.approx(V[0, 2] + V[0, 1] + V[2, 2])
    assert phases.drift_spread(np.diag([-3.0, 1.0, 0.5])) == pytest.approx(2.5)
    # T_c = 4σ²·spread/(√r (K − 1) Ṽ) at a few values, and the inequality flips there
    for spread, rep, eps, kk, r in [
        (1.0, 2.0, 1.0, 16, 2.0),
        (0.3, 0.05, 0.25, 4, 1.0),
        (5.0, 1.0, 4.0, 16, 2.0),
    ]:
        tc = float(phases.langevin_critical_temperature(spread, rep, eps, kk, r))
        assert tc == pytest.approx(4 * eps**2 * spread / (math.sqrt(r) * (kk - 1) * rep))
        assert phases.langevin_ordered(spread, rep, 0.99 * tc, eps, kk, r)
        assert not phases.langevin_ordered(spread, rep, 1.01 * tc, eps, kk, r)
    assert pytest.approx(0.868, abs=1e-3) == phases.T_STAR_RELEASE
    assert phases.paper_phase(0.1, 0.125) == "ordered"
    assert phases.paper_phase(0.1, 8.0) == "jammed"
    assert phases.paper_phase(8.0, 0.125) == "noisy"


def test_teacher_edge_is_the_marchenko_pastur_edge() -> None:
    assert phases.teacher_edge(1.0, 16, 32) == pytest.approx(1 + math.sqrt(0.5))
    # large matrices approach it (finite-size edge fluctuations are O(n^(-2/3)))
    w = _rng(5).standard_normal((400, 800)) / math.sqrt(800)
    assert np.linalg.svd(w, compute_uv=False)[0] == pytest.approx(
        phases.teacher_edge(1.0, 400, 800), rel=0.02
    )


def test_empirical_temperature_boundary() -> None:
    T = [0.1, 0.5, 2.0, 0.1, 0.5, 2.0, 0.1]
    E = [0.125, 0.125, 0.125, 8.0, 8.0, 8.0, 1.0]
    P = ["ordered", "noisy", "noisy", "jammed", "jammed", "noisy", "ordered"]
    b = phases.empirical_temperature_boundary(T, E, P)
    assert b == {0.125: pytest.approx(math.sqrt(0.05)), 8.0: pytest.approx(1.0)}


def test_spacing_statistics_against_goe_and_poisson() -> None:
    goe = goe_eigenvalues(K, _rng(7), size=2000)
    st = phases.spacing_statistics(goe[:, None, :])
    # K = 16 levels: the finite-N GOE mean sits between the surmise and the N → ∞ value
    assert abs(st.mean - 0.5307) < 0.01 and st.error < 0.005
    assert st.z_poisson > 10
    pois = np.cumsum(_rng(8).exponential(size=(2000, K)), axis=1)
    sp = phases.spacing_statistics(pois[:, None, :])
    assert sp.mean == pytest.approx(2 * math.log(2) - 1, abs=4 * sp.error)
    assert sp.z_goe < -10


CONFIG = """
[sweep]
name = "phase-{tag}"
seed = {seed}
replicas = 4
points = [[0.5, 4], [32.0, 4]]

[model]
kind = "multilayer"
init_width = {eps}
batches_per_epoch = 50

[train]
steps = 5000
measure_every = 250
check_every = 50
"""


def test_small_real_sweep_matches_the_paper_deep_in_each_phase(tmp_path: Path) -> None:
    """T = 0.125 and 8 (|B| = 4) at ε = 0.125 and 8: ordered, jammed, and noisy twice."""
    found: dict[tuple[float, float], str] = {}
    for seed, eps in ((1, 0.125), (2, 8.0)):
        cfg = tmp_path / f"ml-{eps}.toml"
        cfg.write_text(textwrap.dedent(CONFIG.format(tag=seed, seed=seed, eps=eps)))
        out = tmp_path / f"ml-{eps}.h5"
        proc = run_cli("run", str(cfg), "-o", str(out), timeout=120)
        assert proc.returncode == 0, proc.stderr
        with h5py.File(out, "r") as h:
            pts = phases.phase_points(
                h["tasks/learning_rate"][:],
                h["tasks/batch_size"][:],
                h["tasks/status"][:],
                h["spectra/singular_values"][:],
                h["scalars/loss"][:],
                eps,
                TEACHER,
            )
        assert len(pts) == 2
        for p in pts:
            found[(p.observables.temperature, eps)] = p.phase
            assert p.spacing is not None and 0.3 < p.spacing.mean < 0.7
    expected = {(t, e): phases.paper_phase(t, e) for (t, e) in found}
    assert found == expected
    assert sorted(set(found.values())) == ["jammed", "noisy", "ordered"]
