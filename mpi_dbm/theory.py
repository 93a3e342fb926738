"""Predicted widths, centres and densities of the recorded spectra (pure numpy).

Everything is a function of the temperature T = α/|B| (physics.md §1.3) and of the model's
non-universal constants. Sections:

- generic GOE / semicircle helpers (physics.md §1.4, §5.3);
- Gaussian RBM (physics.md §2.4–2.6): fixed point, rates, stationary (co)variances, pair
  spacing, degenerate-cluster moments, and the O(T) mean shifts;
- teacher–student (physics.md §3.1): the exact discrete-time stationary variances, with the
  O(α) factor 2/(2 − α);
- linear one-hidden-layer network (physics.md §3.2, a reconstruction): the variance profile of
  the trained layer's Gram matrix at a balanced minimum with label noise, and the semicircle
  radius 2√(N w₀ αA/(2|B|));
- the vector Dyson equation for a Wigner-type matrix with a block (species) variance profile,
  solved numerically, giving the multi-species ("generalised semicircle") density.

Conventions: "v" is an off-diagonal variance; the diagonal of a GOE-shaped block has 2v.
"""

from __future__ import annotations

import numpy as np

# -- generic ---------------------------------------------------------------------------------


def temperature(learning_rate: float, batch_size: float) -> float:
    """T = α/|B|."""
    return learning_rate / batch_size


def semicircle_density(x: np.ndarray, centre: float, radius: float) -> np.ndarray:
    """Wigner semicircle normalised to 1: 2/(πR²) √(R² − (x − c)²)."""
    u = np.asarray(x, dtype=float) - centre
    return 2.0 / (np.pi * radius**2) * np.sqrt(np.clip(radius**2 - u * u, 0.0, None))


def goe_radius(n: int, v: float) -> float:
    """Semicircle radius R = 2√(n v) of an n×n GOE block with off-diagonal variance v."""
    return 2.0 * float(np.sqrt(n * v))


def goe_second_moment(n: int, v: float) -> float:
    """Exact ⟨(λ − λ*)²⟩ per eigenvalue of an n×n GOE block (diagonal variance 2v): (n + 1) v."""
    return (n + 1) * v


def goe_mean_spacing(v: float) -> float:
    """⟨S⟩ of a 2×2 GOE block with off-diagonal variance v (diagonal 2v): √π σ = √(2π v)."""
    return float(np.sqrt(2.0 * np.pi * v))


def radius_from_second_moment(m2: float, n: int) -> float:
    """The semicircle radius R = 2√(n v) implied by a measured second moment (n + 1) v."""
    return 2.0 * float(np.sqrt(n * m2 / (n + 1)))


# -- Gaussian RBM (σ_h = 1 unless stated) ----------------------------------------------------


def grbm_fixed_point(kappa: np.ndarray, mu: float, sigma_h: float = 1.0) -> np.ndarray:
    """x*_k = (μ² − κ_k)/σ_h² (physics.md §2.4)."""
    return (mu**2 - np.asarray(kappa, dtype=float)) / sigma_h**2


def grbm_omega(kappa: np.ndarray, mu: float) -> np.ndarray:
    """Ω_k = (μ² − κ_k)/κ_k² (the authors' `Omg`)."""
    kappa = np.asarray(kappa, dtype=float)
    omega: np.ndarray = (mu**2 - kappa) / kappa**2
    return omega


def grbm_relaxation_rate(kappa: np.ndarray, mu: float, sigma_h: float = 1.0) -> np.ndarray:
    """Decay rate of ⟨δx_k(t) δx_k(0)⟩ in t = nα: γ_kk = 2σ_h²Ω_k (physics.md §2.5)."""
    return 2.0 * sigma_h**2 * grbm_omega(kappa, mu)


def grbm_covariance(x_star: np.ndarray, learning_rate: float, batch_size: float) -> np.ndarray:
    """Var(δX_kl) = T (x*_k + x*_l)/2 (1 + δ_kl) in the eigenbasis of K_φ (physics.md §2.5)."""
    x = np.asarray(x_star, dtype=float)
    t = temperature(learning_rate, batch_size)
    cov: np.ndarray = t * (x[:, None] + x[None, :]) / 2.0 * (1.0 + np.eye(len(x)))
    return cov


def grbm_single_variance(x_star: float, learning_rate: float, batch_size: float) -> float:
    """Var(x_k) = 2 T x*_k of a non-degenerate mode."""
    return 2.0 * temperature(learning_rate, batch_size) * x_star


