"""Linear one-hidden-layer network: config, gradients, flow to the teacher, GOE-like fluctuations at a
balanced minimum, two species, α/|B| collapse, the marginal balance direction (physics.md §3.2, §6 item 13).

Measured numbers are printed (run pytest with -s) and recorded with record_property.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from conftest import run_cli
from scipy.integrate import cumulative_trapezoid

from mpi_dbm import config, models, theory
from mpi_dbm.errors import ConfigError
from mpi_dbm.models.base import NON_FINITE, OUTSIDE_REGION
from mpi_dbm.models.linear import LinearNet
from mpi_dbm.streams import ReplicaStreams, replica_seed, shared_data_seed
from mpi_dbm.train import train_stack

BASE = """
[sweep]
replicas = 4
points = [[0.02, 16]]
[model]
kind = "linear"
{model}
[train]
steps = 10
"""


def net(model: str = "", data_seed: int = 0) -> LinearNet:
    cfg = config.parse_text(BASE.format(model=model))
    m = models.build(cfg.model, shared_data_seed(data_seed))
    assert isinstance(m, LinearNet)
    return m


def streams(n: int, root: int = 11, first: int = 0) -> ReplicaStreams:
    return ReplicaStreams([replica_seed(root, 0, r) for r in range(first, first + n)], chunk=4096)


QUENCHED = (
    'data = "finite"\ndata_per_batch = 20\norder = "fixed"\n'
    'gradient_noise = {eps}\ngradient_noise_kind = "quenched"'
)


def square(n: int) -> str:
    return f"n_in = {n}\nn_hidden = {n}\nn_out = {n}\n"


# -- config ---------------------------------------------------------------------------------------
def test_defaults_and_canonical_round_trip():
    cfg = config.parse_text(BASE.format(model=""))
    s = cfg.model
    assert (s.n_in, s.n_hidden, s.n_out, s.train) == (10, 10, 10, ("W1", "W2"))
    assert s.teacher_singular_values == ((1.0, 10),)
    assert (s.label_noise, s.gradient_noise, s.gradient_noise_kind) == (1.0, 0.0, None)
    assert (s.data, s.data_per_batch, s.order, s.init, s.init_std) == ("online", None, None, "small", 0.01)
    text = cfg.to_toml()
    assert "[target]" not in text and "order" not in text
    assert config.parse_text(text) == cfg
    full = config.parse_text(
        BASE.format(
            model='data = "finite"\norder = "fixed"\ngradient_noise = 0.5\ngradient_noise_kind = "quenched"\n'
            'train = ["W2"]\nteacher_singular_values = [[2.0, 3], [1.0, 2]]\ninit = "balanced_minimum"'
        )
    )
    assert full.model.train == ("W2",) and full.model.teacher_singular_values == ((2.0, 3), (1.0, 2))
    again = config.parse_text(full.to_toml())
    assert again == full and again.sha256 == full.sha256


@pytest.mark.parametrize(
    ("model", "key", "words"),
    [
        ('train = ["W3"]', "train[0]", "is not a layer"),
        ('train = ["W1", "W1"]', "train", "listed twice"),
        ("train = []", "train", "non-empty list"),
        ("teacher_singular_values = [[1.0, 6], [2.0, 5]]", "teacher_singular_values", "add up to 11"),
        ("teacher_singular_values = [[1.0, 2], [1.0, 3]]", "teacher_singular_values", "two species"),
        ("teacher_singular_values = [[-1.0, 2]]", "teacher_singular_values[0][0]", "must be > 0"),
        ("teacher_singular_values = [[1.0, 0]]", "teacher_singular_values[0][1]", "must be >= 1"),
        ("teacher_singular_values = [1.0, 2.0]", "teacher_singular_values[0]", "must be a pair"),
        ("label_noise = -1", "label_noise", "must be >= 0"),
        ('data = "stream"', "data", "is not one of"),
        ("data_per_batch = 10", "data_per_batch", 'only used with data = "finite"'),
        ('gradient_noise = 0.1\ngradient_noise_kind = "quenched"', "gradient_noise_kind", 'order = "fixed"'),
        ('gradient_noise_kind = "annealed"', "gradient_noise_kind", "only used with gradient_noise > 0"),
        ('init = "balanced_minimum"\ninit_std = 0.1', "init_std", 'only used with init = "small"'),
        ('init = "balanced_minimum"\nn_hidden = 5', "n_hidden", "needs n_hidden >= the teacher rank 10"),
        ("n_hiden = 5", "n_hiden", "did you mean 'n_hidden'"),
    ],
)
def test_bad_values_name_the_key(model, key, words):
    with pytest.raises(ConfigError) as err:
        config.parse_text(BASE.format(model=model))
    assert key in str(err.value) and words in str(err.value), str(err.value)


# -- teacher, shapes, gradients -------------------------------------------------------------------
def test_teacher_species_and_balanced_minimum():
    m = net("n_in = 7\nn_hidden = 6\nn_out = 5\nteacher_singular_values = [[2.0, 3], [0.5, 1]]")
    np.testing.assert_allclose(np.linalg.svd(m.teacher, compute_uv=False), [2, 2, 2, 0.5, 0], atol=1e-12)
    W1, W2 = m.balanced_minimum()
    np.testing.assert_allclose(W2 @ W1, m.teacher, atol=1e-12)
    np.testing.assert_allclose(W1 @ W1.T, W2.T @ W2, atol=1e-12)
    other = net(
        "n_in = 7\nn_hidden = 6\nn_out = 5\nteacher_singular_values = [[2.0, 3], [0.5, 1]]", data_seed=1
    )
    assert not np.allclose(other.teacher, m.teacher)  # bases from the sweep's shared seed


@pytest.mark.parametrize(
    ("sizes", "names"),
    [
        ((3, 5, 7), ("W1tW1", 3, "W2tW2", 5, 3)),
        ((6, 4, 2), ("W1W1t", 4, "W2W2t", 2, 2)),
        ((4, 4, 4), ("W1tW1", 4, "W2W2t", 4, 4)),
    ],
)
def test_recorded_spectra_use_the_smaller_gram_matrices(sizes, names):
    n_in, n_h, n_out = sizes
    m = net(f"n_in = {n_in}\nn_hidden = {n_h}\nn_out = {n_out}\nteacher_singular_values = [[1.0, 2]]")
    info = {s.name: s.size for s in m.spectra}
    assert info == {names[0]: names[1], names[2]: names[3], "W2W1_sv": names[4]}
    res = train_stack(m, 0.05, 4, streams(3), 20, 10, 10)
    for name, size in info.items():
        assert res.spectra[name].shape == (3, 3, size)
        assert np.all(np.diff(res.spectra[name], axis=-1) >= 0)  # ascending
    W1 = np.random.default_rng(0).normal(size=(1, n_h, n_in))
    W2 = np.random.default_rng(1).normal(size=(1, n_out, n_h))
    g1, g2 = m.gram(W1, W2)
    assert g1.shape[-1] == names[1] and g2.shape[-1] == names[3]
    big = np.linalg.eigvalsh(np.swapaxes(W1, 1, 2) @ W1 if n_in > n_h else W1 @ np.swapaxes(W1, 1, 2))
    np.testing.assert_allclose(
        np.linalg.eigvalsh(g1)[0], big[0, -names[1] :], atol=1e-10
    )  # same nonzero part


def test_gradients_match_finite_differences():
    m = net("n_in = 4\nn_hidden = 3\nn_out = 5\nteacher_singular_values = [[1.0, 2]]")
    rng = np.random.default_rng(2)
    W1, W2 = rng.normal(size=(3, 4)), rng.normal(size=(5, 3))
    x, y = rng.normal(size=(8, 4)), rng.normal(size=(8, 5))
    g1, g2 = m.gradients(W1[None], W2[None], (x.T @ x / 8)[None], (y.T @ x / 8)[None])
    eps = 1e-6
    for W, g, which in ((W1, g1[0], 0), (W2, g2[0], 1)):
        fd = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            d = np.zeros_like(W)
            d[idx] = eps
            args_p = (W1 + d, W2) if which == 0 else (W1, W2 + d)
            args_m = (W1 - d, W2) if which == 0 else (W1, W2 - d)
            fd[idx] = (m.batch_loss(*args_p, x, y) - m.batch_loss(*args_m, x, y)) / (2 * eps)
        np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-8)


def test_finite_fixed_order_step_is_sgd_on_the_shared_minibatches():
    m = net(square(3) + 'label_noise = 0.5\ndata = "finite"\ndata_per_batch = 3\norder = "fixed"')
    s = streams(2)
    state = m.init(s, 4)
    d = m.data(4)
    for k in (0, 1, 2, 0):
        W1, W2 = state.W1.copy(), state.W2.copy()
        x, y = d.x[4 * k : 4 * k + 4], d.y[4 * k : 4 * k + 4]
        M = W2 @ W1 @ (x.T @ x / 4) - y.T @ x / 4
        m.step(state, 0.1, 4, s)
        np.testing.assert_allclose(state.W1, W1 - 0.1 * np.swapaxes(W2, 1, 2) @ M, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(state.W2, W2 - 0.1 * M @ np.swapaxes(W1, 1, 2), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "extra",
    [
        "",
        'train = ["W1"]',
        'train = ["W2"]',
        'data = "finite"\ndata_per_batch = 50',
        'data = "finite"\ndata_per_batch = 50\norder = "fixed"',
    ],
)
def test_noiseless_runs_reach_the_teacher(extra):
    m = net(square(6) + f"teacher_singular_values = [[1.0, 3], [2.0, 3]]\nlabel_noise = 0.0\n{extra}")
    res = train_stack(m, 0.05, 8, streams(4), 3000, 1000, 100)
    assert not res.diverged.any()
    np.testing.assert_allclose(res.spectra["W2W1_sv"][:, -1], np.tile([1, 1, 1, 2, 2, 2], (4, 1)), atol=1e-9)
    assert res.scalars["loss"][:, -1].max() < 1e-12  # finite data: from data-set moments, rounding ~1e-15
    assert res.scalars["loss"][:, 0].min() > 1.0
    if extra == "":  # both layers from small init: the imbalance is conserved up to O(α²) per step
        assert res.scalars["imbalance"][:, -1].max() < 0.5


def test_balanced_minimum_is_stationary_without_noise():
    m = net(
        square(5)
        + 'teacher_singular_values = [[1.0, 2], [3.0, 3]]\nlabel_noise = 0.0\ninit = "balanced_minimum"'
    )
    res = train_stack(m, 0.05, 8, streams(2), 50, 50, 50)
    np.testing.assert_allclose(res.spectra["W1tW1"][:, -1], np.tile([1, 1, 3, 3, 3], (2, 1)), atol=1e-9)
    np.testing.assert_allclose(res.scalars["imbalance"], 0.0, atol=1e-9)
    np.testing.assert_allclose(res.scalars["loss"], 0.0, atol=1e-18)


def test_divergence_is_detected_and_parked_replicas_stay_quiet():
    m = net(square(4) + 'init = "balanced_minimum"\nlabel_noise = 0.0\ngradient_noise = 1.0')
    res = train_stack(m, 1.5, 4, streams(3), 200, 100, 10)
    assert res.diverged.all() and (res.diverged_step <= 10).all()
    assert np.isin(res.diverged_reason, [NON_FINITE, OUTSIDE_REGION]).all()
    state = m.init(streams(3), 4)
    state.W1[1, 0, 0] = np.inf
    state.W2[2, 1, 0] = -1e6
    np.testing.assert_array_equal(m.unstable(state), [0, NON_FINITE, OUTSIDE_REGION])
    assert np.isnan(res.spectra["W2W1_sv"][:, 1:]).all()


@pytest.mark.parametrize(
    "extra",
    [
        "",
        'data = "finite"\ndata_per_batch = 20',
        QUENCHED.format(eps=0.3),
        "gradient_noise = 0.3",
    ],
)
def test_a_replica_does_not_depend_on_its_stack(extra):
    m = net(square(3) + extra)
    whole = train_stack(m, 0.05, 4, streams(5), 60, 30, 30)
    parts = [train_stack(m, 0.05, 4, streams(n, first=f), 60, 30, 30) for f, n in ((0, 2), (2, 3))]
    for name in whole.spectra:
        np.testing.assert_array_equal(np.concatenate([p.spectra[name] for p in parts]), whole.spectra[name])


# -- stationary fluctuations at a balanced minimum -----------------------------------------------
EQUIL, EVERY = 200, 100  # steps; slowest relaxation rate α(w_i + w_j) ≥ 0.04 per step here


def gram_samples(model: str, lr: float, bs: int, replicas: int, steps: int, root: int, name: str = "W1tW1"):
    m = net(model)
    res = train_stack(m, lr, bs, streams(replicas, root=root), steps, EVERY, EVERY)
    assert not res.diverged.any()
    return res.spectra[name][:, EQUIL // EVERY :], res


def goe_kurtosis(n: int, samples: int = 4000) -> float:
    """⟨λ⁴⟩/⟨λ²⟩² of an n×n GOE (finite-n reference, by sampling)."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((samples, n, n))
    lam = np.linalg.eigvalsh((z + np.swapaxes(z, 1, 2)) / np.sqrt(2))
    return float(np.mean(lam**4) / np.mean(lam**2) ** 2)


