"""Writing a reproduction: reproduction.json, reproduction.html, and the README's Results section."""

from __future__ import annotations

import html
import json
import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import ConfigError
from .rows import ALPHA, FAIL, INCONCLUSIVE, N_SIGMA, NOT_RUN, PASS, Row

if TYPE_CHECKING:
    from . import Reproduction

START, END = "<!-- results:start -->", "<!-- results:end -->"
#: figures shown in the README (the page shows all); copied to docs/figures/
README_FIGURES = (
    "repro_spacings.png",
    "repro_scaling.png",
    "repro_shifts.png",
    "repro_semicircles.png",
    "repro_linear.png",
    "repro_initial.png",
)
RULE = (
    f"A part passes when its tolerance band lies within {N_SIGMA:g} combined standard errors of the "
    "measurement, and is inconclusive when the error is larger than the effect the check must resolve; "
    f"p-values are tested at α = {ALPHA:g}. A row passes when all its parts pass."
)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, str):
        try:
            return _jsonable(x.item())
        except (ValueError, AttributeError):
            pass
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def summary(rep: Reproduction) -> dict[str, Any]:
    return {
        "mpi_dbm_version": __version__,
        "created": rep.created,
        "size": rep.size,
        "manifest": str(rep.manifest.path),
        "ranks": rep.ranks,
        "seconds": {"runs": rep.seconds_run, "analysis": rep.seconds_analysis},
        "rule": RULE,
        "counts": rep.counts(),
        "rows": [r.record() for r in rep.rows],
        "runs": [r.record() for r in rep.records],
        "experiments": {
            e.name: {
                "description": e.description,
                "window_t": e.window_t,
                "configs": [r.name for r in e.runs],
            }
            for e in rep.manifest.experiments
        },
        "figures": [{"file": f, "title": t, "caption": c} for f, t, c in rep.figures],
        **rep.extra,
    }


def write_json(rep: Reproduction) -> Path:
    path = rep.outdir / "reproduction.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(_jsonable(summary(rep)), indent=1, allow_nan=False, ensure_ascii=False))
    tmp.replace(path)
    return path


