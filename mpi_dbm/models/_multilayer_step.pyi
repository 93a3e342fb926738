"""Types of the compiled kernel _multilayer_step.c (see multilayer_step.py)."""

from collections.abc import Callable

import numpy as np

class Stepper:
    def __init__(
        self,
        R: int,
        B: int,
        L: int,
        K: int,
        nb: int,
        a: np.ndarray,
        WT: np.ndarray,
        pre: np.ndarray,
        h: np.ndarray,
        Z: np.ndarray,
        y: np.ndarray,
        err: np.ndarray,
        worst: np.ndarray,
        parked: np.ndarray,
        phi: Callable[[np.ndarray, np.ndarray], None],
        deriv: int,
    ) -> None: ...
    def step(self, k: int, rate: float) -> None: ...