@pytest.mark.slow
def test_balanced_minimum_semicircle_radius(record_property):
    """N = 20, teacher 𝟙, label noise A = 1: W₁ᵀW₁ is a GOE-like block of radius 2√(N w₀ αA/(2|B|))."""
    n, lr, bs = 20, 0.02, 16
    x, res = gram_samples(square(n) + 'init = "balanced_minimum"', lr, bs, 200, 1000, root=3)
    u = x - x.mean()
    radius = theory.radius_from_second_moment(float(np.mean(u**2)), n)
    pred = theory.linear_semicircle_radius(n, 1.0, lr, bs, 1.0)
    pred_discrete = theory.linear_semicircle_radius(n, 1.0, lr, bs, 1.0, discrete=True)
    kurt = float(np.mean(u**4) / np.mean(u**2) ** 2)
    ref = goe_kurtosis(n)
    print(
        f"\nN={n} α={lr} |B|={bs}: R = {radius:.4f}, prediction {pred:.4f} (ratio {radius / pred:.4f}), "
        f"with the discrete 1/(1-αw0) factor {pred_discrete:.4f} (ratio {radius / pred_discrete:.4f}); "
        f"centre shift {x.mean() - 1:+.4f}; kurtosis {kurt:.3f} (20x20 GOE {ref:.3f}, Gaussian 3); "
        f"imbalance at the end {res.scalars['imbalance'][:, -1].mean():.3f}"
    )
    record_property("semicircle_R_ratio", radius / pred)
    assert abs(radius / pred - 1) < 0.10
    assert abs(kurt / ref - 1) < 0.05


