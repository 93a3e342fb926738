"""Writing a reproduction: reproduction.json and reproduction.html (the README's Results section is
rendered from reproduction.json by the development script scripts/update_readme_results.py)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..jsonable import jsonable
from .rows import ALPHA, N_SIGMA, STATUSES, Row

if TYPE_CHECKING:
    from .manifest import ExperimentRecipe
    from .reproduction import Reproduction

RULE = (
    f"A part passes when its tolerance band lies within {N_SIGMA:g} combined standard errors of the "
    "measurement, and is inconclusive when the error is larger than the effect the check must resolve; "
    f"p-values are tested at α = {ALPHA:g}. A row passes when all its parts pass. Info rows and parts "
    "report a measured figure beside a reference without a verdict (they never fail)."
)


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
    tmp.write_text(json.dumps(jsonable(summary(rep)), indent=1, allow_nan=False, ensure_ascii=False))
    tmp.replace(path)
    return path


# -- HTML ---------------------------------------------------------------------------
_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1250px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}td,th{border:1px solid #ccc;padding:3px 6px;
vertical-align:top}th{background:#f3f3f3}.pass{background:#d9f2d9}.fail{background:#f8d0d0}
.inconclusive{background:#fff3c4}.info{background:#dde9f7}.notrun{background:#eee}details{font-size:.9em}
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
    counts = ", ".join(f"{c[s]} {s}" for s in STATUSES)  # 3 pass, 0 fail, …, 1 not run
    runs = "".join(
        f"<tr><td>{html.escape(r.name)}</td><td>{r.tasks}</td><td>{r.state_before}</td>"
        f"<td>{r.seconds:.1f}</td></tr>"
        for r in rep.records
    )

    def window(e: ExperimentRecipe) -> str:
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
<b>{counts}.</b></p>
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