def grbm_pair_offdiag_variance(x_star: float, learning_rate: float, batch_size: float) -> float:
    """Off-diagonal variance v = T x* of a degenerate pair (2×2 GOE, diagonal 2v)."""
    return temperature(learning_rate, batch_size) * x_star


def grbm_pair_mean_spacing(x_star: float, learning_rate: float, batch_size: float) -> float:
    """⟨S⟩ = √(2π T x*) of a degenerate pair (small-T limit, physics.md §2.5)."""
    return goe_mean_spacing(grbm_pair_offdiag_variance(x_star, learning_rate, batch_size))


def grbm_cluster_second_moment(n: int, x_star: float, learning_rate: float, batch_size: float) -> float:
    """⟨(x − x*)²⟩ = (n + 1) T x* of an n-fold degenerate cluster."""
    return goe_second_moment(n, temperature(learning_rate, batch_size) * x_star)


def grbm_cluster_radius(n: int, x_star: float, learning_rate: float, batch_size: float) -> float:
    """Semicircle radius R = 2√(n T x*) of an n-fold degenerate cluster."""
    return goe_radius(n, temperature(learning_rate, batch_size) * x_star)


def grbm_mean_shift(kappa: np.ndarray, mu: float, learning_rate: float, batch_size: float) -> np.ndarray:
    """⟨x_k⟩ − x*_k at O(T) for every mode (physics.md §2.6, fixed-basis result, σ_h = 1).

    ⟨x_k⟩ − x*_k = κ_k²/(2x_k) [ −Σ_l E_kl (2/(κ_kκ_l) + 2x_k/(κ_k²κ_l)) + (T/κ_k) Σ_l x_l(1+δ_kl)/κ_l ]
                   + Σ_{l: x_l ≠ x_k} E_kl/(x_k − x_l),   E_kl = T (x_k + x_l)/2 (1 + δ_kl).
    Degenerate partners (equal x) are excluded from the last sum; for a fully degenerate
    target this reduces to grbm_degenerate_mean_shift.
    """
    kappa = np.asarray(kappa, dtype=float)
    x = grbm_fixed_point(kappa, mu)
    t = temperature(learning_rate, batch_size)
    n = len(x)
    eye = np.eye(n)
    E = t * (x[:, None] + x[None, :]) / 2.0 * (1.0 + eye)
    kk, kl = kappa[:, None], kappa[None, :]
    xk = x[:, None]
    curvature = -np.sum(E * (2.0 / (kk * kl) + 2.0 * xk / (kk**2 * kl)), axis=1)
    ito = (t / kappa) * np.sum(x[None, :] * (1.0 + eye) / kl, axis=1)
    dx = x[:, None] - x[None, :]
    distinct = ~np.isclose(dx, 0.0, atol=1e-12 * max(1.0, float(np.abs(x).max())))
    repulsion = np.sum(np.where(distinct, E / np.where(distinct, dx, 1.0), 0.0), axis=1)
    shift: np.ndarray = kappa**2 / (2.0 * x) * (curvature + ito) + repulsion
    return shift


def grbm_degenerate_mean_shift(
    n: int, kappa: float, mu: float, learning_rate: float, batch_size: float
) -> float:
    """⟨x⟩ − x* = −½ (n + 1) T (1 + 2x*/κ) for a target K_φ = κ𝟙 of size n (physics.md §2.6)."""
    x = float(grbm_fixed_point(np.array(kappa), mu))
    return -0.5 * (n + 1) * temperature(learning_rate, batch_size) * (1.0 + 2.0 * x / kappa)


# -- teacher–student -------------------------------------------------------------------------


def ts_offdiag_variance(learning_rate: float, batch_size: float, noise_strength_sq: float) -> float:
    """Var(δW_ij), i ≠ j, of the student: αA/((2 − α)|B|) (exact for the linearised map)."""
    a = learning_rate
    return a * noise_strength_sq / ((2.0 - a) * batch_size)


def ts_diag_variance(learning_rate: float, batch_size: float, noise_strength_sq: float) -> float:
    """Var(δW_ii) = 2 αA/((2 − α)|B|)."""
    return 2.0 * ts_offdiag_variance(learning_rate, batch_size, noise_strength_sq)