@pytest.mark.slow
def test_one_trained_layer_semicircle_radius(record_property):
    """W₂ frozen at U√Σ: W₁ᵀW₁ has radius 2√(N w₀ αA/|B|) (twice the variance of the two-layer case)."""
    n, lr, bs = 20, 0.02, 16
    x, _ = gram_samples(square(n) + 'init = "balanced_minimum"\ntrain = ["W1"]', lr, bs, 150, 900, root=4)
    radius = theory.radius_from_second_moment(float(np.mean((x - x.mean()) ** 2)), n)
    pred = theory.linear_semicircle_radius(n, 1.0, lr, bs, 1.0, layers=1)
    print(f"\none layer: R/prediction = {radius / pred:.4f}")
    record_property("one_layer_R_ratio", radius / pred)
    assert abs(radius / pred - 1) < 0.10


@pytest.mark.slow
def test_equal_temperature_collapse(record_property):
    """(α, |B|) = (0.02, 16) and (0.04, 32) give the same radius; (0.04, 16) a √2 larger one."""
    n = 20
    radii = {}
    for i, (lr, bs) in enumerate([(0.02, 16), (0.04, 32), (0.04, 16)]):
        x, _ = gram_samples(square(n) + 'init = "balanced_minimum"', lr, bs, 100, 700, root=20 + i)
        per_rep = np.mean((x - x.mean()) ** 2, axis=(1, 2))
        m2, err = float(per_rep.mean()), float(per_rep.std(ddof=1) / np.sqrt(len(per_rep)))
        radii[(lr, bs)] = (theory.radius_from_second_moment(m2, n), 0.5 * err / m2)
    (r1, e1), (r2, e2), (r3, _) = radii.values()
    print(
        f"\nradii: (0.02,16) {r1:.4f} ± {r1 * e1:.4f}, (0.04,32) {r2:.4f} ± {r2 * e2:.4f}, "
        f"(0.04,16) {r3:.4f}; "
        f"ratio equal-T {r2 / r1:.4f}, ratio 2x T {r3 / r1:.4f} (sqrt 2 = {np.sqrt(2):.4f})"
    )
    record_property("equal_T_radius_ratio", r2 / r1)
    assert abs(r2 / r1 - 1) < 0.05
    assert abs(r3 / r1 / np.sqrt(2) - 1) < 0.05


