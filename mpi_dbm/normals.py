"""Standard normals for many generators at once, bit for bit those of `Generator.standard_normal`.

`fill_rows(generators, out, start)` writes out[i, start:] ← the next normals of generators[i].
Two implementations with the same bits: numpy's own (one `standard_normal(out=...)` per row) and the
compiled `_ziggurat` (mpi_dbm/_ziggurat.c), ~3× faster per normal: numpy's ziggurat (Marsaglia &
Tsang 2000) takes a branch on each draw's random sign, which the CPU mispredicts half the time; the
compiled one computes the same accepted values without that branch and hands every other case to
numpy's own function. Its tables are read off numpy at import, not copied.

The compiled one is used when it was built (setup.py: a C compiler, and numpy at build time) and
reproduces numpy on this machine (`compiled_agrees`, checked once per process: ~3 ms); otherwise
numpy's, with one warning if the build disagrees. tests/test_normals.py checks both against
`standard_normal` for several bit generators.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import cache

import numpy as np

#: whether the compiled filler was built (else numpy's own loop runs: same bits, slower)
COMPILED: bool
try:
    from . import _ziggurat as _compiled

    COMPILED = True
except ImportError:  # built without a C compiler or without numpy's npyrandom library
    COMPILED = False

__all__ = ["COMPILED", "compiled_agrees", "fill_rows"]

#: (seed, draws) of the run-time check: ~2.6·10⁵ normals, ~70 of them from the tail (|x| > 3.65)
_CHECK = ((20241230, 1 << 17), (1, 1 << 17))


def _numpy_fill(generators: Sequence[np.random.Generator], out: np.ndarray, start: int) -> None:
    for row, gen in zip(out, generators, strict=True):
        gen.standard_normal(out=row[start:])


def _compiled_fill(generators: Sequence[np.random.Generator], out: np.ndarray, start: int) -> None:
    _compiled.fill([g.bit_generator.capsule for g in generators], out, start)


@cache
def compiled_agrees() -> bool:
    """Whether the compiled filler draws numpy's bits here (two seeds, ~2.6·10⁵ normals, the tail
    and wedge cases among them, and the state each generator is left in)."""
    if not COMPILED:
        return False
    for seed, n in _CHECK:
        ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        out = np.empty((1, n))
        _compiled_fill([ours], out, 0)
        if not np.array_equal(out[0].view(np.uint64), theirs.standard_normal(n).view(np.uint64)):
            return False
        if not np.array_equal(ours.bit_generator.random_raw(2), theirs.bit_generator.random_raw(2)):
            return False
    return True


def fill_rows(
    generators: Sequence[np.random.Generator], out: np.ndarray, start: int = 0, compiled: bool = COMPILED
) -> None:
    """out[i, start:] ← the next out.shape[1] − start standard normals of generators[i] (out: a
    C-contiguous float64 array with one row per generator), as `standard_normal` draws them.
    The compiled filler does not take the generators' locks: no other thread may draw from them
    meanwhile (a stack's streams belong to the thread training it)."""
    if compiled and COMPILED:
        if compiled_agrees():
            _compiled_fill(generators, out, start)
            return
        _warn_mismatch()
    _numpy_fill(generators, out, start)


@cache
def _warn_mismatch() -> None:
    warnings.warn(
        "the compiled normal sampler does not reproduce numpy's standard_normal with this numpy; using "
        "numpy's: same results, slower. Rebuild against the numpy you run: pip install --no-deps "
        "--no-build-isolation -e .",
        RuntimeWarning,
        stacklevel=3,
    )
