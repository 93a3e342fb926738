"""Gaussian RBM: target spectra, gradient, sampler, fixed point, divergence (physics.md §2)."""

from __future__ import annotations

import numpy as np
import pytest

from mpi_dbm import config, models
from mpi_dbm.models import targets
from mpi_dbm.streams import ReplicaStreams, replica_seed, shared_data_seed
from mpi_dbm.train import train_stack

BASE = """
[sweep]
replicas = 4
points = [[0.05, 16]]
[model]
kind = "grbm"
{model}
[target]
{target}
[train]
steps = 10
"""


def grbm(model: str = "", target: str = 'kind = "lattice"\nmass = 2.0') -> models.Model:
    cfg = config.parse_text(BASE.format(model=model, target=target))
    return models.build(cfg.model, shared_data_seed(0))


def streams(n: int, point: int = 0) -> ReplicaStreams:
    return ReplicaStreams([replica_seed(11, point, r) for r in range(n)])


def test_lattice_spectrum_matches_paper_values():
    kappa = targets.lattice_eigenvalues(10, 2.0)
    np.testing.assert_allclose(np.linalg.eigvalsh(targets.lattice_kernel(10, 2.0)), kappa, atol=1e-12)
    np.testing.assert_allclose(
        kappa, [4, 4.382, 4.382, 5.382, 5.382, 6.618, 6.618, 7.618, 7.618, 8], atol=1e-3
    )
    model = grbm()
    np.testing.assert_allclose(
        model.spec.fixed_point(), [1, 1.382, 1.382, 2.382, 2.382, 3.618, 3.618, 4.618, 4.618, 5], atol=1e-3
    )


def log_likelihood(model, W: np.ndarray) -> float:
    """Exact mean log-likelihood of the data: ½ log det K − ½ tr(K C_φ) (+ const)."""
    s = model.spec
    K = s.mu**2 * np.eye(s.n_visible) - s.sigma_h**2 * W.T @ W
    return 0.5 * np.linalg.slogdet(K)[1] - 0.5 * np.trace(K @ model.c_phi)


@pytest.mark.parametrize("sigma_h", [1.0, 0.7])
def test_gradient_matches_finite_differences(sigma_h):
    model = grbm(f"n_visible = 10\nn_hidden = 7\nsigma_h = {sigma_h}\nmu = 4.0")
    W = np.random.default_rng(3).normal(scale=0.5, size=(7, 10))
    grad = model.exact_gradient(W[None])[0]
    eps = 1e-6
    fd = np.zeros_like(W)
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            d = np.zeros_like(W)
            d[i, j] = eps
            fd[i, j] = (log_likelihood(model, W + d) - log_likelihood(model, W - d)) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


def test_pcd_chains_sample_the_model_covariance():
    """At fixed W, the chain average of φφᵀ converges to K⁻¹ (the Gibbs sampler is right)."""
    model = grbm("n_visible = 6\nn_hidden = 6")
    W = np.random.default_rng(5).normal(scale=0.5, size=(1, 6, 6))
    s = streams(1)
    state = model.init(s, batch_size=4000)
    state.W = W
    for _ in range(30):  # burn-in: transfer eigenvalue ≤ σ_h² x_max/μ² < 1
        model._pcd_covariance(state, s)
    est = np.mean([model._pcd_covariance(state, s)[0] for _ in range(20)], axis=0)
    exact = np.linalg.inv(model._kernel(W))[0]
    # each entry's std over 80 000 near-independent samples is ≤ ~0.005 here
    np.testing.assert_allclose(est, exact, atol=0.02)


@pytest.mark.parametrize(("n_hidden", "n_learned"), [(10, 10), (6, 6)])
def test_noiseless_flow_reaches_the_fixed_point(n_hidden, n_learned):
    """X* = (μ² − K_φ)/σ_h²; with N_h < N_v only the N_h smallest κ are learned (UV cut-off)."""
    model = grbm(f'n_hidden = {n_hidden}\nnoise = "none"')
    res = train_stack(model, 0.1, 16, streams(3), steps=20000, measure_every=20000, check_every=1000)
    x = res.spectra["X"][:, -1]
    assert x.shape == (3, n_learned)
    np.testing.assert_allclose(x, np.broadcast_to(model.spec.fixed_point(), x.shape), atol=1e-4)
    assert np.all(res.scalars["loss"][:, -1] >= -1e-12)
    if n_hidden == 10:
        assert np.all(res.scalars["loss"][:, -1] < 1e-8)
    else:  # the UV modes are not representable: KL stays positive
        assert np.all(res.scalars["loss"][:, -1] > 1e-3)


def test_fixed_point_init_is_the_fixed_point():
    model = grbm('init = "fixed_point"')
    state = model.init(streams(2), 16)
    x = np.linalg.eigvalsh(model.gram(state.W))
    np.testing.assert_allclose(x, np.broadcast_to(model.spec.fixed_point(), x.shape), atol=1e-12)
    np.testing.assert_allclose(model.exact_gradient(state.W), 0.0, atol=1e-12)


def test_minibatch_noise_fluctuates_around_the_fixed_point():
    model = grbm(
        'noise = "minibatch"\ninit = "fixed_point"', 'kind = "lattice"\nmass = 2.0\nn_samples = 2000'
    )
    res = train_stack(model, 0.02, 32, streams(8), steps=2000, measure_every=1000, check_every=100)
    x = res.spectra["X"][:, -1]
    assert not res.diverged.any()
    dev = x - model.spec.fixed_point()
    assert 0 < np.abs(dev).mean() < 0.3


def test_divergence_is_recorded_with_its_step():
    model = grbm()
    res = train_stack(model, 3.0, 4, streams(4), steps=400, measure_every=100, check_every=10)
    assert res.diverged.all()
    assert np.all(res.diverged_step > 0) and np.all(res.diverged_step % 10 == 0)
    assert set(res.diverged_reason.tolist()) <= {1, 2}
    for r, step in enumerate(res.diverged_step):
        after = np.arange(0, 401, 100) >= step
        assert np.isnan(res.spectra["X"][r, after]).all()
        assert np.isfinite(res.spectra["X"][r, ~after]).all()


def test_spectrum_target_uses_given_eigenvalues():
    model = grbm("n_visible = 3\nn_hidden = 3", 'kind = "spectrum"\neigenvalues = [5.0, 5.0, 5.0]')
    np.testing.assert_allclose(model.spec.fixed_point(), [4.0, 4.0, 4.0])