def cluster_moments(grid: np.ndarray, rho: np.ndarray, lo: float, hi: float) -> tuple[float, float, float]:
    """(weight, mean, variance) of the density restricted to [lo, hi]."""
    sel = (grid >= lo) & (grid <= hi)
    g, r = grid[sel], rho[sel]
    w = np.trapezoid(r, g)
    mean = np.trapezoid(g * r, g) / w
    return float(w), float(mean), float(np.trapezoid((g - mean) ** 2 * r, g) / w)


@pytest.mark.slow
def test_two_species_radii_and_dyson_density(record_property):
    """Teacher with 16 values 1.0 and 8 values 2.0: two species of radius 2√(n_s v_ss) ∝ √(n_s α/|B|),
    and the pooled density of W₁ᵀW₁ against the vector Dyson equation (physics.md §3.2)."""
    species = [[1.0, 16], [2.0, 8]]
    lr, bs = 0.02, 16
    model = square(24) + f'teacher_singular_values = {species}\ninit = "balanced_minimum"'
    x, _ = gram_samples(model, lr, bs, 150, 900, root=6)
    centres, sizes, v = theory.linear_species(species, lr, bs, 1.0)
    v_d = theory.linear_species(species, lr, bs, 1.0, discrete=True)[2]
    grid = np.linspace(0.0, 3.0, 3001)
    rho, _ = theory.dyson_density(grid, centres, sizes, v_d)  # with the O(α) discrete factors
    split = 1.5
    lines, checks = [], []
    for s, block in enumerate((x[..., :16], x[..., 16:])):
        u = block - block.mean()
        m2 = float(np.mean(u**2))
        radius = theory.radius_from_second_moment(m2, sizes[s])
        pred = theory.goe_radius(sizes[s], v[s, s])
        pred_d = theory.goe_radius(sizes[s], v_d[s, s])
        weight, mean_th, var_th = cluster_moments(grid, rho, *((0.0, split) if s == 0 else (split, 3.0)))
        # the Dyson density is the n → ∞ limit: a finite n×n GOE block has (n+1)v, not n v
        var_ratio = m2 * sizes[s] / (sizes[s] + 1) / var_th
        lines.append(
            f"species {s} (w={centres[s]}, n={sizes[s]}): R/2sqrt(n v) = {radius / pred:.4f} "
            f"(with discrete factor {radius / pred_d:.4f}); variance x n/(n+1) / Dyson cluster variance "
            f"{var_ratio:.4f}; mean {block.mean():.4f} (Dyson {mean_th:.4f}, weight {weight:.4f})"
        )
        record_property(f"species{s}_R_ratio", radius / pred)
        checks.append((radius / pred, var_ratio, block.max() < split if s == 0 else block.min() > split))
    cdf = cumulative_trapezoid(rho, grid, initial=0.0)
    emp = np.searchsorted(np.sort(x.ravel()), grid) / x.size
    ks = float(np.abs(cdf - emp).max())
    print("\n" + "\n".join(lines) + f"\nKolmogorov distance to the Dyson density: {ks:.4f}")
    record_property("two_species_ks", ks)
    for r_ratio, var_ratio, separated in checks:
        assert abs(r_ratio - 1) < 0.10
        assert abs(var_ratio - 1) < 0.15  # O(T) excess: 2.5% and 10% here, 0.5% and 0.7% at T/4
        assert separated
    assert ks < 0.05


