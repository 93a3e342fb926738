"""The command line: help, config commands, and bad input -> one message, exit 2, nothing written."""

from __future__ import annotations

import hashlib

from conftest import run_cli

from mpi_dbm import config


def no_traceback(proc) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_help_lists_the_commands():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for cmd in ("run", "config", "status", "info"):
        assert cmd in proc.stdout
    run_help = run_cli("run", "--help").stdout
    for opt in ("--output", "--force", "--resume", "--io", "--quiet", "mpiexec"):
        assert opt in run_help


def test_config_show_prints_the_valid_default(tmp_path):
    proc = run_cli("config", "show")
    assert proc.returncode == 0
    assert config.parse_text(proc.stdout) == config.default()
    path = tmp_path / "d.toml"
    path.write_text(proc.stdout)
    check = run_cli("config", "check", str(path))
    assert check.returncode == 0, check.stderr
    assert "3 points x 64 replicas = 192 tasks" in check.stdout
    assert "core-hours" in check.stdout


def test_config_check_rejects_bad_values(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(config.default_text().replace("replicas = 64", "replicas = -1"))
    proc = run_cli("config", "check", str(path))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"mpi-dbm: error: {path}: [sweep] replicas: must be >= 1, got -1"
    no_traceback(proc)


def test_run_with_missing_config_or_directory_writes_nothing(tmp_path):
    proc = run_cli("run", str(tmp_path / "nope.toml"), "-o", str(tmp_path / "o.h5"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    proc = run_cli("run", "-o", str(tmp_path / "missing-dir" / "o.h5"))
    assert proc.returncode == 2 and "output directory" in proc.stderr and "does not exist" in proc.stderr
    no_traceback(proc)
    assert list(tmp_path.iterdir()) == []


def test_existing_results_are_not_overwritten(tmp_path, tiny_config):
    cfg = tiny_config()
    out = tmp_path / "r.h5"
    out.write_bytes(b"precious")
    proc = run_cli("run", str(cfg), "-o", str(out))
    assert proc.returncode == 2 and "exists; pass --resume" in proc.stderr
    assert out.read_bytes() == b"precious"
    proc = run_cli("run", str(cfg), "-o", str(out), "--resume")
    assert proc.returncode == 2 and "cannot resume" in proc.stderr and "not an HDF5 file" in proc.stderr
    assert out.read_bytes() == b"precious"
    proc = run_cli("run", str(cfg), "-o", str(out), "--force", "--resume")
    assert proc.returncode == 2 and "exclude each other" in proc.stderr
    no_traceback(proc)


def test_errors_under_mpiexec_print_once(tmp_path, tiny_config):
    cfg = tiny_config(edits={"steps = 300": "steps = 301"})
    proc = run_cli("run", str(cfg), "-o", str(tmp_path / "o.h5"), ranks=2)
    assert proc.returncode != 0
    assert proc.stderr.count("mpi-dbm: error:") == 1
    assert "measure_every: 100 does not divide steps = 301" in proc.stderr
    no_traceback(proc)
    assert not (tmp_path / "o.h5").exists()


def test_resume_with_another_config_names_the_difference(tmp_path, tiny_config):
    cfg = tiny_config()
    out = tmp_path / "r.h5"
    assert run_cli("run", str(cfg), "-o", str(out), "--quiet").returncode == 0
    before = digest(out)
    other = tiny_config(name="other.toml", edits={"seed = 7": "seed = 8"})
    proc = run_cli("run", str(other), "-o", str(out), "--resume")
    assert proc.returncode == 2
    assert "[sweep] seed: file has 7, config has 8" in proc.stderr
    assert digest(out) == before


def test_status_of_bad_files(tmp_path):
    junk = tmp_path / "x.h5"
    junk.write_text("not hdf5")
    for target, message in ((junk, "not an HDF5 file"), (tmp_path / "none.h5", "does not exist")):
        proc = run_cli("status", str(target))
        assert proc.returncode == 2 and message in proc.stderr
        no_traceback(proc)


def test_info_reports_parallel_hdf5():
    proc = run_cli("info")
    assert proc.returncode == 0
    assert "parallel HDF5 (h5py.get_config().mpi): True" in proc.stdout


def test_bad_time_limits_are_quoted_as_given(tmp_path, tiny_config):
    cfg = tiny_config()
    for given, words in (("-5", "must be positive"), ("1-xx", "use SECONDS"), ("0", "must be positive")):
        proc = run_cli("run", str(cfg), "-o", str(tmp_path / "o.h5"), "--time-limit", given)
        assert proc.returncode == 2
        assert f"'{given}': {words}" in proc.stderr, proc.stderr
        no_traceback(proc)
    assert not (tmp_path / "o.h5").exists()


def test_configs_that_cannot_fit_are_refused_before_anything_is_written(tmp_path, tiny_config):
    big = tiny_config(name="big.toml", edits={"replicas = 6": "replicas = 1000000000000"})
    for ranks in (1, 2):
        proc = run_cli("run", str(big), "-o", str(tmp_path / "o.h5"), ranks=ranks)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("mpi-dbm: error:") == 1
        assert f"{big}: [sweep] replicas = 1000000000000: needs ~" in proc.stderr
        assert "TB of memory per rank" in proc.stderr and "--force-size" in proc.stderr
        no_traceback(proc)
    check = run_cli("config", "check", str(big))
    assert check.returncode == 2 and "[sweep] replicas = 1000000000000: needs ~" in check.stderr
    minibatch = tiny_config(
        name="mb.toml",
        edits={"mu = 3.0": 'mu = 3.0\nnoise = "minibatch"', "mass = 2.0": "mass = 2.0\nn_samples = 10"},
    )
    proc = run_cli("run", str(minibatch), "-o", str(tmp_path / "o.h5"))
    assert proc.returncode == 2
    assert "[sweep] batch size 16: exceeds [target] n_samples = 10" in proc.stderr
    no_traceback(proc)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.toml", "mb.toml"]


def test_force_size_runs_what_the_estimate_refuses(tmp_path, tiny_config, monkeypatch):
    cfg = tiny_config()
    monkeypatch.setenv("MPI_DBM_MEMORY", "1k")  # a machine far too small for anything
    proc = run_cli("run", str(cfg), "-o", str(tmp_path / "o.h5"))
    assert proc.returncode == 2 and "needs ~" in proc.stderr and "than the 1.02 kB" in proc.stderr
    assert not (tmp_path / "o.h5").exists()
    proc = run_cli("run", str(cfg), "-o", str(tmp_path / "o.h5"), "--force-size", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "mpi-dbm: warning:" in proc.stderr and "running anyway (--force-size)" in proc.stderr
    # stopped (a wall-time signal at start-up), it prints a resume command that keeps --force-size
    import shlex
    import subprocess
    import sys
    from pathlib import Path

    helper = str(Path(__file__).with_name("signal_at_import.py"))
    args = ["run", str(cfg), "-o", str(tmp_path / "p.h5"), "--force-size"]
    stopped = subprocess.run(
        [sys.executable, helper, "numpy", "SIGUSR1", "all", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert stopped.returncode == 75, stopped.stderr
    printed = stopped.stderr.split("complete them with: mpi-dbm ", 1)[1].splitlines()[0]
    assert shlex.split(printed) == [*args, "--resume"]
    assert run_cli(*shlex.split(printed)).returncode == 0


def test_commands_other_than_run_still_die_on_a_wall_time_signal(tmp_path):
    """Only `run` stops cleanly: a SIGTERM recorded during start-up is re-delivered to any other
    command, which then ends by the signal as before (nothing hangs on to it)."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    helper = str(Path(__file__).with_name("signal_at_import.py"))
    for module in ("click", "numpy"):
        proc = subprocess.run(
            [sys.executable, helper, module, "SIGTERM", "all", "status", str(tmp_path / "none.h5")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == -signal.SIGTERM, (module, proc.returncode, proc.stderr)
