"""Reading the weights: stacked .npz/.npy files (one configuration each) and checkpoint globs.

Every input becomes a `Configuration`: per imported key a float64 array (replicas, snapshots,
rows, cols), the measured steps if the input gives them, the hyper-parameters and labels. Every
problem is one ConfigError (exit code 2) naming the file and what is wrong.
"""

from __future__ import annotations

import glob
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DependencyError
from ..models.imported import Label
from .options import ImportOptions, compile_pattern

SUFFIXES = (".npz", ".npy", ".safetensors")
_GLOB = re.compile(r"[*?\[]")


@dataclass
class Configuration:
    source: str
    matrices: dict[str, np.ndarray]  # key -> (replicas, snapshots, rows, cols), float64
    steps: np.ndarray | None = None  # measured step of each snapshot, if the input gives them
    learning_rate: float | None = None
    batch_size: int | None = None
    labels: dict[str, Label] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """(replicas, snapshots)."""
        a = next(iter(self.matrices.values()))
        return int(a.shape[0]), int(a.shape[1])


# -- files -------------------------------------------------------------------------------
def expand_inputs(inputs: tuple[str, ...] | list[str]) -> list[Path]:
    """Files, directories (their .npz/.npy files) and glob patterns -> sorted file list."""
    files: list[Path] = []
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in (".npz", ".npy") and p.is_file())
            if not found:
                raise ConfigError(f"{text!r}: directory without .npz or .npy files")
            files += found
        elif path.is_file():
            files.append(path)
        elif _GLOB.search(text):
            found = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
            if not found:
                raise ConfigError(f"{text!r}: no file matches this pattern")
            files += found
        else:
            raise ConfigError(f"{text!r}: no such file or directory")
    if not files:
        raise ConfigError("no input: give .npz/.npy files, directories of them, or --checkpoints GLOB")
    if len(set(files)) != len(files):
        raise ConfigError("an input file is given twice")
    return files


