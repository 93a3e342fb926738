"""One SGD step of the multilayer family for a stack of replicas (model: `multilayer.py`).

    pre_b = W a_b,   h_b = φ(pre_b),   e_b = Z h_b − y_b,   worst ← max(worst, Σ_b e_b²),
    δ_b = ((c e_b) ⊙ φ'(pre_b)) ⊙ Z,  c = α/|B|,           W ← W − Σ_b δ_b a_bᵀ

(parked replicas keep W = 0). W is held transposed, WT (R, L, K): every sum runs in a fixed order
(over l for W a_b, over k for Z h_b, over b for the gradient), each output computed alone, so a
replica's numbers never depend on the stack it is in.

Two implementations with the same bits: the compiled kernel `_multilayer_step` (C, built by
setup.py with -ffp-contract=off; its inner loops run over the K outputs and vectorise without
reordering any sum) and `ReferenceStepper` below, the same operations as numpy calls (one per term of
each sum: ~70 calls per step, several times slower). The kernel is used when it was built (any
`pip install` with a C compiler); otherwise the reference, with the same results.
tests/models/test_multilayer_step.py checks the two against each other bit for bit.

The activation φ itself is numpy's in both (the kernel calls it back); φ' is computed from h
(tanh: 1 − h²) or pre (ReLU: 1 where pre > 0, else 0). Speed: docs/performance.md, target 10.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import cache
from typing import NamedTuple, Protocol

import numpy as np

#: whether the compiled kernel was built (else the reference runs: same bits, slower)
COMPILED: bool
try:
    from . import _multilayer_step as _compiled

    COMPILED = True
except ImportError:  # built without a C compiler
    COMPILED = False

__all__ = [
    "COMPILED",
    "DERIVATIVES",
    "ReferenceStepper",
    "StepArrays",
    "Stepper",
    "compiled_stepper",
    "kernel_agrees",
    "same_step_state",
    "stepper",
]

#: φ' codes of the kernel, by activation name
DERIVATIVES = {"tanh": 0, "relu": 1, "identity": 2}

Activation = Callable[[np.ndarray, np.ndarray], None]  # (pre, h): h ← φ(pre)


class Stepper(Protocol):
    def step(self, k: int, rate: float) -> None:
        """One update of every replica on minibatch k, with rate = α/|B|."""


class StepArrays(NamedTuple):
    """One stack's arrays, kept by reference and updated in place by a step (C-contiguous; float64
    but `parked`, bool)."""

    a: np.ndarray  # (nb, R, B, L) first-layer activations of the whole data set, minibatch-major
    WT: np.ndarray  # (R, L, K) the trained matrices, transposed
    pre: np.ndarray  # (R, B, K) scratch: pre-activations W a_b
    h: np.ndarray  # (R, B, K) scratch: φ(pre), then δ
    Z: np.ndarray  # (R, 1, K) output layer
    y: np.ndarray  # (nb, R, B, 1) targets
    err: np.ndarray  # (R, B) ŷ − y of the last step
    worst: np.ndarray  # (R,) largest Σ_b (ŷ_b − y_b)² since it was last reset
    parked: np.ndarray  # (R,) replicas held at W = 0


class ReferenceStepper:
    """The compiled Stepper's operations as numpy calls, in the same order (same bits)."""

    def __init__(self, arrays: StepArrays, phi: Activation, deriv: int) -> None:
        a, WT = arrays.a, arrays.WT
        self.a, self.WT, self.pre, self.h = a, WT, arrays.pre, arrays.h
        self.Z, self.y = arrays.Z.reshape(len(WT), -1), arrays.y.reshape(a.shape[:3])
        self.err, self.worst, self.parked = arrays.err, arrays.worst, arrays.parked
        self.phi, self.deriv = phi, deriv

    def step(self, k: int, rate: float) -> None:
        a, WT, pre, h, Z, err = self.a[k], self.WT, self.pre, self.h, self.Z, self.err
        # pre[r, b, k] = Σ_l a[r, b, l] WT[r, l, k], summed over l in order
        np.multiply(a[:, :, 0:1], WT[:, None, 0, :], out=pre)
        for j in range(1, a.shape[2]):
            pre += a[:, :, j : j + 1] * WT[:, None, j, :]
        self.phi(pre, h)
        # err = Σ_k h_k Z_k − y (over k in order); worst ← max(worst, Σ_b err²), NaN wins
        out = h[:, :, 0] * Z[:, None, 0]
        for i in range(1, h.shape[2]):
            out += h[:, :, i] * Z[:, None, i]
        np.subtract(out, self.y[k], out=err)
        sq = np.zeros(len(err))
        for b in range(err.shape[1]):
            sq += err[:, b] * err[:, b]
        np.maximum(self.worst, sq, out=self.worst)
        # h ← δ = ((c err) φ'(pre)) Z
        if self.deriv == DERIVATIVES["tanh"]:
            d = 1.0 - h * h
        elif self.deriv == DERIVATIVES["relu"]:
            d = np.where(pre > 0.0, 1.0, 0.0)
        else:
            d = np.ones_like(h)
        np.multiply(d * (err * rate)[:, :, None], Z[:, None, :], out=h)
        # WT ← WT − Σ_b a_b δ_bᵀ (over b in order), parked replicas untouched
        g = a[:, 0, :, None] * h[:, 0, None, :]
        for b in range(1, a.shape[1]):
            g += a[:, b, :, None] * h[:, b, None, :]
        live = ~self.parked
        WT[live] -= g[live]


