"""The fits façade: every name it lists is the object of the module of its family of fits, and the
package exports the same objects (the tests of the fits are in test_rmt_fits_base,
test_rmt_fits_goe2, test_rmt_fits_bounded, test_rmt_fits_brody and test_rmt_fits_histogram)."""

from __future__ import annotations

import importlib

import pytest

from mpi_dbm import rmt
from mpi_dbm.rmt import fits

HOMES = {
    "fits_base": ("FitResult",),
    "fits_goe2": ("fit_gaussian", "fit_goe2"),
    "fits_bounded": ("fit_marchenko_pastur", "fit_semicircle"),
    "fits_brody": ("fit_brody",),
    "fits_histogram": ("fit_histogram",),
}


def test_the_facade_lists_every_public_name_of_the_fit_modules() -> None:
    assert sorted(fits.__all__) == sorted(name for names in HOMES.values() for name in names)


@pytest.mark.parametrize("module", sorted(HOMES))
def test_facade_names_are_the_working_modules_objects(module: str) -> None:
    mod = importlib.import_module(f"mpi_dbm.rmt.{module}")
    assert sorted(mod.__all__) == sorted(HOMES[module])
    for name in HOMES[module]:
        assert getattr(fits, name) is getattr(mod, name), name
        assert getattr(rmt, name) is getattr(mod, name), name
