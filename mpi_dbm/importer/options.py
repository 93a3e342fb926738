"""What `mpi-dbm import` was asked to do: the options, checked, and the text forms they come in.

Every problem is a ConfigError (exit code 2) with one line naming the option and the fix.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import ConfigError
from ..models.imported import FIXED_KEYS, LABEL_NAME, SPECTRUM_NAME, Label

#: the axis names of a stacked array; `row` and `col` are required, the others default to size 1
AXIS_NAMES = ("replica", "snapshot", "row", "col")
DEFAULT_AXES = "replica,snapshot,row,col"
#: the suffix of the null-model spectrum stored beside each imported one
SHUFFLED = ".shuffled"


@dataclass(frozen=True)
class ImportOptions:
    """Everything but the inputs. Hyper-parameters come from options or from arrays in the files."""

    keys: tuple[str, ...] = ("W",)  # arrays (tensors) whose spectra are imported
    axes: tuple[str, ...] = tuple(DEFAULT_AXES.split(","))  # axis meaning of a stacked array
    learning_rate: float | None = None
    batch_size: int | None = None
    params: tuple[tuple[str, Label], ...] = ()  # constant labels (--param NAME=VALUE)
    lr_key: str | None = None  # scalar arrays in each file
    bs_key: str | None = None
    param_keys: tuple[str, ...] = ()
    steps: tuple[int, ...] | None = None  # measured step of each snapshot
    steps_key: str | None = None
    replica_from: str | None = None  # checkpoints: regular expressions on the path
    snapshot_from: str | None = None
    name: str = "imported"
    seed: int = 0
    shuffled: bool = True
    force: bool = False

    def __post_init__(self) -> None:
        check_options(self)


def check_options(o: ImportOptions) -> None:
    if not o.keys:
        raise ConfigError("--key: name at least one array to import")
    for key in o.keys:
        if not SPECTRUM_NAME.match(key):
            raise ConfigError(f"--key {key!r}: not usable as a spectrum name (no '/', not '.' or '..')")
        if o.shuffled and key.endswith(SHUFFLED):
            raise ConfigError(f"--key {key!r}: names ending in {SHUFFLED!r} are the null models; rename it")
    if len(set(o.keys)) != len(o.keys):
        raise ConfigError(f"--key: an array is named twice ({', '.join(o.keys)})")
    if o.learning_rate is not None and o.lr_key is not None:
        raise ConfigError("give --learning-rate or --lr-key, not both")
    if o.batch_size is not None and o.bs_key is not None:
        raise ConfigError("give --batch-size or --bs-key, not both")
    if o.steps is not None and o.steps_key is not None:
        raise ConfigError("give --steps or --steps-key, not both")
    names = [n for n, _ in o.params] + list(o.param_keys)
    for n in names:
        if not LABEL_NAME.match(n) or n in FIXED_KEYS:
            why = "is a key of the family" if n in FIXED_KEYS else "must be letters, digits, '_' and '-'"
            raise ConfigError(f"--param/--param-key {n!r}: a label's name {why}")
    if len(set(names)) != len(names):
        raise ConfigError(f"--param/--param-key: a label is given twice ({', '.join(names)})")
    if not o.name.strip():
        raise ConfigError("--name must not be empty")


def parse_axes(text: str) -> tuple[str, ...]:
    """'replica,snapshot,row,col' (any order; replica and snapshot may be left out)."""
    axes = tuple(a.strip() for a in text.split(","))
    wrong = [a for a in axes if a not in AXIS_NAMES]
    if wrong or len(set(axes)) != len(axes) or not {"row", "col"} <= set(axes):
        raise ConfigError(
            f"--axes {text!r}: name each axis of the stacked arrays once, from "
            f"{', '.join(AXIS_NAMES)} (row and col required), e.g. {DEFAULT_AXES!r}"
        )
    return axes


def parse_value(name: str, text: str) -> Label:
    """A label's value: an integer, else a finite number, else true/false, else the text itself."""
    for kind in (int, float):
        try:
            value = kind(text)
        except ValueError:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"--param {name}={text}: must be finite")
        return value
    return {"true": True, "false": False}.get(text, text)


def parse_param(text: str) -> tuple[str, Label]:
    """NAME=VALUE."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise ConfigError(f"--param {text!r}: use NAME=VALUE, e.g. --param noise=0.1")
    return name.strip(), parse_value(name.strip(), value.strip())


def parse_number(option: str, text: str | None) -> float | None:
    """A positive finite number given as text, None when not given."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{option} {text!r}: must be a number") from None
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{option} {text!r}: must be a finite number > 0")
    return value


def parse_integer(option: str, text: str | None, minimum: int = 1) -> int | None:
    """An integer >= `minimum` given as text, None when not given."""
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{option} {text!r}: must be an integer") from None
    if value < minimum:
        raise ConfigError(f"{option} {text!r}: must be >= {minimum}")
    return value


def parse_steps(text: str | None) -> tuple[int, ...] | None:
    """'0,100,200' or 'START:STOP:STEP' (inclusive stop), None when not given."""
    if text is None:
        return None
    try:
        if ":" in text:
            start, stop, step = (int(v) for v in text.split(":"))
            if step <= 0:
                raise ValueError
            return tuple(range(start, stop + 1, step))
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"--steps {text!r}: use S0,S1,... or START:STOP:STEP (integers)") from None


def compile_pattern(option: str, text: str | None, group: str) -> re.Pattern[str] | None:
    """A regular expression with a group named `group` (or one group) that matches an integer."""
    if text is None:
        return None
    try:
        pattern = re.compile(text)
    except re.error as exc:
        raise ConfigError(f"{option} {text!r}: not a regular expression ({exc})") from None
    if group not in pattern.groupindex and pattern.groups != 1:
        raise ConfigError(f"{option} {text!r}: needs a group (?P<{group}>...) or exactly one group")
    return pattern
