"""The Dyson façade: every name it lists is the object of the module that does the work, and the
package exports the same objects (the tests of the work are in test_rmt_dyson_processes,
test_rmt_sde_models, test_rmt_sde_fit, test_rmt_km_bins and test_rmt_grbm_sde)."""

from __future__ import annotations

import importlib

import pytest

from mpi_dbm import rmt
from mpi_dbm.rmt import dyson

HOMES = {
    "dyson_processes": ("dyson_brownian_motion", "independent_brownian_motions", "wishart_process"),
    "sde_models": ("SdeModel", "dyson_model", "linear_drift_model", "wishart_model"),
    "sde_fit": ("SdeFit", "fit_sde"),
    "km_bins": ("KramersMoyalBins", "binned_moments"),
    "grbm_sde": ("fit_grbm_dyson", "grbm_model", "grbm_relaxation_rates"),
}


def test_the_facade_lists_every_public_name_of_the_dyson_modules() -> None:
    assert sorted(dyson.__all__) == sorted(name for names in HOMES.values() for name in names)


@pytest.mark.parametrize("module", sorted(HOMES))
def test_facade_names_are_the_working_modules_objects(module: str) -> None:
    mod = importlib.import_module(f"mpi_dbm.rmt.{module}")
    assert sorted(mod.__all__) == sorted(HOMES[module])
    for name in HOMES[module]:
        assert getattr(dyson, name) is getattr(mod, name), name
        assert getattr(rmt, name) is getattr(mod, name), name