def ts_asymmetry_variance(learning_rate: float, batch_size: float, noise_strength_sq: float) -> float:
    """Var(W₁₂ − W₂₁) of the 2×2 student at leading order: 8αv/((2 − α)|B|) (derived here).

    The GOE noise is symmetric; the antisymmetric part a = W₁₂ − W₂₁ is driven only by the
    data term, a' = (1 − α)a − α[E₁₂(δ₁₁ − δ₂₂) + δ₁₂(E₂₂ − E₁₁)] with E = Ĉ − 𝟙 (Var E_ii = 2/|B|,
    Var E_ij = 1/|B|), so Var(a) = 8αv/((2 − α)|B|) with v = ts_offdiag_variance. a is a
    Gaussian scale mixture (⟨|a|⟩ ≈ 0.75 sd rather than 0.80). Checked by simulation to
    within 5% at (α, |B|) = (0.1, 16); higher-order terms give ±15% at (0.1, 4) and (0.3, 16).
    """
    v = ts_offdiag_variance(learning_rate, batch_size, noise_strength_sq)
    return 8.0 * learning_rate * v / ((2.0 - learning_rate) * batch_size)


def ts_spacing_prefactor(learning_rate: float) -> float:
    """√(2π/(2 − α)): ⟨S⟩ in units of √(αA/|B|) (1.818 at α = 0.1)."""
    return float(np.sqrt(2.0 * np.pi / (2.0 - learning_rate)))


def ts_mean_spacing(learning_rate: float, batch_size: float, noise_strength_sq: float) -> float:
    """⟨S⟩ = √(2π/(2 − α)) √(αA/|B|) for the 2×2 student with teacher w𝟙 (physics.md §3.1)."""
    return goe_mean_spacing(ts_offdiag_variance(learning_rate, batch_size, noise_strength_sq))


def ts_cluster_second_moment(
    n: int, learning_rate: float, batch_size: float, noise_strength_sq: float
) -> float:
    """⟨(x − w)²⟩ = (n + 1) v, v = αA/((2 − α)|B|), for an n×n student with teacher w𝟙."""
    return goe_second_moment(n, ts_offdiag_variance(learning_rate, batch_size, noise_strength_sq))


def ts_cluster_radius(n: int, learning_rate: float, batch_size: float, noise_strength_sq: float) -> float:
    """Semicircle radius 2√(n v) of the n×n student's eigenvalues around w."""
    return goe_radius(n, ts_offdiag_variance(learning_rate, batch_size, noise_strength_sq))


# -- linear one-hidden-layer network ---------------------------------------------------------


def linear_variance_profile(
    values: np.ndarray,
    learning_rate: float,
    batch_size: float,
    label_noise: float,
    layers: int = 2,
    discrete: bool = False,
) -> np.ndarray:
    """Off-diagonal variances v_ij of the trained layer's Gram matrix at a balanced minimum.

    Linear net with N_in = N_h = N_out, teacher singular values w_i (`values`, one per
    direction or per species), label noise of variance A, balanced start (zero imbalance).
    In the teacher's singular bases each pair (δ₁_ij, δ₂_ij) relaxes along (√w_i, √w_j) at
    rate w_i + w_j (both layers trained; the orthogonal direction is the marginal balance
    direction), or δ_ij at rate w_i (one layer trained). The Gram matrix (W₁ᵀW₁ or W₂W₂ᵀ)
    then has Var(X_ij) = v_ij off the diagonal (2v_ii on it) with, to leading order in T,

        both layers:  v_ij = (TA/2) (w_i² + w_j²)/(w_i + w_j)     (= T A w₀/2 for w_i = w_j = w₀)
        one layer:    v_ij = (TA/2) (w_i + w_j)                   (= T A w₀)

    `discrete=True` includes the exact AR(1) factor 1/(1 − αγ/2) of each relaxation rate γ
    (the analogue of the teacher–student 2/(2 − α)).
    """
    w = np.asarray(values, dtype=float)
    t = temperature(learning_rate, batch_size)
    wi, wj = w[:, None], w[None, :]
    v: np.ndarray
    if layers == 2:
        factor = 1.0 / (1.0 - learning_rate * (wi + wj) / 2.0) if discrete else 1.0
        v = 0.5 * t * label_noise * (wi**2 + wj**2) / (wi + wj) * factor
        return v
    if layers == 1:
        if discrete:
            v = (
                0.5
                * t
                * label_noise
                * (wi / (1 - learning_rate * wi / 2) + wj / (1 - learning_rate * wj / 2))
            )
            return v
        v = 0.5 * t * label_noise * (wi + wj)
        return v
    raise ValueError(f"layers must be 1 or 2, got {layers}")


def linear_semicircle_radius(
    n: int,
    w0: float,
    learning_rate: float,
    batch_size: float,
    label_noise: float,
    layers: int = 2,
    discrete: bool = False,
) -> float:
    """Radius of the Gram matrix's semicircle around w₀ for teacher w₀𝟙 of size n.

    Both layers: 2√(n w₀ αA/(2|B|)) (physics.md §3.2 and §6 item 13); one layer: 2√(n w₀ αA/|B|).
    """
    v = linear_variance_profile(np.array([w0]), learning_rate, batch_size, label_noise, layers, discrete)[
        0, 0
    ]
    return goe_radius(n, float(v))


