"""Damaged results files are reported as damage: one message and exit code 2, never a hang or a traceback.

A real small results file is damaged at many places (zeroed blocks and random bytes,
deterministic seeds), and `status`, `verify` and `analyze` run on each copy in a child
process that reports every command as it starts and ends: a command that never ends is a
hang (the child is killed after a generous limit: a hang never ends, whatever the load),
an exception escaping the CLI is a traceback. A command may succeed only where `verify`
agrees the file is intact, and then every dataset must read as in the undamaged file.

Run as a script (`python test_damaged_files.py CASES.json`) it is that child.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import select
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import MPI_ENV, PYTHON, run_cli

from mpi_dbm.store.scales import UNREAD_ATTRIBUTES

#: a hang is a command that reports nothing for this long (a normal one takes seconds)
HANG_SECONDS = 300.0
COMMANDS = ("status", "verify", "analyze")


# -- the child: damage, run the commands in-process, report ----------------------------------------
def _datasets(path: Path) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r", locking=False) as f:
        f.visititems(
            lambda name, obj: out.update({name: obj[...]}) if isinstance(obj, h5py.Dataset) else None
        )
    return out


def _same_data(path: Path, reference: dict[str, np.ndarray]) -> bool:
    """Every dataset of `path` equals `reference`, but for the status of tasks `verify` names as
    pending with complete rows (a status reading 0 is not data lost: --resume recomputes them)."""
    from mpi_dbm.verify import check

    now = _datasets(path)
    if now.keys() != reference.keys():
        return False
    unmarked = check(path).unmarked
    now["tasks/status"][unmarked] = reference["tasks/status"][unmarked]
    return all(np.array_equal(now[k], reference[k], equal_nan=True) for k in reference)


def _run_command(args: list[str]) -> dict[str, object]:
    from mpi_dbm.cli import main

    out, err = io.StringIO(), io.StringIO()
    code: object = 0
    tb = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main.main(args=args, prog_name="mpi-dbm", standalone_mode=True)
        except SystemExit as exc:
            code = exc.code if exc.code is not None else 0
        except BaseException:  # what the user would have seen as a traceback
            tb = traceback.format_exc()
    return {"code": code, "stderr": err.getvalue(), "traceback": tb}


def _child(cases_file: str) -> None:
    spec = json.loads(Path(cases_file).read_text())
    original = Path(spec["original"])
    clean = original.read_bytes()
    reference = _datasets(original)
    work = Path(spec["workdir"])
    for i, case in enumerate(spec["cases"]):
        data = bytearray(clean)
        off, length = case["offset"], case["length"]
        stop = min(off + length, len(data))
        if case["kind"] == "zeros":
            data[off:stop] = bytes(stop - off)
        else:
            rng = np.random.default_rng(np.random.SeedSequence(case["seed"]))
            data[off:stop] = rng.integers(0, 256, stop - off, dtype=np.uint8).tobytes()
        damaged = work / f"case{i}.h5"
        damaged.write_bytes(bytes(data))
        for cmd in COMMANDS:
            print(json.dumps({"case": i, "cmd": cmd, "start": True}), flush=True)
            args = [cmd, str(damaged)]
            if cmd == "analyze":
                args += ["-o", str(work / f"report{i}"), "--no-figures"]
            result = _run_command(args)
            if cmd == "verify" and result["code"] == 0:
                result["same"] = _same_data(damaged, reference)
            print(json.dumps({"case": i, "cmd": cmd, **result}), flush=True)
        damaged.unlink()
        shutil.rmtree(work / f"report{i}", ignore_errors=True)


# -- the parent --------------------------------------------------------------------------
def _run_child(spec: dict, tmp_path: Path) -> list[dict]:
    """Run the child on `spec`; fail naming the command that never ended (a hang)."""
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(spec))
    env = {**os.environ, **MPI_ENV}
    proc = subprocess.Popen(
        [PYTHON, __file__, str(cases)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    results, started = [], None
    try:
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], HANG_SECONDS)
            if not ready:
                pytest.fail(f"hang: {started} reported nothing for {HANG_SECONDS:.0f} s")
            line = proc.stdout.readline()
            if not line:
                break
            msg = json.loads(line)
            if msg.get("start"):
                started = spec["cases"][msg["case"]] | {"cmd": msg["cmd"]}
            else:
                results.append(msg)
    finally:
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return results


@pytest.fixture(scope="module")
def small_results(tmp_path_factory) -> Path:
    """A finished tiny sweep (3 points x 4 replicas, 3 measurements), serial writer."""
    d = tmp_path_factory.mktemp("damage")
    cfg = d / "c.toml"
    cfg.write_text(
        '[sweep]\nname = "d"\nseed = 3\nreplicas = 4\npoints = [[0.04, 8], [0.08, 16], [0.02, 4]]\n'
        'block_size = 2\n[model]\nkind = "grbm"\nn_visible = 5\nn_hidden = 5\nmu = 3.0\n'
        '[target]\nkind = "lattice"\nmass = 2.0\n[train]\nsteps = 100\nmeasure_every = 50\n'
    )
    out = d / "r.h5"
    proc = run_cli("run", str(cfg), "-o", str(out), "--quiet", "--io", "serial")
    assert proc.returncode == 0, proc.stderr
    return out


def _cases(size: int) -> list[dict]:
    """Zeroed 512-byte blocks at every multiple of 512 and at 3000 (the issue's case), then
    60 random ones (zeros or random bytes, 1 to 512 bytes) from fixed seeds."""
    cases = [{"kind": "zeros", "offset": off, "length": 512} for off in [*range(0, size, 512), 3000]]
    rng = np.random.default_rng(np.random.SeedSequence(20261201))
    for k in range(60):
        cases.append(
            {
                "kind": "zeros" if k % 2 else "random",
                "offset": int(rng.integers(0, size)),
                "length": int(rng.choice([1, 8, 64, 512])),
                "seed": [20261201, k],
            }
        )
    return cases


def test_damage_anywhere_is_one_message_and_exit_2_never_a_hang(small_results, tmp_path):
    cases = _cases(small_results.stat().st_size)
    assert 70 <= len(cases) <= 140
    results = _run_child({"original": str(small_results), "workdir": str(tmp_path), "cases": cases}, tmp_path)
    assert len(results) == len(cases) * len(COMMANDS), "the child stopped early"
    by_case: dict[int, dict[str, dict]] = {}
    for r in results:
        by_case.setdefault(r["case"], {})[r["cmd"]] = r
    n_damaged = 0
    for i, runs in by_case.items():
        where = f"case {cases[i]}"
        for cmd, r in runs.items():
            assert r["traceback"] is None, f"{where}: {cmd} raised\n{r['traceback']}"
            assert r["code"] in (0, 2), f"{where}: {cmd} exited {r['code']}: {r['stderr']}"
            if r["code"] == 2:
                lines = r["stderr"].strip().splitlines()
                assert len(lines) == 1 and lines[0].startswith("mpi-dbm: error: "), f"{where}: {cmd}: {lines}"
        verdict = runs["verify"]["code"]
        n_damaged += verdict == 2
        if verdict == 0:
            assert runs["verify"]["same"], f"{where}: verify passed a file whose data changed"
        for cmd in ("status", "analyze"):
            assert runs[cmd]["code"] == verdict, (
                f"{where}: {cmd} exited {runs[cmd]['code']}, verify {verdict}"
            )
    assert n_damaged >= len(cases) // 2, "most damage must be found"


def _zero_rows(path: Path, dataset: str, tasks: list[int]) -> None:
    """Zero the rows of `tasks` in a contiguous dataset, in place, bypassing HDF5."""
    with h5py.File(path, "r") as f:
        ds = f[dataset]
        offset, row = ds.id.get_offset(), ds.dtype.itemsize * int(np.prod(ds.shape[1:]))
    with open(path, "r+b") as fh:
        for t in tasks:
            fh.seek(offset + t * row)
            fh.write(bytes(row))


@pytest.mark.parametrize("dataset", ["spectra/X", "scalars/loss", "tasks/diverged_step"])
def test_zeroed_rows_are_caught_by_verify_status_and_analyze(small_results, tmp_path, dataset):
    damaged = tmp_path / "zeroed.h5"
    shutil.copy(small_results, damaged)
    _zero_rows(damaged, dataset, [2, 3, 7])
    for args in (["verify"], ["status"], ["analyze", "-o", str(tmp_path / "rep"), "--no-figures"]):
        proc = run_cli(args[0], str(damaged), *args[1:], timeout=HANG_SECONDS)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert "3 finished task(s)" in proc.stderr and "tasks 2..3, 7" in proc.stderr, proc.stderr
    assert not (tmp_path / "rep").exists(), "analyze wrote a report of damaged data"


def test_a_status_zeroed_to_pending_is_noted_and_resume_recomputes_the_task(small_results, tmp_path):
    """Rows complete, status 0: as after a kill between the rows and the status. Not damage."""
    damaged = tmp_path / "unmarked.h5"
    shutil.copy(small_results, damaged)
    _zero_rows(damaged, "tasks/status", [4])
    proc = run_cli("verify", str(damaged))
    assert proc.returncode == 0, proc.stderr
    assert "1 pending task(s) have complete rows" in proc.stdout and "(tasks 4)" in proc.stdout
    proc = run_cli("status", str(damaged))
    assert proc.returncode == 0 and "11 done + 0 diverged + 1 pending" in proc.stdout, proc.stdout
    with h5py.File(damaged, "r") as f:
        (tmp_path / "c.toml").write_text(f.attrs["config"].decode())
    proc = run_cli("run", str(tmp_path / "c.toml"), "-o", str(damaged), "--resume", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert _datasets(damaged).keys() == _datasets(small_results).keys()
    for name, values in _datasets(small_results).items():
        assert np.array_equal(_datasets(damaged)[name], values, equal_nan=True), name


def test_damaged_rows_of_a_task_zeroed_to_pending_are_damage_that_resume_repairs(small_results, tmp_path):
    damaged = tmp_path / "broken.h5"
    shutil.copy(small_results, damaged)
    _zero_rows(damaged, "tasks/status", [6])
    _zero_rows(damaged, "spectra/X", [6])
    for cmd in ("verify", "status"):
        proc = run_cli(cmd, str(damaged))
        assert proc.returncode == 2 and "1 pending task(s) whose rows do not match" in proc.stderr, (
            proc.stderr
        )
        assert "tasks 6 " in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    with h5py.File(damaged, "r") as f:
        (tmp_path / "c.toml").write_text(f.attrs["config"].decode())
    proc = run_cli("run", str(tmp_path / "c.toml"), "-o", str(damaged), "--resume", "--quiet")
    assert proc.returncode == 0, proc.stderr
    for name, values in _datasets(small_results).items():
        assert np.array_equal(_datasets(damaged)[name], values, equal_nan=True), name


def test_resume_and_merge_refuse_a_damaged_file(small_results, tmp_path):
    damaged = tmp_path / "zeroed.h5"
    shutil.copy(small_results, damaged)
    _zero_rows(damaged, "spectra/X", [5])
    with h5py.File(damaged, "r") as f:
        (tmp_path / "c.toml").write_text(f.attrs["config"].decode())
    before = damaged.read_bytes()
    proc = run_cli("run", str(tmp_path / "c.toml"), "-o", str(damaged), "--resume", "--quiet")
    assert proc.returncode == 2 and "cannot resume" in proc.stderr and "tasks 5" in proc.stderr, proc.stderr
    assert damaged.read_bytes() == before
    proc = run_cli("merge", str(tmp_path / "m.h5"), str(damaged))
    assert proc.returncode == 2 and "tasks 5" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "m.h5").exists()


def test_clean_files_verify_serial_parallel_and_merged(tmp_path, tiny_config):
    cfg = tiny_config(schedule="dynamic")
    serial, parallel = tmp_path / "serial.h5", tmp_path / "parallel.h5"
    for out, io_mode, ranks in ((serial, "serial", 1), (parallel, "parallel", 2)):
        proc = run_cli("run", str(cfg), "-o", str(out), "--quiet", "--io", io_mode, ranks=ranks)
        assert proc.returncode == 0, proc.stderr
    parts = [tmp_path / f"part{i}.h5" for i in (1, 2)]
    for i, part in enumerate(parts, 1):
        proc = run_cli("run", str(cfg), "-o", str(part), "--quiet", "--chunk", f"{i}/2")
        assert proc.returncode == 0, proc.stderr
    merged = tmp_path / "merged.h5"
    assert run_cli("merge", str(merged), *map(str, parts)).returncode == 0
    for path in (serial, parallel, merged, *parts):
        proc = run_cli("verify", str(path))
        assert proc.returncode == 0 and "intact" in proc.stdout, (path, proc.stdout, proc.stderr)
    with h5py.File(serial, "r") as a, h5py.File(parallel, "r") as b, h5py.File(merged, "r") as c:
        assert np.all(a["tasks/checksum"][...] != 0)
        assert np.array_equal(a["tasks/checksum"][...], b["tasks/checksum"][...])
        assert np.array_equal(a["tasks/checksum"][...], c["tasks/checksum"][...])
        for f in (a, b, c):  # checksummed HDF5 metadata
            assert f.libver[0] == "v110"
            # the global heap has no checksum: it holds only the dimension scales' references
            # (DIMENSION_LIST), which mpi-dbm never reads; every attribute it reads is fixed-size
            assert _variable_length_attributes(f) <= set(UNREAD_ATTRIBUTES)


def _variable_length_attributes(f: h5py.File) -> set[str]:
    names: set[str] = set()

    def visit(_: str, obj: h5py.HLObject) -> None:
        for key in obj.attrs:
            dtype = obj.attrs.get_id(key).dtype
            if h5py.check_vlen_dtype(dtype) is not None or (
                h5py.check_string_dtype(dtype) and (h5py.check_string_dtype(dtype).length is None)
            ):
                names.add(key)

    visit("/", f)
    f.visititems(visit)
    return names


def _layout_1_like(path: Path) -> None:
    """A file as mpi-dbm wrote layout 1: the 'earliest' HDF5 format, strings in a global heap."""
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "mpi-dbm results"
        f.attrs["layout_version"] = 1
        f.attrs["config"] = "[sweep]\n" + "# padding\n" * 50
        f.create_dataset("tasks/status", data=np.ones(4, dtype=np.int8))


def test_layout_1_is_refused_with_one_message_even_with_a_zeroed_global_heap(tmp_path):
    old = tmp_path / "old.h5"
    _layout_1_like(old)
    data = bytearray(old.read_bytes())
    gcol = data.find(b"GCOL")
    assert gcol > 0
    data[gcol + 16 : gcol + 16 + 512] = bytes(len(data[gcol + 16 : gcol + 16 + 512]))  # the heap's objects
    damaged = tmp_path / "old-damaged.h5"
    damaged.write_bytes(bytes(data))
    for path in (old, damaged):
        for cmd in ("status", "verify"):
            proc = run_cli(cmd, str(path), timeout=HANG_SECONDS)
            assert proc.returncode == 2, (cmd, path, proc.stderr)
            assert "layout version 1" in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


if __name__ == "__main__":
    _child(sys.argv[1])
