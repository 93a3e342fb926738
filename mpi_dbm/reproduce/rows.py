"""Rows of the reproduction table: one per checkable prediction of physics.md §6 (or a sub-item).

A row has parts (e.g. one per degenerate pair); it passes when every part passes. A part compares
a measured value ± error with an expected value (± its own error, e.g. a notebook fit) and an
optional tolerance band [lo, hi] around it (physics.md §6 brackets: what [sim]/[nb] achieved):

- pass:          the band is within 3 combined standard errors of the measurement,
                 i.e. max(lo − value, value − hi, 0) ≤ 3 √(error² + expected_error²);
- fail:          otherwise;
- inconclusive:  the combined error exceeds the part's resolution (the size of the effect the
                 check must see), or the value could not be measured.

p-value parts: "consistent" passes when p ≥ the significance level (inconclusive when the sample
has no power, e.g. cannot reject the GUE either); "reject" passes when p is below it, and is
inconclusive rather than failing when the sample is too small to have power.

Info parts (kind "info") report a measured figure beside a reference without a verdict: their
status is always info and they never decide a row. A row of info parts only is an info row
(e.g. where a boundary lies when the paper derives no value); a row with parts is otherwise
decided by its other parts. A row without parts was not run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

PASS, FAIL, INCONCLUSIVE, INFO, NOT_RUN = "pass", "fail", "inconclusive", "info", "not run"
#: every status of a part or row, in the order summaries count them
STATUSES = (PASS, FAIL, INCONCLUSIVE, INFO, NOT_RUN)
N_SIGMA = 3.0
ALPHA = 0.01  # significance level of every test


def fmt(x: float, err: float | None = None) -> str:
    """x ± err with the error to 2 significant digits and x to the same decimal place."""
    if x is None or not math.isfinite(x):
        return "–"
    if err is None or not math.isfinite(err) or err <= 0:
        return f"{x:.4g}"
    digits = max(0, 1 - math.floor(math.log10(err)))
    if digits > 8 or abs(x) >= 1e5 or (abs(x) < 1e-3 and x != 0):
        return f"{x:.3g} ± {err:.2g}"
    return f"{x:.{digits}f} ± {err:.{digits}f}"


@dataclass
class Part:
    label: str
    value: float
    error: float = 0.0
    expected: float = math.nan
    expected_error: float = 0.0
    lo: float | None = None  # tolerance band; default [expected, expected]
    hi: float | None = None
    resolution: float | None = None  # largest combined error at which the part is meaningful
    kind: str = "value"  # "value" | "consistent" (p-value) | "reject" (p-value) | "info" (no verdict)
    powered: bool = True  # p-value parts: whether the sample has the power to decide
    note: str = ""

    @property
    def sigma(self) -> float:
        return math.hypot(self.error or 0.0, self.expected_error or 0.0)

    @property
    def band(self) -> tuple[float, float]:
        lo = self.expected if self.lo is None else self.lo
        hi = self.expected if self.hi is None else self.hi
        return lo, hi

    @property
    def excess(self) -> float:
        """How far outside the band, in combined standard errors (0 inside it)."""
        if self.kind == INFO:
            return 0.0
        if self.kind != "value":
            return 0.0 if self.status == PASS else math.inf
        lo, hi = self.band
        d = max(lo - self.value, self.value - hi, 0.0)
        if d == 0:
            return 0.0
        return d / self.sigma if self.sigma > 0 else math.inf

    @property
    def status(self) -> str:
        if self.kind == INFO:
            return INFO
        if self.value is None or not math.isfinite(self.value):
            return INCONCLUSIVE
        if self.kind == "consistent":
            if self.value < self.expected:
                return FAIL
            return PASS if self.powered else INCONCLUSIVE
        if self.kind == "reject":
            if self.value < self.expected:
                return PASS
            return FAIL if self.powered else INCONCLUSIVE
        if self.resolution is not None and not self.sigma <= self.resolution:
            return INCONCLUSIVE
        return PASS if self.excess <= N_SIGMA else FAIL

    def measured_text(self) -> str:
        if self.kind in ("consistent", "reject"):
            return f"p = {self.value:.3g}"
        return fmt(self.value, self.error)

    def expected_text(self) -> str:
        if self.kind == INFO:
            return fmt(self.expected) if math.isfinite(self.expected) else "–"
        if self.kind == "consistent":
            return f"p ≥ {self.expected:g}"
        if self.kind == "reject":
            return f"p < {self.expected:g}"
        text = fmt(self.expected, self.expected_error if self.expected_error else None)
        lo, hi = self.band
        if hi > lo:
            if math.isclose(hi - self.expected, self.expected - lo, rel_tol=1e-6):
                text += f" (tolerance ± {hi - self.expected:.3g})"
            else:
                text += f" (band {lo:.4g}–{hi:.4g})"
        return text

    def record(self) -> dict[str, Any]:
        lo, hi = self.band
        return {
            "label": self.label,
            "kind": self.kind,
            "value": self.value,
            "error": self.error,
            "expected": self.expected,
            "expected_error": self.expected_error,
            "band": [lo, hi],
            "resolution": self.resolution,
            "status": self.status,
            "note": self.note,
        }


@dataclass
class Row:
    id: str  # "2a"
    item: int  # physics.md §6 item
    title: str  # the prediction, short
    experiment: str  # which experiment(s) measured it
    tolerance: str  # where the tolerance comes from
    parts: list[Part] = field(default_factory=list)
    note: str = ""  # how it was measured; what a failure means
    missing: str = ""  # why it could not be measured (experiment not run)

    @property
    def status(self) -> str:
        if not self.parts:
            return NOT_RUN
        states = [p.status for p in self.parts if p.status != INFO]
        if not states:
            return INFO
        if FAIL in states:
            return FAIL
        if INCONCLUSIVE in states:
            return INCONCLUSIVE
        return PASS

    @property
    def worst(self) -> Part | None:
        """The part that decides the row: a failing one, else an inconclusive one, else the closest
        call; for an info row, its first part."""
        decided = [p for p in self.parts if p.status != INFO]
        if not decided:
            return self.parts[0] if self.parts else None
        order = {FAIL: 0, INCONCLUSIVE: 1, PASS: 2}
        return min(decided, key=lambda p: (order[p.status], -p.excess if p.kind == "value" else 0))

    def measured_text(self) -> str:
        w = self.worst
        if w is None:
            return "not run"
        if self.status == INFO:  # no part decides: show the first few
            shown = "; ".join(f"{p.label}: {p.measured_text()}" for p in self.parts[:4])
            return shown + (f" (+{len(self.parts) - 4})" if len(self.parts) > 4 else "")
        if len(self.parts) == 1:
            return w.measured_text()
        return f"{w.label}: {w.measured_text()} (worst of {len(self.parts)})"

    def expected_text(self) -> str:
        w = self.worst
        return "–" if w is None else w.expected_text()

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item": self.item,
            "prediction": self.title,
            "experiment": self.experiment,
            "tolerance": self.tolerance,
            "status": self.status,
            "measured": self.measured_text(),
            "expected": self.expected_text(),
            "note": self.note,
            "missing": self.missing,
            "parts": [p.record() for p in self.parts],
        }


#: a check's rows by id ("2a" -> Row)
Rows = dict[str, Row]


def fresh(*templates: Row) -> Rows:
    """New rows (no parts yet) from a check's row templates, keyed by id in template order."""
    return {t.id: replace(t, parts=[]) for t in templates}


def not_run(row: Row, *names: str) -> Row:
    """Mark a row as not measurable because an experiment (or part of one) was not run."""
    row.missing = f"experiment {' / '.join(names)} not run"
    return row


def all_not_run(rows: Rows, *names: str) -> Rows:
    for row in rows.values():
        not_run(row, *names)
    return rows
