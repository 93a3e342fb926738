"""Teacher–student model: config, gradient, flow to the teacher, stationary GOE statistics (physics.md §3.1).

Measured numbers are printed (run pytest with -s) and recorded with record_property.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from conftest import run_cli

from mpi_dbm import config, models, theory
from mpi_dbm.errors import ConfigError
from mpi_dbm.models.base import NON_FINITE, OUTSIDE_REGION
from mpi_dbm.models.teacher_student import TeacherStudent
from mpi_dbm.streams import ReplicaStreams, replica_seed, shared_data_seed
from mpi_dbm.train import train_stack

BASE = """
[sweep]
replicas = 4
points = [[0.1, 16]]
[model]
kind = "teacher_student"
{model}
[train]
steps = 10
"""


def ts(model: str = "", data_seed: int = 0) -> TeacherStudent:
    cfg = config.parse_text(BASE.format(model=model))
    m = models.build(cfg.model, shared_data_seed(data_seed))
    assert isinstance(m, TeacherStudent)
    return m


def streams(n: int, root: int = 11, point: int = 0, first: int = 0) -> ReplicaStreams:
    return ReplicaStreams([replica_seed(root, point, r) for r in range(first, first + n)], chunk=1024)


# -- config ---------------------------------------------------------------------------------------
def test_defaults_and_canonical_round_trip():
    cfg = config.parse_text(BASE.format(model=""))
    s = cfg.model
    assert (s.n, s.teacher_eigenvalues, s.data_per_batch) == (2, (2.0, 2.0), 500)
    assert (s.noise, s.noise_strength, s.init, s.init_std) == ("quenched", 0.1, "random", 0.1)
    text = cfg.to_toml()
    assert "[target]" not in text
    again = config.parse_text(text)
    assert again == cfg and again.sha256 == cfg.sha256
    teacher = config.parse_text(BASE.format(model='init = "teacher"\nn = 3\nteacher_eigenvalues = [1, 2, 3]'))
    assert config.parse_text(teacher.to_toml()) == teacher
    assert "init_std" not in teacher.to_toml()


@pytest.mark.parametrize(
    ("model", "key", "words"),
    [
        ("n = 3\nteacher_eigenvalues = [1.0, 2.0]", "teacher_eigenvalues", "has 2 values but n = 3"),
        ("teacher_eigenvalues = [1.0, 2.0, 3.0]", "teacher_eigenvalues", "has 3 values"),
        ('noise = "quenchd"', "noise", "did you mean 'quenched'"),
        ("noise_strength = -0.1", "noise_strength", "must be >= 0"),
        ('noise_strength = "big"', "noise_strength", "must be a number"),
        ("data_per_batch = 0", "data_per_batch", "must be >= 1"),
        ('init = "teacher"\ninit_std = 0.1', "init_std", 'only used with init = "random"'),
        ("n = 0", "n", "must be >= 1"),
        ("noise_strenght = 0.1", "noise_strenght", "did you mean 'noise_strength'"),
    ],
)
def test_bad_values_name_the_key(model, key, words):
    with pytest.raises(ConfigError) as err:
        config.parse_text(BASE.format(model=model))
    assert key in str(err.value) and words in str(err.value), str(err.value)


def test_target_table_is_refused():
    with pytest.raises(ConfigError, match=r"\[target\] \(mass\): .* takes no \[target\] table"):
        config.parse_text(BASE.format(model="") + "[target]\nmass = 2.0\n")


# -- teacher, data, gradient ----------------------------------------------------------------------
def test_teacher_has_the_given_spectrum_in_a_shared_random_basis():
    m = ts("n = 3\nteacher_eigenvalues = [0.5, 1.0, 3.0]")
    np.testing.assert_allclose(m.teacher, m.teacher.T, atol=1e-14)
    np.testing.assert_allclose(np.linalg.eigvalsh(m.teacher), [0.5, 1.0, 3.0], atol=1e-12)
    assert abs(m.teacher[0, 1]) > 1e-3  # a random basis, not diagonal
    again = ts("n = 3\nteacher_eigenvalues = [0.5, 1.0, 3.0]")
    np.testing.assert_array_equal(again.teacher, m.teacher)  # same sweep seed, same teacher
    other = ts("n = 3\nteacher_eigenvalues = [0.5, 1.0, 3.0]", data_seed=1)
    assert not np.allclose(other.teacher, m.teacher)
    np.testing.assert_allclose(ts().teacher, 2 * np.eye(2), atol=1e-14)  # default 2·𝟙


def test_data_set_is_per_batch_size_and_shared():
    m = ts("data_per_batch = 7")
    x16, x8 = m.data_inputs(16), m.data_inputs(8)
    assert x16.shape == (7 * 16, 2) and x8.shape == (7 * 8, 2)
    assert not np.allclose(x16[: len(x8)], x8)  # one data set per batch size ...
    np.testing.assert_array_equal(ts("data_per_batch = 7").data_inputs(16), x16)  # ... drawn from the seed
    d = m.data(16)
    np.testing.assert_allclose(d.batch_cov[3], x16[48:64].T @ x16[48:64] / 16)
    np.testing.assert_allclose(d.data_cov, x16.T @ x16 / len(x16))


def test_gradient_matches_finite_differences():
    m = ts("n = 3\nteacher_eigenvalues = [0.5, 1.0, 3.0]\ndata_per_batch = 4")
    x = m.data_inputs(8)[16:24]  # minibatch k = 2
    y = x @ m.teacher.T
    W = np.random.default_rng(1).normal(size=(3, 3))

    def loss(W):
        r = y - x @ W.T
        return 0.5 * np.mean(np.sum(r * r, axis=1))

    eps = 1e-6
    fd = np.zeros_like(W)
    for i in range(3):
        for j in range(3):
            d = np.zeros_like(W)
            d[i, j] = eps
            fd[i, j] = (loss(W + d) - loss(W - d)) / (2 * eps)
    grad = m.batch_gradient(W[None], m.data(8).batch_cov[2])[0]
    np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=1e-9)


def test_noiseless_step_is_sgd_on_the_minibatches_in_fixed_order():
    m = ts("noise_strength = 0.0\ndata_per_batch = 3")
    s = streams(2)
    state = m.init(s, 4)
    x = m.data_inputs(4)
    for k in (0, 1, 2, 0):
        W = state.W.copy()
        xb = x[4 * k : 4 * k + 4]
        expected = W + 0.1 * (m.teacher - W) @ (xb.T @ xb / 4)
        m.step(state, 0.1, 4, s)
        np.testing.assert_allclose(state.W, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("teacher", ["[1.0, 3.0]", "[-1.0, 0.5]"])
def test_noiseless_runs_reach_the_teacher(teacher):
    m = ts(f"noise_strength = 0.0\nteacher_eigenvalues = {teacher}\ndata_per_batch = 50")
    res = train_stack(m, 0.1, 8, streams(5), 600, 300, 100)
    assert not res.diverged.any()
    expected = np.sort(np.abs(eval(teacher)))
    np.testing.assert_allclose(res.spectra["singular_values"][:, -1], np.tile(expected, (5, 1)), atol=1e-9)
    np.testing.assert_allclose(res.spectra["WtW"][:, -1], np.tile(expected**2, (5, 1)), atol=1e-8)
    assert res.scalars["loss"][:, -1].max() < 1e-18
    assert res.scalars["asymmetry"][:, -1].max() < 1e-9
    assert res.scalars["loss"][:, 0].min() > 0.1  # it did start away from the teacher


@pytest.mark.parametrize("noise", ["noise_strength = 0.0", 'noise = "annealed"'])
def test_divergence_is_detected(noise):
    m = ts(f"{noise}\ndata_per_batch = 50")
    res = train_stack(m, 2.6, 16, streams(3), 200, 100, 10)
    assert res.diverged.all()
    assert (res.diverged_step > 0).all() and (res.diverged_step <= 200).all()
    assert (res.diverged_reason == OUTSIDE_REGION).all()  # geometric growth crosses the bound first
    assert np.isnan(res.spectra["singular_values"][:, -1]).all()
    assert np.isfinite(res.spectra["singular_values"][:, 0]).all()


def test_divergence_codes():
    m = ts()
    state = m.init(streams(3), 4)
    state.W[1, 0, 0] = np.nan
    state.W[2, 1, 0] = 1e6
    np.testing.assert_array_equal(m.unstable(state), [0, NON_FINITE, OUTSIDE_REGION])


@pytest.mark.parametrize("noise", ["quenched", "annealed"])
def test_a_replica_does_not_depend_on_its_stack(noise):
    """Replicas 0..4 trained as one stack or as stacks {0,1} and {2,3,4}: same bits."""
    m = ts(f'noise = "{noise}"\ndata_per_batch = 20')
    whole = train_stack(m, 0.1, 8, streams(5), 100, 50, 50)
    parts = [train_stack(m, 0.1, 8, streams(n, first=f), 100, 50, 50) for f, n in ((0, 2), (2, 3))]
    for name in ("singular_values", "WtW"):
        np.testing.assert_array_equal(np.concatenate([p.spectra[name] for p in parts]), whole.spectra[name])


# -- stationary statistics ------------------------------------------------------------------------
# Steps: relaxation time 1/α = 10 steps at α = 0.1; samples ~5 relaxation times apart, at an interval
# coprime with the epoch (500 minibatches in fixed order), so that pooled snapshots visit different
# positions of the shared data set (the data set's bias at one position is several per cent).
EQUIL, EVERY = 470, 47
LONG, SHORT = 47 * 64, 47 * 22


def spacings(noise: str, lr: float, bs: int, replicas: int, data_seed: int, root: int, steps: int = SHORT):
    """S = s₂ − s₁ of the 2×2 student, (replicas, samples) from step EQUIL to `steps`, every EVERY."""
    m = ts(f'noise = "{noise}"\ninit = "teacher"', data_seed=data_seed)
    res = train_stack(m, lr, bs, streams(replicas, root=root), steps, EVERY, EVERY)
    assert not res.diverged.any()
    sv = res.spectra["singular_values"][:, EQUIL // EVERY :]
    return sv[..., 1] - sv[..., 0]


def spacing_ratio(S: np.ndarray, lr: float, bs: int, a: float = 0.01) -> tuple[float, float]:
    """⟨S⟩/√(αA/|B|) and its standard error (replicas are independent)."""
    scale = np.sqrt(lr * a / bs)
    per_replica = S.mean(axis=1) / scale
    return float(per_replica.mean()), float(per_replica.std(ddof=1) / np.sqrt(len(per_replica)))


@pytest.mark.slow
def test_annealed_spacing_and_surmise_second_moment(record_property):
    """⟨S⟩/√(αA/|B|) within 5% of √(2π/(2−α)) and ⟨s²⟩ within 3% of 4/π (physics.md §6 items 4, 6)."""
    lr, bs = 0.1, 16
    S = spacings("annealed", lr, bs, replicas=1500, data_seed=0, root=5, steps=LONG)
    ratio, err = spacing_ratio(S, lr, bs)
    pred = theory.ts_spacing_prefactor(lr)
    s2 = float(np.mean(S**2) / np.mean(S) ** 2)
    single = spacing_ratio(S[:, -1:], lr, bs)
    print(
        f"\nannealed α={lr} |B|={bs}: <S>/sqrt(αA/|B|) = {ratio:.4f} ± {err:.4f} (pooled over "
        f"{S.shape[1]} snapshots x {S.shape[0]} replicas), prediction {pred:.4f}, ratio {ratio / pred:.4f}; "
        f"final snapshot only {single[0]:.4f} ± {single[1]:.4f}; <s^2> = {s2:.4f} (4/pi = {4 / np.pi:.4f}, "
        f"ratio {s2 / (4 / np.pi):.4f})"
    )
    record_property("annealed_S_ratio", ratio / pred)
    record_property("annealed_s2_ratio", s2 / (4 / np.pi))
    assert abs(ratio / pred - 1) < 0.05
    assert abs(s2 / (4 / np.pi) - 1) < 0.03


@pytest.mark.slow
def test_quenched_spacing_over_data_seeds(record_property):
    """Quenched noise (paper): the shared data set biases ⟨S⟩ by a few % depending on its draw.

    Per data seed, the final snapshot (the paper's estimator) scatters by ~4% from seed to seed
    (printed: the measured quenched bias); its mean over 6 seeds must be within 5%, and the
    estimate pooled over 13 snapshots at different positions of the data set within 5% for
    every seed (the issue's bound is 10%).
    """
    lr, bs = 0.1, 16
    pred = theory.ts_spacing_prefactor(lr)
    final, pooled, s2 = [], [], []
    for seed in range(6):
        S = spacings("quenched", lr, bs, replicas=1500, data_seed=seed, root=100 + seed)
        final.append(spacing_ratio(S[:, -1:], lr, bs)[0] / pred)
        pooled.append(spacing_ratio(S, lr, bs)[0] / pred)
        s2.append(float(np.mean(S**2) / np.mean(S) ** 2 / (4 / np.pi)))
    final_a, pooled_a = np.array(final), np.array(pooled)
    print(
        f"\nquenched α={lr} |B|={bs}, 6 data seeds x 1500 replicas: <S>/prediction at the final snapshot "
        f"{np.round(final_a, 3)} (mean {final_a.mean():.4f}, sd {final_a.std(ddof=1):.4f}); pooled over "
        f"{S.shape[1]} snapshots {np.round(pooled_a, 3)} (mean {pooled_a.mean():.4f}, sd "
        f"{pooled_a.std(ddof=1):.4f}); <s^2>/(4/pi) {np.round(s2, 3)}"
    )
    record_property("quenched_final_ratios", final_a.tolist())
    record_property("quenched_pooled_ratios", pooled_a.tolist())
    assert abs(final_a.mean() - 1) < 0.05
    assert np.all(np.abs(pooled_a - 1) < 0.05)
    assert np.all(np.abs(np.array(s2) - 1) < 0.05)


@pytest.mark.slow
def test_equal_temperature_gives_equal_width_up_to_the_two_minus_alpha_factor(record_property):
    """(α, |B|) = (0.1, 16) and (0.2, 32): ⟨S⟩√(2−α) agree (linear scaling rule, physics.md §6 item 6)."""
    out = {}
    for point, (lr, bs) in enumerate([(0.1, 16), (0.2, 32)]):
        S = spacings("annealed", lr, bs, replicas=1500, data_seed=0, root=40 + point, steps=LONG)
        ratio, err = spacing_ratio(S, lr, bs)  # the scale √(αA/|B|) is the same for both points
        out[lr] = (ratio * np.sqrt(2 - lr), err * np.sqrt(2 - lr), ratio, err)
        print(
            f"\nα={lr} |B|={bs}: <S>/sqrt(αA/|B|) = {ratio:.4f} ± {err:.4f}, x sqrt(2-α) = {out[lr][0]:.4f} "
            f"(prediction sqrt(2π) = {np.sqrt(2 * np.pi):.4f})"
        )
    (a, ea, ra, _), (b, eb, rb, _) = out.values()
    z = abs(a - b) / np.hypot(ea, eb)
    print(
        f"corrected difference {a - b:+.4f}, z = {z:.2f}; "
        f"raw ratio {ra / rb:.4f} (predicted {np.sqrt(1.8 / 1.9):.4f})"
    )
    record_property("equal_T_z", z)
    assert z < 3
    assert abs(a / np.sqrt(2 * np.pi) - 1) < 0.05 and abs(b / np.sqrt(2 * np.pi) - 1) < 0.05


@pytest.mark.slow
@pytest.mark.parametrize("noise", ["annealed", "quenched"])
def test_diagonal_variance_is_twice_the_off_diagonal(noise, record_property):
    """Var(δW_ii) = 2 Var(δW_ij) = 2αA/((2−α)|B|) (physics.md §3.1, §6 item 5)."""
    lr, bs = 0.1, 16
    m = ts(f'noise = "{noise}"\ninit = "teacher"')
    s = streams(1000, root=77)
    state = m.init(s, bs)
    samples = []
    for step in range(1, LONG + 1):
        m.step(state, lr, bs, s)
        if step >= EQUIL and step % EVERY == 0:
            samples.append(state.W - m.teacher)
    d = np.stack(samples, axis=1)  # (R, samples, 2, 2)
    var_diag = float(np.mean(d[..., [0, 1], [0, 1]] ** 2))
    var_off = float(np.mean(d[..., [0, 1], [1, 0]] ** 2))
    v = theory.ts_offdiag_variance(lr, bs, 0.01)
    a = d[..., 0, 1] - d[..., 1, 0]
    asym = float(np.mean(a**2)) / theory.ts_asymmetry_variance(lr, bs, 0.01)
    print(
        f"\n{noise}: Var(diag)/Var(off) = {var_diag / var_off:.4f}; "
        f"Var(diag)/prediction {var_diag / (2 * v):.4f}; "
        f"Var(off)/prediction {var_off / v:.4f}; sd ratio {np.sqrt(var_diag / var_off):.4f}; "
        f"Var(W12 - W21)/prediction {asym:.3f}; mean |W - W^T| over entries {np.mean(np.abs(a)) / 2:.2e} "
        f"(paper ~3e-4) vs sd(W12) = {np.sqrt(var_off):.2e}"
    )
    record_property(f"{noise}_diag_over_off", var_diag / var_off)
    assert abs(var_diag / var_off / 2 - 1) < 0.05
    assert abs(var_off / v - 1) < 0.05
    # Var(a) over replicas at one position of the shared data set scatters by ~50% from position to
    # position (it is driven directly by the shared Ĉ_k); pooled over 55 positions: ~7%
    assert abs(asym - 1) < 0.25


@pytest.mark.slow
def test_degenerate_cluster_second_moment(record_property):
    """8×8 student, teacher 2·𝟙: ⟨(x − 2)²⟩ = (n+1) v, v = αA/((2−α)|B|) (physics.md §6 item 7)."""
    lr, bs, n = 0.1, 16, 8
    m = ts(
        f"n = {n}\nteacher_eigenvalues = {[2.0] * n}\n"
        'noise = "annealed"\ninit = "teacher"\ndata_per_batch = 100'
    )
    res = train_stack(m, lr, bs, streams(400), SHORT, EVERY, EVERY)
    x = res.spectra["singular_values"][:, EQUIL // EVERY :]
    m2 = float(np.mean((x - 2.0) ** 2))
    pred = theory.ts_cluster_second_moment(n, lr, bs, 0.01)
    print(f"\n8x8 cluster: <(x - 2)^2>/((n+1)v) = {m2 / pred:.4f}; mean shift {float(np.mean(x)) - 2:+.2e}")
    record_property("cluster_m2_ratio", m2 / pred)
    assert abs(m2 / pred - 1) < 0.05


# -- MPI determinism ------------------------------------------------------------------------------
MPI_CFG = """
[sweep]
name = "ts-mpi"
seed = 3
replicas = 7
points = [[0.1, 4], [0.2, 8]]
block_size = 2
[model]
kind = "teacher_student"
noise = "{noise}"
data_per_batch = 20
[train]
steps = 120
measure_every = 40
"""


@pytest.mark.slow
@pytest.mark.parametrize("noise", ["quenched", "annealed"])
def test_one_and_two_ranks_give_the_same_bits(tmp_path, noise):
    cfg = tmp_path / "ts.toml"
    cfg.write_text(MPI_CFG.format(noise=noise))
    got = []
    for ranks in (1, 2):
        out = tmp_path / f"ts{ranks}.h5"
        proc = run_cli("run", str(cfg), "-o", str(out), "--quiet", ranks=ranks)
        assert proc.returncode == 0, proc.stderr
        with h5py.File(out, "r") as f:
            assert set(f["spectra"]) == {"singular_values", "WtW"}
            assert set(f["scalars"]) == {"loss", "asymmetry"}
            got.append({f"{g}/{k}": f[g][k][...] for g in ("spectra", "scalars") for k in f[g]})
    for key, value in got[0].items():
        assert np.isfinite(value).all(), key
        np.testing.assert_array_equal(got[1][key], value, err_msg=key)
