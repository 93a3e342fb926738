"""SGD phase diagram of the multilayer teacher–student network: per-point observables of the
singular-value dynamics, a phase classification, the boundaries in the (T, ε) plane and the
level-spacing statistics of the learned spectra.

Source: C. Park, B. Lucini, G. Aarts, "Phase diagram and eigenvalue dynamics of stochastic gradient
descent in multilayer neural networks", arXiv:2509.01349 (2025), and the authors' release of its
code (github.com/chanjure/phase_ml: src/bin/generate.py, src/notebooks/empirical_phase.ipynb). Only
the abstract and the introduction of the paper could be read; equation numbers are therefore not
cited. Notation: the paper calls the learning rate ε and the initial width σ_W; here (as in the
configs) α is the learning rate and ε = `init_width` is σ_W. T = α/|B| is the temperature.

What is taken from the paper and its code release:

* Three dynamical regimes, told apart by the dynamics of the singular values of the trained
  matrix W (abstract). The release's Figure 1 shows the density of a soft spin φ = tanh z,
  z ~ N(0, σ_z²),

      p_tanh(φ) = exp(−artanh²φ / 2σ_z²) / ((1 − φ²) √(2π σ_z²)),

  with the critical σ_c² = 1/2 separating a "linear regime" (unimodal, σ_z² < 1/2) from a
  "jamming regime" (bimodal, spins stuck at ±1, σ_z² > 1/2). Expanding ln p_tanh around φ = 0
  gives φ²(1 − 1/(2σ_z²)) + O(φ⁴): the curvature changes sign exactly at σ_z² = 1/2
  (:func:`tanh_spin_density`, tested). The release draws this boundary as the vertical line
  1/σ_W = √2 in its (1/σ_W, T) phase diagram, i.e. ε_c = σ_c = 1/√2 (:data:`EPS_C`).
* A temperature boundary from the Langevin (Dyson Brownian motion) equation of the eigenvalues x of
  X = WWᵀ: with K̃ the mean and Ṽ the variance over samples of the per-sample update dX rotated
  to the eigenbasis of X, a replica is drift-dominated ("ordered") when

      (|K̃_11| − |K̃_KK|) / (√r (K − 1)) ≥ T · Ṽ_rep / (4 σ_W²),
      Ṽ_rep = 2 Ṽ_1K/(K − 1) + Σ_{k=1}^{K−2} (Ṽ_{1,k+1} + Ṽ_{K,K−k+1}) / k,

  r = L/K (1-based indices, eigenvalues descending; the release's code indexes the second term
  [−1, K − k] 0-based, so its k = 1 term is the diagonal Ṽ_KK — kept as written, it looks like an
  off-by-one for Ṽ_{K,K−1}); the release contours the replica fraction of this inequality. The
  critical temperature of one replica is therefore T_c = 4σ_W² (|K̃_11| − |K̃_KK|) / (√r (K − 1) Ṽ_rep)
  (:func:`langevin_critical_temperature`). It needs W, the data and the teacher, which a results
  file does not hold; :func:`empirical_temperature_boundary` locates the boundary from the
  classified points instead.

What is inferred here (not read in the paper), with the reason:

* The phases are classified from the recorded spectra with three physical signatures, measured
  in small runs of this model (report of issue #15): in the **ordered** phase (small ε, low T)
  the drift reorganises the spectrum towards the teacher's scale, the relative change
  D = ‖s_end − s_0‖/‖s_0‖ is O(1) or larger and the top singular value stays of the order of the
  teacher's Marchenko–Pastur edge s_t = w_σ(1 + √(K/L)); in the **jammed** phase (ε > ε_c, low T)
  the saturated tanh freezes the features, the spectrum keeps its initial shape (D ≪ 1); in the
  **noisy** phase (high T) the minibatch noise drives the weights to a scale set by α itself
  (s_max ≈ 2–3α after 5·10⁴ steps, independent of ε), beyond both the initial and the teacher
  scale. Criterion (:func:`classify`): *noisy* if
  s_max,end > max(NOISE_FACTOR · s_t, GROWTH_ONSET · s_max,0) — the drift towards the teacher
  overshoots its edge by at most ~1.6 (measured in the ordered phase), and a frozen spectrum keeps
  s_max within ~15 % of its start, so growth beyond both can only come from the minibatch noise
  (this also catches the onset of the noise-driven growth of a large initial spectrum,
  s_max,0 ≫ s_t); otherwise *jammed* if D < FROZEN_CHANGE; otherwise *ordered*. The thresholds
  were set on the quick recipes (then twelve single-ε files, now the one scan
  recipes/quick/multilayer.toml), whose low-T columns separate at D ≥ 0.15 (ε ≤ 1/2) against
  D ≤ 0.07 (ε ≥ 1): the measured ordered/jammed split falls on the release's ε_c = 1/√2.
  *diverged* (the authors' loss threshold, or non-finite weights) when more than half
  the replicas diverged. With tanh and
  Z ~ N(0, 1/K) the loss is bounded (|ŷ − y| ≤ 2Σ|Z_k|), so the authors' threshold 100 is
  essentially never reached; the divergent dynamics shows as unbounded growth (noisy).
  Finite training time caveat: slow learning (small α, ε just below ε_c) can look frozen.
* Level statistics: the spacing ratios r̃ of the final K singular values (no unfolding),
  ⟨r̃⟩ against GOE (Atas et al. 2013: 0.5307 for N → ∞) and Poisson (2 ln 2 − 1 ≈ 0.386).
  Real weights with isotropic noise give Dyson index β = 1 (physics.md §1.4), so the prediction
  of the DBM picture is GOE-like repulsion; what the paper shows is not known here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..rmt import InsufficientDataError, mean_spacing_ratio
from ..rmt.surmise import MEAN_RTILDE_LARGE_N, MEAN_RTILDE_SURMISE

#: the phases, in the order used for colours and codes
PHASES = ("ordered", "jammed", "noisy", "diverged")
#: σ_c² = 1/2: p_tanh turns bimodal (release, Figure 1); the release's boundary σ_W = σ_c
SIGMA_C2 = 0.5
EPS_C = math.sqrt(SIGMA_C2)
#: where the release draws the end of its ε_c line: axvline(√2, ymax=0.436) on a log T axis from
#: 0.125/4 to 256/4, i.e. T* = (1/32)·2048^0.436 ≈ 0.87 (read from the notebook, not a formula)
T_STAR_RELEASE = (0.125 / 4) * (256 / 0.125) ** 0.436
#: classification thresholds (module docstring): s_max beyond NOISE_FACTOR × the teacher edge and
#: beyond GROWTH_ONSET × its initial value is noise-driven
NOISE_FACTOR = 2.0
GROWTH_ONSET = 1.25
#: relative spectral change below which the spectrum counts as frozen at its initial state
FROZEN_CHANGE = 0.1
#: more than this fraction of diverged replicas makes a point "diverged"
DIVERGED_FRACTION = 0.5


def tanh_spin_density(phi: np.ndarray, sigma2: float) -> np.ndarray:
    """p_tanh(φ) of φ = tanh z, z ~ N(0, σ²) (change of variables; release Figure 1); 0 at |φ| ≥ 1."""
    if sigma2 <= 0:
        raise ValueError(f"sigma2 must be positive, got {sigma2}")
    phi = np.asarray(phi, dtype=float)
    inside = np.abs(phi) < 1.0
    p = np.zeros_like(phi)
    u = np.arctanh(phi[inside])
    p[inside] = np.exp(-0.5 * u**2 / sigma2) / ((1.0 - phi[inside] ** 2) * math.sqrt(2 * math.pi * sigma2))
    return p


def jammed_by_width(init_width: np.ndarray | float) -> np.ndarray:
    """The release's disorder boundary: ε > ε_c = 1/√2 (σ_W² above σ_c² = 1/2) lies on the jammed side."""
    return np.asarray(init_width, dtype=float) > EPS_C


