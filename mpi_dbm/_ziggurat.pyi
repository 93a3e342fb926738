"""Types of the compiled normal sampler _ziggurat.c (see normals.py)."""

from collections.abc import Sequence

import numpy as np

def fill(capsules: Sequence[object], out: np.ndarray, start: int) -> None: ...
