"""Writing an analysis: summary.json, analysis.h5 tables, and the terminal verdict table."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import h5py
import numpy as np

from ..errors import ResultsFileError
from .pipeline import Analysis, write_summary


def prepare_outdir(outdir: str | Path, force: bool) -> Path:
    """Create the report directory; an existing non-empty one only with `force`."""
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise ResultsFileError(f"{str(out)!r} exists and is not a directory")
    if out.exists() and any(out.iterdir()) and not force:
        raise ResultsFileError(
            f"report directory {str(out)!r} is not empty; pass --force to overwrite its report"
        )
    if not out.parent.exists():
        raise ResultsFileError(f"parent directory {str(out.parent)!r} does not exist; create it first")
    out.mkdir(exist_ok=True)
    return out


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
    tmp.replace(path)
    return path


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