def coulomb_repulsion(V: np.ndarray) -> np.ndarray:
    """Ṽ_rep = 2Ṽ_1K/(K − 1) + Σ_{k=1}^{K−2} (Ṽ_{1,k+1} + Ṽ_{K,K−k+1})/k of the rotated update
    variances, indexed as the release does (module docstring); eigenvalues descending; V: (..., K, K)."""
    V = np.asarray(V, dtype=float)
    K = V.shape[-1]
    if K < 2 or V.shape[-2] != K:
        raise ValueError(f"V must be (..., K, K) with K >= 2, got {V.shape}")
    out: np.ndarray = 2.0 * V[..., 0, K - 1] / (K - 1)
    for k in range(1, K - 1):
        out = out + (V[..., 0, k] + V[..., K - 1, K - k]) / k
    return out


def drift_spread(Kmat: np.ndarray) -> np.ndarray:
    """|K̃_11| − |K̃_KK|: the spread of the drift between the largest and smallest eigen-direction."""
    d = np.abs(np.diagonal(np.asarray(Kmat, dtype=float), axis1=-2, axis2=-1))
    spread: np.ndarray = d[..., 0] - d[..., -1]
    return spread


def langevin_critical_temperature(
    spread: np.ndarray | float,
    repulsion: np.ndarray | float,
    init_width: np.ndarray | float,
    n_features: int,
    ratio: float,
) -> np.ndarray:
    """T_c = 4σ_W² (|K̃_11| − |K̃_KK|) / (√r (K − 1) Ṽ_rep): below it the drift beats the
    temperature-weighted Coulomb term (release's criterion, solved for T)."""
    if n_features < 2 or ratio <= 0:
        raise ValueError("need K >= 2 and r > 0")
    s = np.asarray(spread, dtype=float)
    v = np.asarray(repulsion, dtype=float)
    e2 = np.asarray(init_width, dtype=float) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t_c: np.ndarray = 4.0 * e2 * s / (math.sqrt(ratio) * (n_features - 1) * v)
        return t_c


