"""Text summary of a results file (`mpi-dbm status`)."""

from __future__ import annotations

import numpy as np

from .errors import ResultsFileError
from .store import DIVERGED, DONE, PENDING, open_results


def summarize(path: str, show_config: bool = False) -> str:
    """The summary of `path`; a damaged file raises ResultsFileError naming the damage (`verify`)."""
    with open_results(path) as res:
        damage = res.damage()
        if not damage.intact:
            raise ResultsFileError(damage.message(res.path))
        attrs = res.attrs
        tasks = res.tasks()
        status = tasks["status"]
        steps = res.measure_steps()
        lines = [
            f"{path}: mpi-dbm results (layout {attrs.get('layout_version')}, "
            f"mpi-dbm {attrs.get('mpi_dbm_version')})",
            f"  sweep config sha256 {str(attrs.get('config_sha256'))[:16]}; model {attrs.get('model_kind')};"
            f" created {attrs.get('created')} on {attrs.get('n_ranks')} rank(s),"
            f" parallel_io={attrs.get('parallel_io')}",
            f"  measurements: {len(steps)} (steps {steps[0]}..{steps[-1]});"
            f" spectra: {', '.join(res.spectrum_names())}",
            f"  tasks: {len(status)} = {int((status == DONE).sum())} done"
            f" + {int((status == DIVERGED).sum())} diverged + {int((status == PENDING).sum())} pending",
            f"  checksums: the {damage.checked} finished task(s) are intact",
            *([f"  note: {note}"] if (note := damage.note()) else []),
            "",
        ]
        points = res.points()
        scanned = {k: v for k, v in points.items() if k not in ("learning_rate", "batch_size", "variant")}
        header = [f"{'point':>5}", f"{'alpha':>10}", f"{'|B|':>6}", f"{'alpha/|B|':>11}"]
        widths = [max(10, len(_short(k))) for k in scanned]
        header += [f"{_short(k):>{w}}" for k, w in zip(scanned, widths, strict=True)]
        lines.append("  " + " ".join([*header, f"{'done':>6}", f"{'diverged':>8}", f"{'pending':>8}"]))
        for p in np.unique(tasks["point"]):
            sel = tasks["point"] == p
            lr = tasks["learning_rate"][sel][0]
            bs = tasks["batch_size"][sel][0]
            st = status[sel]
            cells = [f"{p:>5}", f"{lr:>10.4g}", f"{bs:>6}", f"{lr / bs:>11.4g}"]
            cells += [f"{_cell(col[p]):>{w}}" for col, w in zip(scanned.values(), widths, strict=True)]
            cells += [f"{int((st == DONE).sum()):>6}", f"{int((st == DIVERGED).sum()):>8}"]
            lines.append("  " + " ".join([*cells, f"{int((st == PENDING).sum()):>8}"]))
        if show_config:
            lines += ["", "  stored config:", *("    " + line for line in res.config_text.splitlines())]
        return "\n".join(lines) + "\n"


def _short(key: str) -> str:
    """A scanned key's column title: "model.noise_strength" -> "noise_strength"."""
    return key.split(".", 1)[-1]


def _cell(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.floating | float):
        return f"{float(value):.4g}"
    return str(value)
