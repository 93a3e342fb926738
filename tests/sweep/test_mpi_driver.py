"""The MPI driver end to end under mpiexec: same bits for 1, 2, 3 ranks, both schedules, both writers."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from conftest import run_cli


def spectra_and_tasks(path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:
        out = {f"spectra/{k}": v[...] for k, v in f["spectra"].items()}
        out.update({f"scalars/{k}": v[...] for k, v in f["scalars"].items()})
        out.update({f"tasks/{k}": v[...] for k, v in f["tasks"].items()})
        out["parallel_io"] = np.array(bool(f.attrs["parallel_io"]))
        out["n_ranks"] = np.array(int(f.attrs["n_ranks"]))
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    from conftest import TINY

    d = tmp_path_factory.mktemp("ref")
    cfg = d / "tiny.toml"
    cfg.write_text(TINY.format(schedule="dynamic"))
    out = d / "ref.h5"
    proc = run_cli("run", str(cfg), "-o", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    return spectra_and_tasks(out)


@pytest.mark.parametrize(
    ("ranks", "schedule", "io"),
    [
        (2, "dynamic", "parallel"),
        (3, "dynamic", "parallel"),
        (2, "static", "parallel"),
        (3, "static", "parallel"),
        (2, "dynamic", "serial"),
        (3, "static", "serial"),
        (1, "static", "serial"),
    ],
)
def test_bitwise_identical_for_any_ranks_schedule_and_writer(
    tmp_path, tiny_config, reference, ranks, schedule, io
):
    cfg = tiny_config(schedule)
    out = tmp_path / "out.h5"
    proc = run_cli("run", str(cfg), "-o", str(out), "--io", io, ranks=ranks)
    assert proc.returncode == 0, proc.stderr
    got = spectra_and_tasks(out)
    assert int(got["n_ranks"]) == ranks
    assert bool(got["parallel_io"]) is (io == "parallel")
    assert np.all(got["tasks/status"] == 1)
    for key, value in reference.items():
        if key in ("parallel_io", "n_ranks"):
            continue
        np.testing.assert_array_equal(got[key], value, err_msg=key)
    # a summary line on rank 0 only
    assert proc.stdout.count("mpi-dbm: wrote") == 1
    assert f"on {ranks} rank(s), {schedule} schedule" in proc.stdout


def test_block_size_does_not_change_results(tmp_path, tiny_config, reference):
    cfg = tiny_config(edits={"block_size = 2": "block_size = 4"})
    out = tmp_path / "b4.h5"
    proc = run_cli("run", str(cfg), "-o", str(out), "--quiet", ranks=2)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(spectra_and_tasks(out)["spectra/X"], reference["spectra/X"])


def test_diverging_point_is_recorded_and_the_sweep_goes_on(tmp_path, tiny_config):
    cfg = tiny_config(edits={"[0.02, 4]": "[3.0, 4]"})
    out = tmp_path / "div.h5"
    proc = run_cli("run", str(cfg), "-o", str(out), ranks=2)
    assert proc.returncode == 0, proc.stderr
    assert "(6 diverged)" in proc.stdout
    with h5py.File(out, "r") as f:
        status = f["tasks/status"][...]
        step = f["tasks/diverged_step"][...]
        reason = f["tasks/diverged_reason"][...]
    assert np.all(status[:12] == 1) and np.all(status[12:] == 2)
    assert np.all(step[:12] == -1) and np.all(step[12:] > 0)
    assert np.all(reason[:12] == 0) and np.all(np.isin(reason[12:], [1, 2]))


def test_resume_skips_finished_tasks_and_completes_the_file(tmp_path, tiny_config, reference):
    cfg = tiny_config()
    out = tmp_path / "resume.h5"
    assert run_cli("run", str(cfg), "-o", str(out), "--quiet", ranks=2).returncode == 0
    with h5py.File(out, "r+") as f:  # pretend the run was killed before these units landed
        f["tasks/status"][4:10] = 0
        f["spectra/X"][4:10] = np.nan
    proc = run_cli("run", str(cfg), "-o", str(out), "--resume", ranks=2)
    assert proc.returncode == 0, proc.stderr
    assert "6 tasks trained (0 diverged), 12 already done of 18" in proc.stdout
    np.testing.assert_array_equal(spectra_and_tasks(out)["spectra/X"], reference["spectra/X"])
