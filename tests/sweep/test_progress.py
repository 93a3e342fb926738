"""Progress line: tasks done / total, rate, ETA; silent when disabled (not a terminal, --quiet)."""

from __future__ import annotations

import io

from mpi_dbm.sweep.progress import Progress, format_duration


def test_progress_line_counts_resumed_tasks_and_estimates_eta():
    out = io.StringIO()
    p = Progress(total=100, already=20, stream=out, enabled=True, interval=0.0)
    p.start -= 10.0  # ten seconds ago
    p.update(40)
    p.close()
    line = out.getvalue()
    assert "60/120 tasks (50%)" in line
    assert "4.00 tasks/s" in line
    assert "ETA 0:00:15" in line
    assert line.endswith("\n")


def test_progress_is_silent_off_a_terminal():
    out = io.StringIO()  # isatty() is False
    p = Progress(total=10, already=0, stream=out)
    p.update(5, force=True)
    p.close()
    assert out.getvalue() == ""


def test_format_duration():
    assert format_duration(3725) == "1:02:05"
    assert format_duration(-3) == "0:00:00"
