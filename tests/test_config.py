"""Config validation: every bad value gets one clear message naming the key."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from mpi_dbm import config
from mpi_dbm.errors import ConfigError

GOOD = """
[sweep]
name = "t"
seed = 1
replicas = 4
learning_rates = [0.02, 0.04]
batch_sizes = [16, 32]

[model]
kind = "grbm"

[train]
steps = 100
measure_every = 10
"""


def parse(text: str) -> config.Config:
    return config.parse_text(text, source="test.toml")


def test_default_config_is_valid_and_small():
    cfg = config.default()
    assert cfg.model.kind == "grbm"
    temps = [lr / bs for lr, bs in cfg.sweep.points]
    assert len(temps) != len(set(temps)), "default must contain points with equal alpha/|B|"
    assert len(set(temps)) >= 2, "default must contain points with different alpha/|B|"


def test_product_grid_and_defaults():
    cfg = parse(GOOD)
    assert cfg.sweep.points == ((0.02, 16), (0.02, 32), (0.04, 16), (0.04, 32))
    assert cfg.n_tasks == 16
    assert cfg.train.measure_steps == tuple(range(0, 101, 10))
    assert cfg.model.n_visible == 10 and cfg.model.mu == 3.0 and cfg.model.noise == "pcd"


def test_canonical_text_round_trips_and_hash_is_stable():
    cfg = parse(GOOD)
    again = parse(cfg.to_toml())
    assert again == cfg
    assert again.sha256 == cfg.sha256
    assert tomllib.loads(cfg.to_toml())["sweep"]["points"][0] == [0.02, 16]
    # the same grid written as explicit points is the same sweep
    explicit = GOOD.replace(
        "learning_rates = [0.02, 0.04]\nbatch_sizes = [16, 32]",
        "points = [[0.02, 16], [0.02, 32], [0.04, 16], [0.04, 32]]",
    )
    assert parse(explicit).sha256 == cfg.sha256
    assert parse(GOOD.replace("seed = 1", "seed = 2")).sha256 != cfg.sha256


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("replicas = 4", "replicas = 0"), "[sweep] replicas: must be >= 1, got 0"),
        (("replicas = 4", 'replicas = "4"'), "[sweep] replicas: must be an integer"),
        (("replicas = 4", "replicas = 4.0"), "[sweep] replicas: must be an integer"),
        (("[0.02, 0.04]", "[0.02, -0.04]"), "learning_rates[1]: must be > 0"),
        (("[0.02, 0.04]", "[]"), "learning_rates: must not be empty"),
        (("[16, 32]", "[16, 0]"), "batch_sizes[1]: must be >= 1"),
        (("[16, 32]", "[16, 16]"), "appears twice"),
        (("seed = 1", "sed = 1"), "unknown key 'sed' (did you mean 'seed'?)"),
        (('kind = "grbm"', 'kind = "grmb"'), "'grmb' is not one of 'grbm'"),
        (
            ('kind = "grbm"', 'kind = "grbm"\nn_visble = 4'),
            "unknown key 'n_visble' (did you mean 'n_visible'?)",
        ),
        (('kind = "grbm"', 'kind = "grbm"\nmu = 2.0'), "must exceed the largest target eigenvalue"),
        (('kind = "grbm"', 'kind = "grbm"\nnoise = "pdc"'), "did you mean 'pcd'"),
        (('kind = "grbm"', 'kind = "grbm"\ngibbs_steps = 0'), "[model] gibbs_steps: must be >= 1"),
        (('kind = "grbm"', 'kind = "grbm"\ninit_std = -1'), "[model] init_std: must be > 0"),
        (("measure_every = 10", "measure_every = 30"), "30 does not divide steps = 100"),
        (("steps = 100", "steps = 0"), "[train] steps: must be >= 1"),
    ],
)
def test_bad_values_name_the_key(edit, expected):
    old, new = edit
    assert old in GOOD
    with pytest.raises(ConfigError) as err:
        parse(GOOD.replace(old, new))
    assert expected in str(err.value)
    assert str(err.value).startswith("test.toml: ")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            '[target]\nkind = "spectrum"\neigenvalues = [1.0, 2.0]\n',
            "has 2 values but [model] n_visible = 10",
        ),
        (
            '[target]\nkind = "spectrum"\neigenvalues = [0.0, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n',
            "positive definite",
        ),
        ('[target]\nkind = "spectrum"\neigenvalues = [1, 1, 1, 1, 1, 1, 1, 1, 1, 10]\n', "must exceed"),
        ('[target]\nkind = "lattice"\nn_samples = 100\n', 'only used with [model] noise = "minibatch"'),
        ('[target]\nkind = "lattis"\n', "did you mean 'lattice'"),
        ('[target]\nkind = "lattice"\neigenvalues = [1.0]\n', 'only used with kind = "spectrum"'),
        ("[bogus]\nx = 1\n", "unknown key 'bogus'"),
    ],
)
def test_bad_target_and_tables(extra, expected):
    with pytest.raises(ConfigError) as err:
        parse(GOOD + extra)
    assert expected in str(err.value)


def test_grid_must_be_given_once():
    with pytest.raises(ConfigError, match="needs the grid"):
        parse(GOOD.replace("batch_sizes = [16, 32]\n", ""))
    with pytest.raises(ConfigError, match="not both"):
        parse(GOOD.replace("[sweep]", "[sweep]\npoints = [[0.1, 4]]"))
    with pytest.raises(ConfigError, match=r"points\[0\]: must be a pair"):
        parse(GOOD.replace("learning_rates = [0.02, 0.04]\nbatch_sizes = [16, 32]", "points = [[0.1]]"))


def test_schedule_choice_and_missing_tables():
    with pytest.raises(
        ConfigError, match="'dynamik' is not one of 'dynamic', 'static' \\(did you mean 'dynamic'\\?\\)"
    ):
        parse(GOOD.replace("[sweep]", '[sweep]\nschedule = "dynamik"'))
    with pytest.raises(ConfigError, match=r"missing table \[train\]"):
        parse(GOOD.split("[train]")[0])
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse("[sweep\n")


def test_load_reports_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        config.load(tmp_path / "nope.toml")


def test_compatibility_hash_ignores_only_result_neutral_keys():
    """Schedule and block size change no result: the compatibility hash (resume, merge) ignores
    them; the text hash stored in a results file still records them; every other key counts."""
    cfg = parse(GOOD)
    knobs = parse(GOOD.replace("[sweep]", '[sweep]\nschedule = "static"\nblock_size = 3'))
    assert knobs.sha256 != cfg.sha256
    assert knobs.compat_sha256 == cfg.compat_sha256
    assert config.compatibility_sha256(knobs.to_toml()) == cfg.compat_sha256
    for old, new in (
        ("seed = 1", "seed = 2"),
        ("replicas = 4", "replicas = 5"),
        ("steps = 100", "steps = 50"),
    ):
        assert parse(GOOD.replace(old, new)).compat_sha256 != cfg.compat_sha256, new


def test_measure_every_beyond_steps_suggests_distinct_fixes():
    with pytest.raises(ConfigError) as err:
        parse(GOOD.replace("measure_every = 10", "measure_every = 300"))
    message = str(err.value)
    assert "[train] measure_every: 300 exceeds steps = 100" in message
    assert "measure_every = 100" in message and "steps = 300" in message
    assert "300 or 300" not in message


TS = """
[sweep]
replicas = 2
points = [[0.1, 4]]
[model]
kind = "{kind}"
{model}
[train]
steps = 10
"""


@pytest.mark.parametrize(
    ("kind", "teacher"),
    [("teacher_student", "[model] teacher_eigenvalues"), ("linear", "[model] teacher_singular_values")],
)
def test_a_target_table_on_a_family_without_one_says_so(kind, teacher):
    with pytest.raises(ConfigError) as err:
        parse(TS.format(kind=kind, model="") + "[target]\nmass = 2.0\n")
    message = str(err.value)
    assert f'[target] (mass): [model] kind = "{kind}" takes no [target] table' in message
    assert teacher in message and "known keys" not in message


def test_a_table_that_takes_no_keys_does_not_list_empty_known_keys():
    from mpi_dbm.tables import Table

    table = Table("extra", {"x": 1}, "test.toml")
    with pytest.raises(ConfigError) as err:
        table.done()
    assert str(err.value) == "test.toml: [extra] (x): this table takes no keys; remove the table"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            TS.format(kind="teacher_student", model="teacher_eigenvalues = [1e300, 1.0]"),
            "teacher_eigenvalues[0]",
        ),
        (
            TS.format(kind="teacher_student", model="teacher_eigenvalues = [-1e60, 1.0]"),
            "teacher_eigenvalues[0]",
        ),
        (
            TS.format(kind="linear", model="teacher_singular_values = [[1e300, 1]]"),
            "teacher_singular_values[0][0]",
        ),
        (TS.format(kind="linear", model="label_noise = 1e300"), "label_noise"),
        (GOOD.replace('kind = "grbm"', 'kind = "grbm"\nmu = 1e300'), "mu"),
        (GOOD + '[target]\nkind = "lattice"\nmass = 1e200\n', "mass"),
        (
            GOOD + '[target]\nkind = "spectrum"\neigenvalues = [1e300, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n',
            "eigenvalues[0]",
        ),
    ],
)
def test_absurd_scales_are_refused(text, key):
    with pytest.raises(ConfigError) as err:
        parse(text)
    assert f"] {key}" in str(err.value) and "out of scale" in str(err.value), str(err.value)


def test_the_largest_accepted_scale_gives_finite_spectra():
    """At the scale limit the recorded squares stay finite (the reason for the limit)."""
    from mpi_dbm import models
    from mpi_dbm.streams import ReplicaStreams, replica_seed, shared_data_seed
    from mpi_dbm.tables import MAX_SCALE
    from mpi_dbm.train import train_stack

    cfg = parse(
        TS.format(
            kind="teacher_student", model=f'init = "teacher"\nteacher_eigenvalues = [{MAX_SCALE!r}, 1.0]'
        )
    )
    model = models.build(cfg.model, shared_data_seed(0))
    out = train_stack(model, 0.1, 4, ReplicaStreams([replica_seed(0, 0, r) for r in range(2)]), 10, 5, 5)
    assert not out.diverged.any()
    for values in (*out.spectra.values(), *out.scalars.values()):
        assert np.isfinite(values).all()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (GOOD.replace('kind = "grbm"', 'kind = "grbm"\nn_visible = 1000000000'), "n_visible"),
        (TS.format(kind="teacher_student", model="n = 1000000000"), "n"),
        (TS.format(kind="linear", model="n_out = 1000000000"), "n_out"),
    ],
)
def test_matrix_dimensions_beyond_any_memory_are_refused_without_allocating(text, key):
    """Parsing used to build arrays of the dimension (lattice eigenvalues, a default teacher
    spectrum) and died with MemoryError; it now refuses the value."""
    with pytest.raises(ConfigError, match=rf"\[model\] {key}: must be <= 100000, got 1000000000"):
        parse(text)
