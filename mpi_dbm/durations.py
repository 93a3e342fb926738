"""Durations on the command line and in job scripts: one parser, one formatter.

Accepted forms (the SLURM ones): `SECONDS`, `MM:SS`, `HH:MM:SS`, `D-HH:MM:SS`; with `clock=True`
only `HH:MM:SS` and `D-HH:MM:SS` (a job script's wall time: SLURM reads a bare `30` as minutes,
so a bare number is refused there rather than guessed). Hours may exceed 23 without a day part;
minutes and seconds after a colon are below 60; with a day part the hours are below 24.
"""

from __future__ import annotations

import math
import re

from .errors import ConfigError

__all__ = ["format_duration", "parse_duration"]

_FORM = re.compile(r"^(?:(\d+)-)?(\d+(?:\.\d*)?)(?::(\d+(?:\.\d*)?))?(?::(\d+(?:\.\d*)?))?$")


def parse_duration(text: str, option: str, *, clock: bool = False) -> float:
    """Seconds (> 0, finite) from one of the accepted forms; ConfigError naming `option` otherwise."""
    forms = "HH:MM:SS or D-HH:MM:SS (e.g. 12:00:00)" if clock else "SECONDS, MM:SS, HH:MM:SS or D-HH:MM:SS"
    stripped = text.strip()
    if stripped.startswith("-"):
        raise ConfigError(f"{option}: {text!r}: must be positive")
    m = _FORM.match(stripped)
    if m is None:
        raise ConfigError(f"{option}: {text!r}: use {forms}")
    day, *fields = m.groups()
    parts = [float(f) for f in fields if f is not None]
    if (clock and len(parts) != 3) or (day is not None and len(parts) != 3):
        raise ConfigError(f"{option}: {text!r}: use {forms}")
    if any(p >= 60 for p in parts[1:]) or (day is not None and parts[0] >= 24):
        raise ConfigError(
            f"{option}: {text!r}: use {forms}, minutes and seconds below 60 (hours below 24 after a day)"
        )
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + p
    seconds += int(day or 0) * 86400
    if not 0 < seconds < math.inf:
        raise ConfigError(f"{option}: {text!r}: must be positive and finite")
    return seconds


def format_duration(seconds: float, *, pad: bool = False, days: bool = False) -> str:
    """`H:MM:SS` (hours unpadded and unbounded), `HH:MM:SS` with `pad`, and `D-HH:MM:SS` from one
    day on with `days` (the job-script forms). Negative durations show as zero."""
    h, rest = divmod(max(0, round(seconds)), 3600)
    m, s = divmod(rest, 60)
    if days and h >= 24:
        return f"{h // 24}-{h % 24:02d}:{m:02d}:{s:02d}"
    return f"{h:02d}:{m:02d}:{s:02d}" if pad else f"{h}:{m:02d}:{s:02d}"
