"""Property: no input makes the config loader raise anything but ConfigError."""

from __future__ import annotations

import contextlib
import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from mpi_dbm import config
from mpi_dbm.cost import check_resources, footprint
from mpi_dbm.errors import ConfigError

KEYS = [
    "name",
    "seed",
    "replicas",
    "learning_rates",
    "batch_sizes",
    "points",
    "schedule",
    "block_size",
    "kind",
    "n_visible",
    "n_hidden",
    "mu",
    "sigma_h",
    "init_std",
    "gibbs_steps",
    "noise",
    "init",
    "mass",
    "eigenvalues",
    "n_samples",
    "steps",
    "measure_every",
    "check_every",
    "bogus",
]
scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(
        [
            "grbm",
            "lattice",
            "spectrum",
            "pcd",
            "minibatch",
            "none",
            "static",
            "dynamic",
            "fixed_point",
            "random",
        ]
    ),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=12)
tables = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)
documents = st.dictionaries(
    st.sampled_from(["sweep", "model", "target", "train", "extra"]), st.one_of(tables, values), max_size=5
)
DEFAULT = tomllib.loads(config.default_text())


def check(doc: dict) -> None:
    """Parsing, and the size estimates of what parses (cost.py, run's pre-flight), raise only
    ConfigError."""
    with contextlib.suppress(ConfigError):
        cfg = config.parse(doc, source="fuzz")
        footprint(cfg)
        check_resources(cfg, source="fuzz")


@settings(max_examples=300, deadline=None)
@given(documents)
def test_random_documents_raise_only_config_errors(doc):
    check(doc)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted((t, k) for t in DEFAULT for k in DEFAULT[t])), values)
def test_mutations_of_the_default_raise_only_config_errors(where, value):
    table, key = where
    doc = {t: dict(v) for t, v in DEFAULT.items()}
    doc[table][key] = value
    check(doc)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_config_errors(text):
    with contextlib.suppress(ConfigError):
        config.parse_text(text, source="fuzz")
