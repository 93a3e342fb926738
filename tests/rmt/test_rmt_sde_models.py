"""The SDE models evaluate their drift and diffusion exactly (two levels by hand) and carry the
predictions of the exact processes: Dyson a = σ²/2, c = σ²; Bru a = σ², b = nσ², c = 4σ²."""

from __future__ import annotations

import numpy as np
import pytest

from mpi_dbm.rmt.sde_models import dyson_model, linear_drift_model, wishart_model


def test_dyson_model_two_levels_by_hand() -> None:
    model = dyson_model(1.2, rate=0.5, centre=1.0)
    assert model.drift_names == ("repulsion", "constant", "rate")
    assert dict(model.predicted) == pytest.approx(
        {"repulsion": 0.72, "constant": 0.0, "diffusion": 1.44, "beta": 1.0, "rate": 0.5}
    )
    x = np.array([[0.0, 2.0]])
    coef = {"repulsion": 0.5, "constant": 0.1, "rate": 2.0, "diffusion": 3.0}
    # D1_i = a/(x_i − x_j) + b − γ(x_i − centre)
    np.testing.assert_allclose(model.drift(x, coef), [[-0.25 + 0.1 + 2.0, 0.25 + 0.1 - 2.0]])
    np.testing.assert_allclose(model.diffusion(x, coef), [[3.0, 3.0]])
    assert model.beta_factor == 2.0 and model.lower_bound is None
    assert dyson_model().drift_names == ("repulsion", "constant") and not dyson_model().predicted


def test_wishart_model_two_levels_by_hand() -> None:
    model = wishart_model(0.5, 8)
    assert dict(model.predicted) == pytest.approx(
        {"repulsion": 0.25, "constant": 2.0, "diffusion": 1.0, "beta": 1.0}
    )
    x = np.array([[1.0, 3.0]])
    coef = {"repulsion": 0.25, "constant": 2.0, "diffusion": 1.0}
    # D1_i = a (x_i + x_j)/(x_i − x_j) + b, D2_i = c x_i
    np.testing.assert_allclose(model.drift(x, coef), [[0.25 * -2.0 + 2.0, 0.25 * 2.0 + 2.0]])
    np.testing.assert_allclose(model.diffusion(x, coef), [[1.0, 3.0]])
    assert model.beta_factor == 4.0 and model.lower_bound == 0.0


def test_linear_drift_model_has_no_repulsion() -> None:
    model = linear_drift_model(centre=1.0)
    assert model.drift_names == ("rate", "constant") and model.beta_factor is None
    x = np.array([[0.0, 3.0]])
    np.testing.assert_allclose(model.drift(x, {"rate": 2.0, "constant": 0.5}), [[2.5, -3.5]])