@pytest.mark.slow
def test_balance_direction_is_marginal(record_property):
    """Label noise acts on W₁ and W₂ through the same matrix, so the imbalance W₁W₁ᵀ − W₂ᵀW₂ only moves at
    O(α²); independent gradient noise on the two layers makes it diffuse (rms ∝ √t)."""
    model = square(10) + 'init = "balanced_minimum"\n'
    _, label = gram_samples(model + "label_noise = 1.0", 0.02, 16, 50, 1600, root=8)
    _, grad = gram_samples(model + "label_noise = 0.0\ngradient_noise = 1.0", 0.02, 16, 50, 1600, root=9)
    rms = {
        k: np.sqrt(np.mean(r.scalars["imbalance"] ** 2, axis=0))
        for k, r in (("label", label), ("grad", grad))
    }
    growth = rms["grad"][16] / rms["grad"][4]  # steps 1600 vs 400: √4 = 2 for free diffusion
    print(
        f"\nrms imbalance at steps 400, 1600: label noise {rms['label'][4]:.4f}, {rms['label'][16]:.4f}; "
        f"gradient noise {rms['grad'][4]:.3f}, {rms['grad'][16]:.3f} (growth {growth:.3f}, diffusion 2)"
    )
    record_property("imbalance_growth", growth)
    assert abs(growth / 2 - 1) < 0.15
    assert rms["label"][16] < 0.05 * rms["grad"][16]


