"""report.html: one page with inline style that references only the PNGs next to it: the
verdicts, the points, the clusters and scaling fits of each spectrum, the level-statistics,
null-model and phase tables, the collapse tests, the figures, the parameters and the config."""

from __future__ import annotations

import html
import math
from pathlib import Path

from .analysis.pipeline import Analysis
from .report_nulls import null_models_html
from .report_phases import phases_html
from .report_tables import _fmt, _relative_cell, _spectral_html, _table, _value_cell

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}td,th{border:1px solid #ccc;padding:2px 6px}
th{background:#f3f3f3}.pass{background:#d9f2d9}.fail{background:#f8d0d0}.info{background:#eef}
.inconclusive{background:#fff3c4}
pre{background:#f6f6f6;padding:.5em;font-size:.8em;overflow:auto}figure{margin:1em 0}
img{max-width:100%}figcaption{font-size:.85em;color:#555}.missing{color:#b00;font-weight:bold}
"""
_CHECK_IMAGES = """
window.addEventListener('load', function () {
  for (const img of document.images) {
    const ok = img.complete && img.naturalWidth > 0;
    img.dataset.loaded = ok ? 'yes' : 'no';
    if (!ok) { const p = document.createElement('p'); p.className = 'missing';
               p.textContent = 'figure missing: ' + img.getAttribute('src'); img.after(p); }
  }
  document.body.dataset.checked = 'yes';
});
"""


def write_html(a: Analysis, outdir: Path, figures: list[tuple[str, str, str]]) -> Path:
    """Write outdir/report.html; `figures`: (section, file, caption) of the PNGs already written."""
    parts = _head_html(a)
    parts += _clusters_html(a)
    parts += _spectral_html(a)
    parts += null_models_html(a)  # null models of the spacing statistics (report_nulls.py)
    parts += phases_html(a)  # multilayer phases table (report_phases.py)
    parts += _collapse_html(a)
    parts += _figures_html(figures)
    parts += _footer_html(a)
    path = outdir / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _head_html(a: Analysis) -> list[str]:
    """The title, the results file, the verdicts and the points."""
    ds = a.dataset
    s = a.summary()
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>mpi-dbm report: {html.escape(ds.config.sweep.name)}</title>",
        f"<style>{_STYLE}</style><script>{_CHECK_IMAGES}</script></head><body>",
        f"<h1>mpi-dbm report: {html.escape(ds.config.sweep.name)}</h1>",
        f"<p>Results file <code>{html.escape(str(ds.path))}</code>, model <b>{ds.config.model.kind}</b>, "
        f"config sha256 <code>{html.escape(str(s['config_sha256'])[:16])}</code>, analysed steps "
        f"{html.escape(str(s['analysed_steps'][:3]))}{'…' if len(s['analysed_steps']) > 3 else ''}. "
        f"Theory: {html.escape(a.expectation.description)}.</p>",
        "<h2>Verdicts</h2>",
        _table(
            ["", "check", "detail"],
            [[v.status, html.escape(v.name), html.escape(v.detail)] for v in a.verdicts],
            [v.status for v in a.verdicts],
        ),
        "<h2>Points</h2>",
        _table(
            ["#", "α", "|B|", "α/|B|"]
            + [k.split(".", 1)[1] for k in ds.config.scanned_keys]
            + ["analysed", "diverged (excluded)", "pending (missing)"],
            [
                [
                    str(p.index),
                    _fmt(p.learning_rate),
                    str(p.batch_size),
                    _fmt(p.temperature),
                    *(_fmt(v) for _, v in p.parameters),
                    str(p.n_done),
                    str(p.n_diverged),
                    str(p.n_pending),
                ]
                for p in ds.points
            ],
        ),
    ]
    return parts


def _clusters_html(a: Analysis) -> list[str]:
    """Per spectrum: each point's cluster statistics against theory, and the linear scaling fits."""
    ds = a.dataset
    parts: list[str] = []
    for name in ds.spectra:
        parts.append(f"<h2>Clusters of {html.escape(name)}</h2>")
        if a.clusters_detected[name]:
            parts.append(
                "<p>Clusters detected from the data (the model gives no fixed point for this spectrum).</p>"
            )
        rows = []
        for p in ds.points:
            for st in a.stats.get((name, p.index), []):
                v, pr = st.values, st.predicted
                main = v.get("mean_spacing") or v.get("std") or v.get("second_moment")
                main_key = next((k for k in ("mean_spacing", "std", "second_moment") if k in v), None)
                rows.append(
                    [
                        html.escape(f"{p.index} {p.label}" if p.parameters else str(p.index)),
                        html.escape(st.cluster.label),
                        _value_cell(v.get("centre")),
                        _value_cell(v.get("shift")),
                        _fmt(pr.get("shift", math.nan)),
                        _relative_cell(v.get("shift"), pr.get("shift")),
                        f"{main_key or '–'}: {_value_cell(main)}",
                        _fmt(pr.get(main_key, math.nan)) if main_key else "–",
                        _value_cell(v.get("s2") or v.get("mean_rtilde")),
                        _fmt(pr.get("s2", pr.get("mean_rtilde", math.nan))),
                    ]
                )
        parts.append(
            _table(
                [
                    "point",
                    "cluster",
                    "centre",
                    "shift",
                    "predicted shift",
                    "shift / predicted",
                    "width",
                    "predicted",
                    "⟨s²⟩ or ⟨r̃⟩",
                    "GOE",
                ],
                rows,
            )
        )
        fits = a.fits.get(name, [])
        if fits:
            parts.append("<h3>Linear scaling: y = a·√v pooled over points and clusters</h3>")
            parts.append(
                _table(
                    ["observable", "a", "theory", "pull", "χ²/dof", "points"],
                    [
                        [
                            f.observable,
                            f"{_fmt(f.slope)} ± {_fmt(f.slope_error)}",
                            _fmt(f.predicted_slope),
                            _fmt(f.pull),
                            _fmt(f.chi2_dof),
                            str(f.n_points),
                        ]
                        for f in fits
                    ],
                )
            )
    return parts


def _collapse_html(a: Analysis) -> list[str]:
    """The collapse tests at equal alpha/|B| ([] without any)."""
    parts: list[str] = []
    if a.collapse:
        parts.append("<h2>Collapse at equal α/|B|</h2>")
        parts.append(
            _table(
                ["spectrum", "α/|B|", "points", "combined p", "result"],
                [
                    [
                        c.spectrum,
                        _fmt(c.temperature),
                        ", ".join(map(str, c.points)),
                        _fmt(c.combined_pvalue),
                        "pass" if c.passed else "fail",
                    ]
                    for c in a.collapse
                ],
                ["pass" if c.passed else "fail" for c in a.collapse],
            )
        )
    return parts


def _figures_html(figures: list[tuple[str, str, str]]) -> list[str]:
    """Each (section, file, caption), under a heading per section."""
    parts: list[str] = []
    section = None
    for sec, fname, caption in figures:
        if sec != section:
            parts.append(f"<h2>{html.escape(sec)}</h2>")
            section = sec
        parts.append(
            f"<figure><img src='{html.escape(fname)}' alt='{html.escape(fname)}'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    return parts


def _footer_html(a: Analysis) -> list[str]:
    """The analysis parameters and the config."""
    ds = a.dataset
    return [
        "<h2>Analysis parameters</h2>",
        f"<pre>{html.escape(str(a.parameters.record()))}</pre>",
        "<h2>Config</h2>",
        f"<pre>{html.escape(ds.config.to_toml())}</pre>",
        "<p>Every number with its error is in <code>summary.json</code>;"
        " tables in <code>analysis.h5</code>.</p>",
        "</body></html>",
    ]