def langevin_ordered(
    spread: np.ndarray | float,
    repulsion: np.ndarray | float,
    temperature: float,
    init_width: float,
    n_features: int,
    ratio: float,
) -> np.ndarray:
    """The release's per-replica inequality spread/(√r(K − 1)) ≥ T·Ṽ_rep/(4σ_W²)."""
    lhs = np.asarray(spread, dtype=float) / (math.sqrt(ratio) * (n_features - 1))
    rhs = temperature * np.asarray(repulsion, dtype=float) / (4.0 * init_width**2)
    return lhs >= rhs


def teacher_edge(w_sigma: float, n_features: int, n_hidden: int) -> float:
    """Largest singular value of a K×L teacher W_t ~ N(0, w_σ²/L) for large sizes: the
    Marchenko–Pastur edge w_σ(1 + √(K/L)) (K ≤ L)."""
    k, n = sorted((n_features, n_hidden))
    return w_sigma * (1.0 + math.sqrt(k / n))


@dataclass(frozen=True)
class PointObservables:
    """Replica summaries of one (α, |B|, ε) point; NaN where no replica survived."""

    learning_rate: float
    batch_size: int
    init_width: float
    temperature: float
    n_replicas: int
    diverged_fraction: float
    change: float  # median over surviving replicas of ‖s_end − s_0‖/‖s_0‖
    s_max_initial: float  # mean over replicas of the largest singular value, first measurement
    s_max_final: float  # the same at the last measurement
    teacher_scale: float  # the teacher's largest singular value s_t
    growth: float  # s_max_final / max(s_max_initial, s_t)
    fluctuation: float  # median detrended late-time std of the levels / mean level spacing
    loss_initial: float
    loss_final: float