def linear_species(
    species: list[tuple[float, int]] | tuple[tuple[float, int], ...],
    learning_rate: float,
    batch_size: float,
    label_noise: float,
    layers: int = 2,
    discrete: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(centres, sizes, variances) of the species of a teacher [[value, multiplicity], ...].

    Centres c_s = w_s (the Gram matrix's fixed point is Σ), sizes n_s, and the block
    variance profile v_ss' of `linear_variance_profile`: the input of `dyson_density`.
    Species radii (far apart) are R_s = 2√(n_s v_ss) ∝ √(n_s α/|B|).
    """
    centres = np.array([float(v) for v, _ in species])
    sizes = np.array([int(m) for _, m in species])
    v = linear_variance_profile(centres, learning_rate, batch_size, label_noise, layers, discrete)
    return centres, sizes, v


# -- vector Dyson equation -------------------------------------------------------------------


def dyson_solve(
    z: np.ndarray,
    centres: np.ndarray,
    sizes: np.ndarray,
    variances: np.ndarray,
    *,
    damping: float = 0.5,
    tol: float = 1e-11,
    max_iter: int = 20000,
    m0: np.ndarray | None = None,
) -> np.ndarray:
    """Solve −1/m_s(z) = z − c_s + Σ_s' n_s' v_s's m_s'(z) for Im z > 0 by damped fixed-point iteration.

    z: complex array (K,). Returns m of shape (S, K), Im m > 0. Raises RuntimeError if the
    iteration has not converged to `tol` (relative) after `max_iter` steps.
    """
    z = np.asarray(z, dtype=complex)
    c = np.asarray(centres, dtype=float)[:, None]
    coupling = (np.asarray(variances, dtype=float) * np.asarray(sizes, dtype=float)[:, None]).T  # [s, s']
    m: np.ndarray = -1.0 / (z[None, :] - c) if m0 is None else np.array(m0, dtype=complex)
    for _ in range(max_iter):
        new = -1.0 / (z[None, :] - c + coupling @ m)
        change = np.max(np.abs(new - m) / np.maximum(np.abs(new), 1e-300))
        m = (1.0 - damping) * m + damping * new
        if change < tol:
            return m
    raise RuntimeError(f"vector Dyson equation did not converge (last relative change {change:.2e})")


def dyson_density(
    x: np.ndarray,
    centres: np.ndarray,
    sizes: np.ndarray,
    variances: np.ndarray,
    eta: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-species density on the grid x, from the vector Dyson equation (physics.md §3.2).

    ρ(x) = (1/(πN)) Σ_s n_s Im m_s(x + iη), N = Σ n_s, normalised to 1; also returns the
    species densities ρ_s (S, K), each normalised to n_s/N. η defaults to 1e-4 of the
    overall scale (largest √(N v)); the solution is continued from η = scale down to η.
    For one species it is the semicircle of radius 2√(n v).
    """
    x = np.asarray(x, dtype=float)
    sizes = np.asarray(sizes, dtype=float)
    v = np.asarray(variances, dtype=float)
    n_total = sizes.sum()
    scale = float(np.sqrt(n_total * v.max()))
    eta = 1e-4 * scale if eta is None else eta
    m = None
    for e in np.geomspace(scale, eta, 12):
        m = dyson_solve(x + 1j * e, centres, sizes, v, m0=m)
    assert m is not None
    species = sizes[:, None] * m.imag / (np.pi * n_total)
    return species.sum(axis=0), species


def block_variance_matrix(
    rng: np.random.Generator,
    centres: np.ndarray,
    sizes: np.ndarray,
    variances: np.ndarray,
) -> np.ndarray:
    """One Wigner-type symmetric matrix: diag(c_s) plus GOE-shaped noise with block variance v_ss'
    (off-diagonal v_ss', diagonal 2v_ss). For checking `dyson_density` by direct sampling."""
    sizes = np.asarray(sizes, dtype=int)
    label = np.repeat(np.arange(len(sizes)), sizes)
    sd = np.sqrt(np.asarray(variances, dtype=float)[label[:, None], label[None, :]])
    z = rng.standard_normal((len(label), len(label)))
    h: np.ndarray = (z + z.T) / np.sqrt(2.0) * sd
    h[np.diag_indices_from(h)] += np.asarray(centres, dtype=float)[label]
    return h