def _check_problem(batch_size: int, outputs: int) -> StepArrays:
    """A small problem with partial tiles and a parked replica (fixed seed)."""
    rng = np.random.default_rng([batch_size, outputs])
    nb, R, L = 2, 3, 9
    arrays = StepArrays(
        a=np.tanh(rng.standard_normal((nb, R, batch_size, L))),
        WT=rng.standard_normal((R, L, outputs)) / 3.0,
        pre=np.empty((R, batch_size, outputs)),
        h=np.empty((R, batch_size, outputs)),
        Z=rng.standard_normal((R, 1, outputs)) / 4.0,
        y=rng.standard_normal((nb, R, batch_size, 1)),
        err=np.empty((R, batch_size)),
        worst=np.zeros(R),
        parked=np.array([False, True, False]),
    )
    arrays.WT[1] = 0.0
    return arrays


def compiled_stepper(arrays: StepArrays, phi: Activation, activation: str) -> Stepper:
    """The compiled kernel on one stack's arrays, unchecked (`stepper` checks it first)."""
    if not COMPILED:
        raise RuntimeError("the compiled multilayer step was not built")
    nb, R, B, L = arrays.a.shape
    return _compiled.Stepper(R, B, L, arrays.WT.shape[2], nb, *arrays, phi, DERIVATIVES[activation])


def same_step_state(x: StepArrays, y: StepArrays) -> bool:
    """Bitwise equality of what a step leaves: every array, but δ (h) only of replicas not parked
    (the kernel skips theirs)."""
    live = ~x.parked
    return all(
        np.array_equal(u, v) for name, u, v in zip(StepArrays._fields, x, y, strict=True) if name != "h"
    ) and np.array_equal(x.h[live], y.h[live])


@cache
def kernel_agrees() -> bool:
    """Whether the compiled kernel computes its reference's bits (checked once per process on two
    small problems: |B| at and above the tile height, K with partial vectors). A compiler that
    reorders sums (fast-math defaults) or fuses multiply-adds despite setup.py's flags would fail."""
    if not COMPILED:
        return False

    def tanh(pre: np.ndarray, h: np.ndarray) -> None:
        np.tanh(pre, out=h)

    for batch_size, outputs in ((4, 19), (5, 9)):
        kernel, reference = _check_problem(batch_size, outputs), _check_problem(batch_size, outputs)
        steppers = (
            compiled_stepper(kernel, tanh, "tanh"),
            ReferenceStepper(reference, tanh, DERIVATIVES["tanh"]),
        )
        for n in range(4):
            for s in steppers:
                s.step(n % kernel.a.shape[0], 0.05)
        if not same_step_state(kernel, reference):
            return False
    return True


def stepper(arrays: StepArrays, phi: Activation, activation: str, compiled: bool = COMPILED) -> Stepper:
    """The stepper of one stack's arrays: the compiled one if it was built (and `compiled`) and
    reproduces the reference (kernel_agrees), else the reference."""
    if compiled and COMPILED:
        if kernel_agrees():
            return compiled_stepper(arrays, phi, activation)
        _warn_mismatch()
    return ReferenceStepper(arrays, phi, DERIVATIVES[activation])


@cache
def _warn_mismatch() -> None:
    warnings.warn(
        "the compiled multilayer step does not reproduce its numpy reference on this build (a compiler "
        "with fast-math defaults?); using the reference: same results, slower. Rebuild with gcc or "
        "clang: CC=gcc pip install --no-deps -e .",
        RuntimeWarning,
        stacklevel=3,
    )