def load_arrays(path: Path, default_key: str) -> dict[str, np.ndarray]:
    """The arrays of one file: .npz (by name), .npy (one array, named `default_key`), .safetensors."""
    if path.suffix == ".safetensors":
        return _load_safetensors(path)
    if path.suffix not in (".npz", ".npy"):
        raise ConfigError(
            f"{str(path)!r}: unknown file type {path.suffix!r}; use one of {', '.join(SUFFIXES)}"
        )
    try:
        if path.suffix == ".npy":
            return {default_key: np.load(path, allow_pickle=False)}
        with np.load(path, allow_pickle=False) as data:
            return {k: np.asarray(data[k]) for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ConfigError(f"{str(path)!r}: cannot read ({_one_line(exc)})") from None


def _load_safetensors(path: Path) -> dict[str, np.ndarray]:
    try:
        from safetensors.numpy import load_file  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise DependencyError(
            f"{str(path)!r}: reading .safetensors files needs the `safetensors` package, which is not "
            "installed: pip install safetensors (or pip install 'mpi-dbm[import]')"
        ) from None
    try:
        return dict(load_file(str(path)))
    except Exception as exc:  # the package raises its own error types
        raise ConfigError(f"{str(path)!r}: not a readable safetensors file ({_one_line(exc)})") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _array(arrays: dict[str, np.ndarray], key: str, where: str, option: str) -> np.ndarray:
    if key not in arrays:
        have = ", ".join(sorted(arrays)) or "none"
        raise ConfigError(f"{where}: no array {key!r} ({option}); the file has: {have}")
    return arrays[key]


def _numeric(a: np.ndarray, what: str) -> np.ndarray:
    if a.dtype.kind not in "iuf":
        raise ConfigError(f"{what}: must hold real numbers, has dtype {a.dtype}")
    return np.asarray(a, dtype=np.float64)


def scalar(arrays: dict[str, np.ndarray], key: str, where: str, option: str) -> Label:
    """A scalar array (one element) of a file: its number (int when integral) or text."""
    a = _array(arrays, key, where, option)
    if a.size != 1:
        raise ConfigError(f"{where}: {key!r} ({option}) must be one value, has shape {a.shape}")
    value = a.reshape(()).item()
    if a.dtype.kind in "US":
        return str(value.decode() if isinstance(value, bytes) else value)
    if a.dtype.kind == "b":
        return bool(value)
    if a.dtype.kind not in "iuf" or not np.isfinite(value):
        raise ConfigError(f"{where}: {key!r} ({option}) must be a finite number, got {value!r}")
    return int(value) if a.dtype.kind in "iu" else float(value)


def _positive(value: Label, where: str, what: str, integer: bool = False) -> Any:
    if isinstance(value, bool | str) or value <= 0 or (integer and float(value) != int(value)):
        raise ConfigError(
            f"{where}: the {what} must be {'an integer' if integer else 'a number'} > 0, got {value!r}"
        )
    return int(value) if integer else float(value)


def hyper_parameters(conf: Configuration, arrays: dict[str, np.ndarray], o: ImportOptions) -> None:
    """α, |B|, labels and steps of one configuration: from the options, else from its arrays."""
    where = conf.source
    lr: Label | None = o.learning_rate if o.lr_key is None else scalar(arrays, o.lr_key, where, "--lr-key")
    bs: Label | None = o.batch_size if o.bs_key is None else scalar(arrays, o.bs_key, where, "--bs-key")
    conf.learning_rate = None if lr is None else _positive(lr, where, "learning rate")
    conf.batch_size = None if bs is None else _positive(bs, where, "batch size", integer=True)
    conf.labels = dict(o.params) | {k: scalar(arrays, k, where, "--param-key") for k in o.param_keys}
    if o.steps_key is not None:
        s = _array(arrays, o.steps_key, where, "--steps-key")
        if s.dtype.kind not in "iuf" or s.ndim != 1 or not np.all(s == np.round(s)):
            raise ConfigError(f"{where}: {o.steps_key!r} (--steps-key) must be a list of integers")
        conf.steps = s.astype(np.int64)


def to_stack(a: np.ndarray, axes: tuple[str, ...], what: str) -> np.ndarray:
    """An array with the named axes -> (replica, snapshot, row, col), float64."""
    a = _numeric(a, what)
    if a.ndim != len(axes):
        raise ConfigError(f"{what}: has {a.ndim} axes {a.shape}, --axes names {len(axes)} ({','.join(axes)})")
    for missing in ("replica", "snapshot"):
        if missing not in axes:
            a, axes = a[np.newaxis], (missing, *axes)
    stack = np.transpose(a, [axes.index(n) for n in ("replica", "snapshot", "row", "col")])
    if 0 in stack.shape:
        raise ConfigError(f"{what}: has an empty axis (shape {a.shape})")
    return np.ascontiguousarray(stack)


def read_stacked(path: Path, o: ImportOptions) -> Configuration:
    """One .npz/.npy file: stacked matrices of every --key, plus its scalars."""
    arrays = load_arrays(path, o.keys[0])
    conf = Configuration(str(path), {})
    for key in o.keys:
        conf.matrices[key] = to_stack(_array(arrays, key, str(path), "--key"), o.axes, f"{path}: {key!r}")
    shapes = {k: m.shape[:2] for k, m in conf.matrices.items()}
    if len(set(shapes.values())) > 1:
        raise ConfigError(f"{str(path)!r}: the arrays differ in replicas or snapshots: {shapes}")
    hyper_parameters(conf, arrays, o)
    return conf


# -- checkpoints ------------------------------------------------------------------------
def _index(pattern: re.Pattern[str] | None, group: str, path: str, option: str) -> int:
    if pattern is None:
        return 0
    match = pattern.search(path)
    if match is None:
        raise ConfigError(f"{path!r}: {option} {pattern.pattern!r} does not match this path")
    text = match.group(group) if group in pattern.groupindex else match.group(1)
    if text is None or not text.isdigit():
        raise ConfigError(f"{path!r}: {option} {pattern.pattern!r} matched {text!r}, not an integer")
    return int(text)


def read_checkpoints(pattern: str, o: ImportOptions) -> Configuration:
    """One file per (replica, snapshot), found by a glob; the replica and step from the path.

    Replicas are numbered in the order of their path's number; the snapshot numbers are the steps.
    """
    if o.steps_key is not None or o.steps is not None:
        raise ConfigError("--checkpoints: the steps come from --snapshot-from; leave out --steps/--steps-key")
    paths = sorted(p for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    if not paths:
        raise ConfigError(f"--checkpoints {pattern!r}: no file matches this pattern")
    rep = compile_pattern("--replica-from", o.replica_from, "replica")
    snap = compile_pattern("--snapshot-from", o.snapshot_from, "step")
    where: dict[tuple[int, int], str] = {}
    for p in paths:
        ij = (_index(rep, "replica", p, "--replica-from"), _index(snap, "step", p, "--snapshot-from"))
        if ij in where:
            raise ConfigError(
                f"{p!r} and {where[ij]!r} are both replica {ij[0]}, step {ij[1]} "
                "(check --replica-from and --snapshot-from)"
            )
        where[ij] = p
    replicas, steps = sorted({r for r, _ in where}), sorted({s for _, s in where})
    missing = [(r, s) for r in replicas for s in steps if (r, s) not in where]
    if missing:
        r, s = missing[0]
        raise ConfigError(
            f"--checkpoints: no file for replica {r} at step {s} ({len(missing)} missing in all)"
        )
    conf = Configuration(f"--checkpoints {pattern}", {}, steps=np.array(steps, dtype=np.int64))
    first: dict[str, np.ndarray] | None = None
    for key in o.keys:
        conf.matrices[key] = np.empty((len(replicas), len(steps), 0, 0))
    for i, r in enumerate(replicas):
        for j, s in enumerate(steps):
            path = where[(r, s)]
            arrays = load_arrays(Path(path), o.keys[0])
            first = first or arrays
            for key in o.keys:
                _place(conf.matrices, key, i, j, _array(arrays, key, path, "--key"), path)
    assert first is not None
    hyper_parameters(conf, first, o)
    conf.steps = np.array(steps, dtype=np.int64)
    return conf


def _place(stacks: dict[str, np.ndarray], key: str, i: int, j: int, a: np.ndarray, path: str) -> None:
    a = _numeric(a, f"{path}: {key!r}")
    if a.ndim != 2:
        raise ConfigError(f"{path!r}: {key!r} is not a matrix (shape {a.shape})")
    stack = stacks[key]
    if stack.shape[2:] == (0, 0):
        stack = stacks[key] = np.empty(stack.shape[:2] + a.shape)
    if stack.shape[2:] != a.shape:
        raise ConfigError(f"{path!r}: {key!r} has shape {a.shape}, other checkpoints {stack.shape[2:]}")
    stack[i, j] = a
