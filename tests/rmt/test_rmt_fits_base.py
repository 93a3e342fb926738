"""FitResult: a value by name, its error, and the flat record stored next to results."""

from __future__ import annotations

import numpy as np
import pytest

from mpi_dbm.rmt.fits_goe2 import fit_gaussian


def test_fit_result_record() -> None:
    fit = fit_gaussian(np.arange(10.0))
    rec = fit.record()
    assert rec["model"] == "gaussian" and rec["method"] == "ml"
    assert rec["mean"] == pytest.approx(4.5) and "sigma_err" in rec
