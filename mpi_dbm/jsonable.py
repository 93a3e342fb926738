"""One conversion of result records to what `json.dumps(..., allow_nan=False)` writes.

Used for every JSON file the package writes (analysis summary.json, reproduction.json):
mappings become objects with string keys, lists and tuples arrays, NumPy scalars and arrays
their Python values (a 0-d array its value), and non-finite floats null (JSON has no NaN/inf).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["jsonable"]


def jsonable(x: Any) -> Any:
    """`x` with every container, NumPy value and non-finite float made JSON-ready (see module)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic | np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