# -- HTML ---------------------------------------------------------------------------
_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1250px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}td,th{border:1px solid #ccc;padding:3px 6px;
vertical-align:top}th{background:#f3f3f3}.pass{background:#d9f2d9}.fail{background:#f8d0d0}
.inconclusive{background:#fff3c4}.notrun{background:#eee}details{font-size:.9em}
figure{margin:1.5em 0}img{max-width:100%}figcaption{font-size:.85em;color:#555}.note{color:#555}
"""


def _cls(status: str) -> str:
    return status.replace(" ", "")


def _row_html(r: Row) -> str:
    parts = "".join(
        f"<tr class='{_cls(p.status)}'><td>{html.escape(p.label)}</td>"
        f"<td>{html.escape(p.measured_text())}</td>"
        f"<td>{html.escape(p.expected_text())}</td><td>{p.status}</td>"
        f"<td>{html.escape(p.note)}</td></tr>"
        for p in r.parts
    )
    detail = (
        f"<details><summary>{len(r.parts)} part(s)</summary><table><tr><th>part</th><th>measured</th>"
        f"<th>expected</th><th></th><th></th></tr>{parts}</table></details>"
        if r.parts
        else html.escape(r.missing)
    )
    note = f"<div class='note'>{html.escape(r.note)}</div>" if r.note else ""
    return (
        f"<tr class='{_cls(r.status)}'><td>{r.id}</td><td>{html.escape(r.title)}{note}</td>"
        f"<td>{html.escape(r.experiment)}</td><td>{html.escape(r.measured_text())}</td>"
        f"<td>{html.escape(r.expected_text())}<div class='note'>{html.escape(r.tolerance)}</div></td>"
        f"<td><b>{r.status}</b></td><td>{detail}</td></tr>"
    )


def write_html(rep: Reproduction) -> Path:
    c = rep.counts()
    runs = "".join(
        f"<tr><td>{html.escape(r.name)}</td><td>{r.tasks}</td><td>{r.state_before}</td>"
        f"<td>{r.seconds:.1f}</td></tr>"
        for r in rep.records
    )

    def window(e) -> str:
        return (
            "last measurement" if e.window_t is None else f"t = nα in [{e.window_t[0]:g}, {e.window_t[1]:g}]"
        )

    exps = "".join(
        f"<tr><td>{e.name}</td><td>{html.escape(e.description)}</td>"
        f"<td>{html.escape(', '.join(r.name for r in e.runs))}</td><td>{window(e)}</td></tr>"
        for e in rep.manifest.experiments
    )
    figs = "".join(
        f"<figure><img src='{html.escape(f)}' alt='{html.escape(t)}'><figcaption><b>{html.escape(t)}.</b> "
        f"{html.escape(cap)}</figcaption></figure>"
        for f, t, cap in rep.figures
    )
    page = f"""<!DOCTYPE html><html><head><meta charset='utf-8'>
<title>mpi-dbm reproduction ({rep.size})</title><style>{_STYLE}</style></head><body>
<h1>Reproduction of the checkable predictions (physics.md §6), size {rep.size}</h1>
<p>mpi-dbm {__version__}, {html.escape(rep.created)}; {len(rep.records)} sweeps on {rep.ranks} rank(s):
runs {rep.seconds_run / 60:.1f} min, analysis and figures {rep.seconds_analysis / 60:.1f} min.
<b>{c[PASS]} pass, {c[FAIL]} fail, {c[INCONCLUSIVE]} inconclusive, {c[NOT_RUN]} not run.</b></p>
<p class='note'>{html.escape(RULE)} Every number is in <code>reproduction.json</code>; methods and
the investigation of every failure in docs/reproduction.md and docs/physics-notes.md.</p>
<table><tr><th>#</th><th>prediction</th><th>experiment</th><th>measured</th><th>expected</th><th></th>
<th>parts</th></tr>{"".join(_row_html(r) for r in rep.rows)}</table>
<h2>Figures</h2>{figs}
<h2>Experiments</h2><table><tr><th>name</th><th>what</th><th>configs</th><th>analysed</th></tr>{exps}</table>
<h2>Runs</h2><table><tr><th>config</th><th>tasks</th><th>before</th><th>seconds</th></tr>{runs}</table>
</body></html>
"""
    path = rep.outdir / "reproduction.html"
    path.write_text(page, encoding="utf-8")
    return path


# -- README ---------------------------------------------------------------------------
def readme_path(recipes: Path) -> Path:
    return recipes.resolve().parent / "README.md"


def check_readme(path: Path) -> None:
    if not path.is_file():
        raise ConfigError(
            f"--update-readme: {str(path)!r} does not exist (the recipes' parent holds README.md)"
        )
    text = path.read_text(encoding="utf-8")
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ConfigError(f"--update-readme: {str(path)!r} lacks one {START} ... {END} pair")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def readme_section(rep: Reproduction, figure_dir: str = "docs/figures") -> str:
    c = rep.counts()
    ran = sum(r.state_before != "complete" for r in rep.records)
    done = len(rep.records) - ran
    runs = f"{ran} sweeps run in {rep.seconds_run / 60:.1f} min" + (
        f", {done} found complete from an earlier run" if done else ""
    )
    failing = [r.id for r in rep.rows if r.status == FAIL]
    lines = [
        START,
        f"Generated by `make reproduce` (= `mpi-dbm reproduce --size quick -o results/reproduce-quick "
        f"--update-readme`) on {rep.created} with mpi-dbm {__version__}: the {len(rep.records)} sweeps of "
        f"`analysis/{rep.size}/` on {rep.ranks} MPI ranks ({runs}; analysis and figures "
        f"{rep.seconds_analysis / 60:.1f} min). One row per checkable prediction of physics.md §6; the "
        "measured value is the decisive part of the row (the worst of its parts). Methods, tolerances "
        "and the investigation of every failure: [docs/reproduction.md](docs/reproduction.md) and "
        '[docs/physics-notes.md](docs/physics-notes.md) ("Reproduction"); every part of every row: '
        "`results/reproduce-quick/reproduction.html`.",
        "",
        f"**{c[PASS]} pass, {c[FAIL]} fail, {c[INCONCLUSIVE]} inconclusive"
        + (f", {c[NOT_RUN]} not run" if c[NOT_RUN] else "")
        + ".**"
        + (f" Failing: {', '.join(failing)} (see docs/reproduction.md)." if failing else ""),
        "",
        "| # | prediction | measured | expected | result |",
        "|---|---|---|---|---|",
    ]
    for r in rep.rows:
        status = f"**{r.status}**" if r.status in (FAIL, INCONCLUSIVE) else r.status
        lines.append(
            f"| {r.id} | {_md(r.title)} | {_md(r.measured_text())} | {_md(r.expected_text())} | {status} |"
        )
    lines.append("")
    for f, t, cap in rep.figures:
        if f in README_FIGURES:
            lines += [f"![{_md(t)}]({figure_dir}/{f})", "", f"*{t}.* {cap}", ""]
    lines.append(END)
    return "\n".join(lines)


def update_readme(rep: Reproduction, path: Path) -> None:
    check_readme(path)
    figdir = path.parent / "docs" / "figures"
    figdir.mkdir(parents=True, exist_ok=True)
    for f, _, _ in rep.figures:
        if f in README_FIGURES:
            shutil.copyfile(rep.outdir / f, figdir / f)
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(head + readme_section(rep) + tail, encoding="utf-8")
