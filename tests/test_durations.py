"""One parser and one formatter for durations (command line and job scripts)."""

from __future__ import annotations

import pytest

from mpi_dbm.durations import format_duration, parse_duration
from mpi_dbm.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("1.5", 1.5),
        ("01:30", 90),
        ("1:00:00", 3600),
        ("36:00:00", 129600),
        ("2-03:04:05", 183845),
    ],
)
def test_accepted_forms(text, seconds):
    assert parse_duration(text, "--x") == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-5", "'-5': must be positive"),
        ("0", "must be positive"),
        ("00:00:00", "must be positive"),
        ("1:60", "below 60"),
        ("1:00:60", "below 60"),
        ("1-24:00:00", "below 60"),  # and hours below 24 with a day part
        ("1-12", "use SECONDS"),
        ("1:2:3:4", "use SECONDS"),
        ("ten", "use SECONDS"),
        ("", "use SECONDS"),
    ],
)
def test_refused_forms_name_the_option(text, message):
    with pytest.raises(ConfigError, match=message) as err:
        parse_duration(text, "--time-limit")
    assert str(err.value).startswith("--time-limit: ")


def test_clock_form_refuses_bare_numbers():
    """A job script's wall time: SLURM reads a bare 30 as minutes, so it is refused, not guessed."""
    assert parse_duration("12:00:00", "--time", clock=True) == 43200
    for text in ("30", "30:00"):
        with pytest.raises(ConfigError, match="HH:MM:SS or D-HH:MM:SS"):
            parse_duration(text, "--time", clock=True)


def test_formats():
    assert format_duration(3725) == "1:02:05"
    assert format_duration(3725, pad=True) == "01:02:05"
    assert format_duration(-3) == "0:00:00"
    assert format_duration(183845, pad=True, days=True) == "2-03:04:05"
    assert format_duration(183845, pad=True) == "51:04:05"
    for seconds in (1, 59, 3600, 86399, 183845):
        assert parse_duration(format_duration(seconds, pad=True, days=True), "--x", clock=True) == seconds
