"""Writing an analysis: summary.json, analysis.h5 tables, and the terminal verdict table.

The report directory is written whole or not at all: it is built in a hidden temporary
directory next to the target and renamed into place at the end, so a failure (or an
interrupt) leaves no half report, and --force replaces an existing report only on success.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import textwrap
import uuid
from pathlib import Path

import h5py
import numpy as np

from ..errors import ResultsFileError
from .netcdf import write_labelled
from .pipeline import Analysis, write_summary

#: what a report directory holds (besides PNG figures): --force replaces only such a directory
REPORT_FILES = frozenset({"summary.json", "analysis.h5", "report.html"})


def _report_entry(path: Path) -> bool:
    return path.is_file() and not path.is_symlink() and (path.name in REPORT_FILES or path.suffix == ".png")


def check_outdir(outdir: str | Path, force: bool) -> Path:
    """The report directory, checked and not created: new, empty, or (with `force`) a report.

    A directory holding anything but report files is never replaced (its files would be lost).
    """
    out = Path(outdir)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ResultsFileError(f"{str(out)!r} exists and is not a directory")
    if not out.parent.is_dir():
        raise ResultsFileError(f"parent directory {str(out.parent)!r} does not exist; create it first")
    entries = sorted(out.iterdir()) if out.exists() else []
    if entries and not force:
        raise ResultsFileError(
            f"report directory {str(out)!r} is not empty; pass --force to replace its report"
        )
    foreign = [e.name for e in entries if not _report_entry(e)]
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise ResultsFileError(
            f"report directory {str(out)!r} holds files that are not part of a report ({shown}); "
            "--force replaces only a report: move them away or choose another directory with -o"
        )
    return out


def _move_into_place(built: Path, out: Path) -> None:
    """Rename the finished directory `built` to `out`; an existing `out` is set aside first and
    removed only once the new one is in place (put back if the rename fails)."""
    if not out.exists():
        os.rename(built, out)
        return
    old = out.parent / f".{out.name}.{uuid.uuid4().hex[:12]}.old"
    os.rename(out, old)
    try:
        os.rename(built, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_report_dir(a: Analysis, outdir: str | Path, force: bool, figures: bool = True) -> dict[str, Path]:
    """Write the whole report (see `write_all`) atomically into `outdir` (module docstring).

    Raises ResultsFileError for a target that may not be replaced (`check_outdir`) and
    DependencyError when figures are asked for and matplotlib cannot be imported, in both
    cases before anything is written.
    """
    out = check_outdir(outdir, force)
    if figures:
        from ..report import require_matplotlib

        require_matplotlib()
    built = out.parent / f".{out.name}.{uuid.uuid4().hex[:12]}.tmp"
    built.mkdir()
    try:
        files = write_all(a, built, figures=figures)
        _move_into_place(built, out)
    except BaseException:
        shutil.rmtree(built, ignore_errors=True)
        raise
    return {key: out / path.name for key, path in files.items()}


def write_tables(a: Analysis, outdir: Path) -> Path:
    """analysis.h5: one row per (spectrum, point, cluster): every value and error as columns."""
    path = outdir / "analysis.h5"
    tmp = outdir / "analysis.h5.tmp"
    with h5py.File(tmp, "w") as f:
        f.attrs["summary_json"] = json.dumps(a.parameters.record())
        f.attrs["results_file"] = str(a.dataset.path)
        pts = f.create_group("points")
        pts["learning_rate"] = [p.learning_rate for p in a.dataset.points]
        pts["batch_size"] = [p.batch_size for p in a.dataset.points]
        pts["analysed"] = [p.n_done for p in a.dataset.points]
        pts["diverged"] = [p.n_diverged for p in a.dataset.points]
        pts["pending"] = [p.n_pending for p in a.dataset.points]
        for name in a.dataset.spectra:
            rows = [(p.index, st) for p in a.dataset.points for st in a.stats.get((name, p.index), [])]
            g = f.create_group(f"clusters/{name}")
            g["point"] = np.array([r[0] for r in rows], dtype=np.int64)
            g["level_start"] = np.array([r[1].cluster.start for r in rows], dtype=np.int64)
            g["level_stop"] = np.array([r[1].cluster.stop for r in rows], dtype=np.int64)
            g["label"] = np.array([r[1].cluster.label for r in rows], dtype=h5py.string_dtype())
            keys = sorted({k for _, st in rows for k in st.values})
            for k in keys:
                col = k.replace("/", "_over_")
                g[col] = np.array(
                    [st.values.get(k, {}).get("value", math.nan) for _, st in rows], dtype=float
                )
                g[f"{col}_err"] = np.array(
                    [st.values.get(k, {}).get("error", math.nan) for _, st in rows], dtype=float
                )
            for k in sorted({k for _, st in rows for k in st.predicted}):
                g[f"predicted_{k.replace('/', '_over_')}"] = np.array(
                    [st.predicted.get(k, math.nan) for _, st in rows], dtype=float
                )
            fits = a.fits.get(name, [])
            s = f.create_group(f"linear_scaling/{name}")
            s["observable"] = np.array([x.observable for x in fits], dtype=h5py.string_dtype())
            s["slope"] = np.array([x.slope for x in fits], dtype=float)
            s["slope_error"] = np.array([x.slope_error for x in fits], dtype=float)
            s["chi2_dof"] = np.array([x.chi2_dof for x in fits], dtype=float)
            s["predicted_slope"] = np.array(
                [math.nan if x.predicted_slope is None else x.predicted_slope for x in fits], dtype=float
            )
        _spectral_tables(a, f)
        write_labelled(a, f)  # the root: per-point statistics with named dimensions (netcdf.py)
    tmp.replace(path)
    return path


def _column(values: list[float | None]) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], dtype=float)


def _spectral_tables(a: Analysis, f: h5py.File) -> None:
    """level_sets/<spectrum>: one row per (point, level set) with ⟨r̃^(n)⟩, errors and matched
    GOE/Poisson references; dyson: one row per SDE fit (a/T, c/T, β with errors; NaN where none)."""
    for name in a.dataset.spectra:
        rows = [(idx, rec) for (n, idx), sets in sorted(a.spectral.items()) if n == name for rec in sets]
        if not rows:
            continue
        g = f.create_group(f"level_sets/{name}")
        g["point"] = np.array([r[0] for r in rows], dtype=np.int64)
        g["level_start"] = np.array([r[1]["levels"][0] for r in rows], dtype=np.int64)
        g["level_stop"] = np.array([r[1]["levels"][1] for r in rows], dtype=np.int64)
        g["label"] = np.array([r[1]["label"] for r in rows], dtype=h5py.string_dtype())
        for order in (1, 2, 3):
            recs = [r[1].get("nth_ratios", {}).get(f"n{order}", {}) for r in rows]
            g[f"mean_rtilde_n{order}"] = _column([x.get("value") for x in recs])
            g[f"mean_rtilde_n{order}_err"] = _column([x.get("error") for x in recs])
            for ens in ("goe", "poisson"):
                g[f"mean_rtilde_n{order}_{ens}_matched"] = _column(
                    [x["references"][ens]["matched"] if "references" in x else None for x in recs]
                )
    fits = [r for r in a.dyson if "beta" in r.record]
    d = f.create_group("dyson")
    d["spectrum"] = np.array([r.spectrum for r in fits], dtype=h5py.string_dtype())
    d["point"] = np.array([r.point for r in fits], dtype=np.int64)
    d["label"] = np.array([r.label for r in fits], dtype=h5py.string_dtype())
    for key in ("repulsion_over_T", "diffusion_over_T", "beta"):
        d[key] = _column([r.record[key] for r in fits])
        d[f"{key}_err"] = _column([r.record[f"{key}_error"] for r in fits])


def write_all(a: Analysis, outdir: Path, figures: bool = True) -> dict[str, Path]:
    from ..report import write_report

    out = {"summary": write_summary(a, outdir), "tables": write_tables(a, outdir)}
    out["report"] = write_report(a, outdir, figures=figures)
    return out


def verdict_table(a: Analysis, width: int = 110) -> str:
    """Short terminal table: status, check, detail (wrapped), and the counts."""
    lines = []
    for v in a.verdicts:
        lines.append(f"{v.status.upper():12}  {v.name}")
        pad = " " * 14
        lines.extend(textwrap.wrap(v.detail, width=width, initial_indent=pad, subsequent_indent=pad))
    counts = {s: sum(v.status == s for v in a.verdicts) for s in ("pass", "fail", "inconclusive", "info")}
    lines.append(
        f"verdicts: {counts['pass']} pass, {counts['fail']} fail, {counts['inconclusive']} inconclusive,"
        f" {counts['info']} notes"
    )
    return "\n".join(lines)