# -- MPI determinism ------------------------------------------------------------------------------
MPI_CFG = """
[sweep]
name = "linear-mpi"
seed = 5
replicas = 5
points = [[0.05, 4], [0.02, 8]]
block_size = 2
[model]
kind = "linear"
n_in = 4
n_hidden = 5
n_out = 3
teacher_singular_values = [[1.0, 2], [2.0, 1]]
{extra}
[train]
steps = 60
measure_every = 20
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "extra",
    [
        "gradient_noise = 0.2",
        QUENCHED.format(eps=0.2).replace("= 20", "= 10"),
    ],
)
def test_one_and_two_ranks_give_the_same_bits(tmp_path, extra):
    cfg = tmp_path / "lin.toml"
    cfg.write_text(MPI_CFG.format(extra=extra))
    got = []
    for ranks in (1, 2):
        out = tmp_path / f"lin{ranks}.h5"
        proc = run_cli("run", str(cfg), "-o", str(out), "--quiet", ranks=ranks)
        assert proc.returncode == 0, proc.stderr
        with h5py.File(out, "r") as f:
            assert set(f["spectra"]) == {"W1tW1", "W2W2t", "W2W1_sv"}
            assert set(f["scalars"]) == {"loss", "imbalance"}
            got.append({f"{g}/{k}": f[g][k][...] for g in ("spectra", "scalars") for k in f[g]})
    for key, value in got[0].items():
        assert np.isfinite(value).all(), key
        np.testing.assert_array_equal(got[1][key], value, err_msg=key)