def _late_fluctuation(sv: np.ndarray) -> float:
    """Median over replicas of the detrended std of each level over the second half of the
    measurements, in units of the replica's mean level spacing at the end."""
    n = sv.shape[1]
    if n < 4:
        return float("nan")
    late = sv[:, n // 2 :]
    t = np.arange(late.shape[1], dtype=float)
    t -= t.mean()
    x = late - late.mean(axis=1, keepdims=True)
    slope = np.einsum("rtk,t->rk", x, t) / np.sum(t**2)
    resid = x - slope[:, None, :] * t[None, :, None]
    spacing = (late[:, -1, -1] - late[:, -1, 0]) / (sv.shape[2] - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = resid.std(axis=1).mean(axis=1) / spacing
    f = f[np.isfinite(f)]
    return float(np.median(f)) if f.size else float("nan")


def point_observables(
    singular_values: np.ndarray,
    loss: np.ndarray,
    diverged: np.ndarray,
    learning_rate: float,
    batch_size: int,
    init_width: float,
    teacher_scale: float,
) -> PointObservables:
    """Observables of one point from its replicas' records.

    singular_values: (replicas, measurements, K), ascending, NaN after a divergence; loss:
    (replicas, measurements); diverged: (replicas,) bool; teacher_scale: the teacher's largest
    singular value (:func:`teacher_edge`). Diverged replicas are left out of the spectral summaries.
    """
    sv = np.asarray(singular_values, dtype=float)
    loss = np.asarray(loss, dtype=float)
    div = np.asarray(diverged, dtype=bool)
    if sv.ndim != 3 or loss.shape != sv.shape[:2] or div.shape != sv.shape[:1]:
        raise ValueError(
            f"shapes do not match: singular values {sv.shape}, loss {loss.shape}, diverged {div.shape}"
        )
    if sv.shape[1] < 2:
        raise InsufficientDataError(2, sv.shape[1], "measurements per replica")
    keep = ~div & np.isfinite(sv).all(axis=(1, 2))
    nan = float("nan")
    if keep.any():
        s = sv[keep]
        first, last = s[:, 0], s[:, -1]
        change = float(np.median(np.linalg.norm(last - first, axis=1) / np.linalg.norm(first, axis=1)))
        s0 = float(np.mean(first[:, -1]))
        s1 = float(np.mean(last[:, -1]))
        growth = s1 / max(s0, teacher_scale)
        fluct = _late_fluctuation(s)
        loss0 = float(np.mean(loss[keep, 0]))
        loss1 = float(np.mean(loss[keep, -1]))
    else:
        change = s0 = s1 = growth = fluct = nan
        loss0 = float(np.nanmean(loss[:, 0])) if np.isfinite(loss[:, 0]).any() else nan
        loss1 = nan
    return PointObservables(
        learning_rate=float(learning_rate),
        batch_size=int(batch_size),
        init_width=float(init_width),
        temperature=float(learning_rate) / int(batch_size),
        n_replicas=int(sv.shape[0]),
        diverged_fraction=float(div.mean()) if div.size else nan,
        change=change,
        s_max_initial=s0,
        s_max_final=s1,
        teacher_scale=float(teacher_scale),
        growth=growth,
        fluctuation=fluct,
        loss_initial=loss0,
        loss_final=loss1,
    )


def classify(
    obs: PointObservables,
    noise_factor: float = NOISE_FACTOR,
    growth_onset: float = GROWTH_ONSET,
    frozen_change: float = FROZEN_CHANGE,
    diverged_fraction: float = DIVERGED_FRACTION,
) -> str:
    """The phase of one point (module docstring): diverged, noisy, jammed or ordered."""
    if not obs.diverged_fraction <= diverged_fraction or not math.isfinite(obs.growth):
        return "diverged"
    if obs.s_max_final > max(noise_factor * obs.teacher_scale, growth_onset * obs.s_max_initial):
        return "noisy"
    if obs.change < frozen_change:
        return "jammed"
    return "ordered"


def paper_phase(temperature: float, init_width: float, critical_temperature: float = T_STAR_RELEASE) -> str:
    """The phase the release's diagram assigns to (T, ε) given the temperature boundary T_c:
    noisy above T_c, else jammed for ε > ε_c and ordered below (no "diverged" region)."""
    if temperature > critical_temperature:
        return "noisy"
    return "jammed" if bool(jammed_by_width(init_width)) else "ordered"


def empirical_temperature_boundary(
    temperatures: Sequence[float], init_widths: Sequence[float], phases: Sequence[str]
) -> dict[float, float]:
    """Per ε, the geometric mean of the highest T classified ordered/jammed and the lowest T
    classified noisy or diverged, when both exist and are in that order; a measured T_c(ε)."""
    T = np.asarray(temperatures, dtype=float)
    E = np.asarray(init_widths, dtype=float)
    P = np.asarray(phases)
    out: dict[float, float] = {}
    for eps in np.unique(E):
        m = eps == E
        calm = T[m & np.isin(P, ("ordered", "jammed"))]
        hot = T[m & np.isin(P, ("noisy", "diverged"))]
        if calm.size and hot.size and calm.max() < hot.min():
            out[float(eps)] = float(math.sqrt(calm.max() * hot.min()))
    return out


@dataclass(frozen=True)
class SpacingStats:
    """⟨r̃⟩ of the final spectra of a point against the GOE and Poisson references."""

    mean: float
    error: float
    n_spectra: int
    goe: float
    poisson: float
    goe_surmise: float

    @property
    def z_goe(self) -> float:
        return (self.mean - self.goe) / self.error if self.error > 0 else float("nan")

    @property
    def z_poisson(self) -> float:
        return (self.mean - self.poisson) / self.error if self.error > 0 else float("nan")


def spacing_statistics(
    singular_values: np.ndarray, diverged: np.ndarray | None = None, trim: float = 0
) -> SpacingStats:
    """Spacing ratios r̃ of each surviving replica's last spectrum (K levels, no unfolding needed),
    ⟨r̃⟩ ± SEM over replicas (:func:`mpi_dbm.rmt.mean_spacing_ratio`), with the N → ∞ GOE value
    0.5307 and Poisson 2 ln 2 − 1 (Atas, Bogomolny, Giraud, Roux, PRL 110, 084101 (2013))."""
    sv = np.asarray(singular_values, dtype=float)
    last = sv[:, -1] if sv.ndim == 3 else sv
    if diverged is not None:
        last = last[~np.asarray(diverged, dtype=bool)]
    last = last[np.isfinite(last).all(axis=1)]
    est = mean_spacing_ratio(last, trim=trim)
    return SpacingStats(
        mean=est.value,
        error=est.error,
        n_spectra=est.n,
        goe=MEAN_RTILDE_LARGE_N["goe"][0],
        poisson=MEAN_RTILDE_SURMISE["poisson"],
        goe_surmise=MEAN_RTILDE_SURMISE["goe"],
    )


@dataclass(frozen=True)
class PhasePoint:
    observables: PointObservables
    phase: str
    spacing: SpacingStats | None


def phase_points(
    learning_rate: np.ndarray,
    batch_size: np.ndarray,
    status: np.ndarray,
    singular_values: np.ndarray,
    loss: np.ndarray,
    init_width: float,
    teacher_scale: float,
) -> list[PhasePoint]:
    """Observables, phase and spacing statistics of every (α, |B|) point of one results file's
    arrays (/tasks/learning_rate, /tasks/batch_size, /tasks/status, /spectra/singular_values,
    /scalars/loss) whose runs used [model] init_width = `init_width` (one config per ε). Pending
    tasks (status 0) are left out; status 2 is diverged."""
    lr = np.asarray(learning_rate, dtype=float)
    bs = np.asarray(batch_size)
    st = np.asarray(status)
    sv = np.asarray(singular_values, dtype=float)
    loss = np.asarray(loss, dtype=float)
    points: list[PhasePoint] = []
    for a, b in sorted({(float(x), int(y)) for x, y in zip(lr, bs, strict=True)}):
        m = (lr == a) & (bs == b) & (st != 0)
        if not m.any():
            continue
        obs = point_observables(sv[m], loss[m], st[m] == 2, a, b, init_width, teacher_scale)
        try:
            spacing: SpacingStats | None = spacing_statistics(sv[m], st[m] == 2)
        except InsufficientDataError:
            spacing = None
        points.append(PhasePoint(obs, classify(obs), spacing))
    return points
