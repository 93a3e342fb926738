"""A full disk never hangs a job or leaves a damaged file (docs/reliability.md, "Disk full").

Real small file systems: a tmpfs mounted for the test (we need root or CAP_SYS_ADMIN; the
tests skip, saying so, where mounting is impossible), unmounted in a `finally`. Every run
goes through mpiexec with 1, 2 or 3 ranks and a timeout: a hang fails the test.
- refused before anything is created (rank 0's space check, broadcast);
- creation failing after the check (no inode left; a full disk under a direct call of
  `store.create_results` on every rank): one message on every rank, nothing left behind;
- a write failing during the run (ENOSPC from the results file itself: the pages of the
  pending rows are punched out of a file on a full tmpfs, as on copy-on-write file
  systems where an overwrite needs new blocks): all ranks stop, exit 74, the file stays
  resumable, and `--resume` after freeing space gives the uninterrupted run's bits.
"""

from __future__ import annotations

import ctypes
import errno
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import MPI_ENV, MPIEXEC, PYTHON, ROOT, run_cli

#: a run that hangs is killed after this long and the test fails (a run takes ~3 s here)
HANG_TIMEOUT = 30
PAGE = 4096

#: 4 points × 50 replicas, 11 measurements of 20 eigenvalues: a results file of ~0.4 MB
BIG = """
[sweep]
name = "big"
seed = 5
replicas = 50
points = [[0.04, 8], [0.02, 8], [0.06, 16], [0.03, 4]]
block_size = 10
schedule = "{schedule}"
[model]
kind = "grbm"
n_visible = 20
n_hidden = 20
[train]
steps = 200
measure_every = 20
"""

SMALL = """
[sweep]
name = "small"
seed = 1
replicas = 2
points = [[0.04, 8]]
[model]
kind = "grbm"
n_visible = 4
n_hidden = 4
[train]
steps = 20
measure_every = 10
"""


def mpirun(*args: str, ranks: int, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`mpiexec -n RANKS python -m mpi_dbm ARGS`, killed (and the test failed) if it hangs."""
    cmd = [MPIEXEC, "-n", str(ranks), PYTHON, "-m", "mpi_dbm", *args]
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=HANG_TIMEOUT,
        env={**os.environ, **MPI_ENV},
        cwd=cwd,
    )


def mpi_messages(stderr: str) -> list[str]:
    """Our lines on stderr (mpiexec adds its own banner about the non-zero exit)."""
    return [line for line in stderr.splitlines() if line.startswith("mpi-dbm:")]


@pytest.fixture
def mount_tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Factory: mount a tmpfs of `size` (and at most `nr_inodes` inodes) under tmp_path."""
    mounted: list[Path] = []

    def mount(name: str, size: str, nr_inodes: int | None = None) -> Path:
        where = tmp_path / name
        where.mkdir()
        opts = f"size={size}" + (f",nr_inodes={nr_inodes}" if nr_inodes else "")
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {proc.stderr.strip()}")
        mounted.append(where)
        return where

    try:
        yield mount
    finally:
        for where in mounted:
            if subprocess.run(["umount", str(where)], capture_output=True, timeout=60).returncode != 0:
                subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=60)


def fill(directory: Path, name: str = "ballast") -> Path:
    """Write whole pages into directory/name until the file system is full (no byte left)."""
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    page = b"\xa5" * PAGE
    try:
        while True:
            try:
                os.write(fd, page)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
    finally:
        os.close(fd)
    assert os.statvfs(directory).f_bavail == 0
    return path


def punch_hole(path: Path, offset: int, length: int) -> None:
    """Give the pages of [offset, offset + length) back to the file system (they read as zeros)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    keep_size, punch = 0x01, 0x02  # FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE (linux/falloc.h)
    fd = os.open(path, os.O_RDWR)
    try:
        if libc.fallocate(fd, keep_size | punch, offset, length) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(path))
    finally:
        os.close(fd)


def contents(path: Path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:
        return {
            **{f"spectra/{k}": v[...] for k, v in f["spectra"].items()},
            **{f"scalars/{k}": v[...] for k, v in f["scalars"].items()},
            **{f"tasks/{k}": v[...] for k, v in f["tasks"].items()},
        }


def leftovers(directory: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in keep)


@pytest.fixture
def good_file(tmp_path: Path) -> Callable[[Path], tuple[Path, bytes]]:
    """Factory: a finished small results file in `directory`, and its bytes."""

    def make(directory: Path) -> tuple[Path, bytes]:
        cfg = tmp_path / "small.toml"
        cfg.write_text(SMALL)
        out = directory / "earlier.h5"
        proc = mpirun("run", str(cfg), "-o", str(out), "--quiet", ranks=1)
        assert proc.returncode == 0, proc.stderr
        return out, out.read_bytes()

    return make


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, np.ndarray]:
    d = tmp_path_factory.mktemp("disk_full_ref")
    cfg = d / "big.toml"
    cfg.write_text(BIG.format(schedule="dynamic"))
    proc = run_cli("run", str(cfg), "-o", str(d / "ref.h5"), "--quiet", timeout=300)
    assert proc.returncode == 0, proc.stderr
    return contents(d / "ref.h5")


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_too_small_disk_is_refused_before_anything_is_created(tmp_path, mount_tmpfs, good_file, ranks):
    disk = mount_tmpfs("disk", "300k")
    earlier, earlier_bytes = good_file(disk)
    cfg = tmp_path / "big.toml"
    cfg.write_text(BIG.format(schedule="dynamic"))
    proc = mpirun("run", str(cfg), "-o", str(disk / "big.h5"), ranks=ranks)
    assert proc.returncode == 2, proc.stderr
    messages = mpi_messages(proc.stderr)
    assert len(messages) == 1, proc.stderr
    assert messages[0].startswith(f"mpi-dbm: error: not enough space in '{disk}': the results file needs 0.4")
    assert "Traceback" not in proc.stderr
    assert leftovers(disk, {earlier.name}) == []  # no big.h5, .creating or .lock
    assert earlier.read_bytes() == earlier_bytes


def test_completely_full_disk_leaves_no_lock(tmp_path, mount_tmpfs, good_file):
    disk = mount_tmpfs("disk", "300k")
    earlier, earlier_bytes = good_file(disk)
    fill(disk)
    cfg = tmp_path / "small.toml"
    cfg.write_text(SMALL)
    proc = mpirun("run", str(cfg), "-o", str(disk / "new.h5"), ranks=2)
    assert proc.returncode == 2, proc.stderr
    assert len(mpi_messages(proc.stderr)) == 1 and "not enough space" in proc.stderr, proc.stderr
    assert leftovers(disk, {earlier.name, "ballast"}) == []
    assert earlier.read_bytes() == earlier_bytes


@pytest.mark.parametrize(("ranks", "io"), [(1, "parallel"), (2, "parallel"), (3, "parallel"), (2, "serial")])
def test_creation_failing_on_rank_0_ends_every_rank_with_its_message(tmp_path, good_file, ranks, io):
    # a failure that rank 0's space check cannot foresee (here NAME.creating cannot be opened: a
    # directory is in the way; on a cluster: a quota, a full disk meanwhile, an I/O error): every
    # rank gets rank 0's verdict, none is left in a collective, and --force keeps the old file
    disk = tmp_path / "disk"
    disk.mkdir()
    earlier, earlier_bytes = good_file(disk)
    (disk / "earlier.h5.creating").mkdir()
    cfg = tmp_path / "big.toml"
    cfg.write_text(BIG.format(schedule="dynamic"))
    proc = mpirun("run", str(cfg), "-o", str(earlier), "--force", "--io", io, ranks=ranks)
    assert proc.returncode == 2, proc.stderr
    messages = mpi_messages(proc.stderr)
    assert len(messages) == 1, proc.stderr
    assert messages[0].startswith(f"mpi-dbm: error: cannot create '{earlier}': "), proc.stderr
    assert "nothing was written" in messages[0]
    assert "Traceback" not in proc.stderr
    assert leftovers(disk, {earlier.name, "earlier.h5.creating"}) == []  # no lock left
    assert earlier.read_bytes() == earlier_bytes


def test_merge_into_a_too_small_disk_is_refused_and_leaves_nothing(tmp_path, mount_tmpfs, good_file):
    disk = mount_tmpfs("disk", "300k")
    earlier, earlier_bytes = good_file(disk)
    cfg = tmp_path / "big.toml"
    cfg.write_text(BIG.format(schedule="dynamic"))
    parts = [tmp_path / f"part{i}.h5" for i in (1, 2)]
    for i, part in enumerate(parts, 1):
        proc = mpirun("run", str(cfg), "-o", str(part), "--chunk", f"{i}/2", "--quiet", ranks=1)
        assert proc.returncode == 0, proc.stderr
    proc = mpirun("merge", str(disk / "merged.h5"), *map(str, parts), ranks=1)
    assert proc.returncode == 2, proc.stderr
    messages = mpi_messages(proc.stderr)
    assert len(messages) == 1, proc.stderr
    assert messages[0].startswith(f"mpi-dbm: error: not enough space in '{disk}': the results file needs 0.4")
    assert "Traceback" not in proc.stderr
    assert leftovers(disk, {earlier.name}) == []
    assert earlier.read_bytes() == earlier_bytes


CREATE_ON_EVERY_RANK = """
import sys
from pathlib import Path
from mpi4py import MPI
from mpi_dbm import config, models
from mpi_dbm.errors import ResultsFileError
from mpi_dbm.store import create_results
from mpi_dbm.streams import shared_data_seed

cfg = config.load(sys.argv[1])
model = models.build(cfg.model, shared_data_seed(cfg.sweep.seed))
try:
    create_results(Path(sys.argv[2]), cfg, model, MPI.COMM_WORLD, parallel_io=True)
    verdict = "created"
except ResultsFileError as exc:
    verdict = str(exc)
Path(sys.argv[3], f"rank{MPI.COMM_WORLD.Get_rank()}.txt").write_text(verdict)
"""


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_creation_running_out_of_space_mid_layout_fails_on_every_rank(tmp_path, mount_tmpfs, ranks):
    # no space check here: creation itself meets the full disk (the case that hung in
    # H5D__contig_fill / MPI_File_set_size with driver='mpio', and crashed on 1 rank)
    disk = mount_tmpfs("disk", "300k")
    cfg = tmp_path / "big.toml"
    cfg.write_text(BIG.format(schedule="dynamic"))
    script = tmp_path / "create.py"
    script.write_text(CREATE_ON_EVERY_RANK)
    out = disk / "big.h5"
    proc = subprocess.run(
        [MPIEXEC, "-n", str(ranks), PYTHON, str(script), str(cfg), str(out), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=HANG_TIMEOUT,
        env={**os.environ, **MPI_ENV, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    expected = (
        f"cannot create '{out}': no space left on device (disk full or quota exceeded); nothing was written"
    )
    assert [(tmp_path / f"rank{r}.txt").read_text() for r in range(ranks)] == [expected] * ranks
    assert "Traceback" not in proc.stderr
    assert leftovers(disk, set()) == []


def punch_pending_rows(path: Path) -> int:
    """Punch out every whole page of /spectra/X that lies in rows of pending tasks; bytes punched."""
    with h5py.File(path, "r") as f:
        ds = f["spectra/X"]
        offset, row = ds.id.get_offset(), int(np.prod(ds.shape[1:])) * ds.dtype.itemsize
        pending = f["tasks/status"][...] == 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], pending.astype(np.int8), [0]])))
    punched = 0
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        lo = -(-(offset + int(a) * row) // PAGE) * PAGE
        hi = (offset + int(b) * row) // PAGE * PAGE
        if hi > lo:
            punch_hole(path, lo, hi - lo)
            punched += hi - lo
    return punched


@pytest.mark.parametrize(
    ("ranks", "io", "schedule"),
    [
        (1, "parallel", "dynamic"),
        (2, "parallel", "dynamic"),
        (3, "parallel", "static"),
        (2, "serial", "dynamic"),
    ],
)
def test_disk_full_during_the_run_stops_all_ranks_and_resume_completes_bitwise(
    tmp_path, mount_tmpfs, good_file, reference, ranks, io, schedule
):
    disk = mount_tmpfs("disk", "1m")
    earlier, earlier_bytes = good_file(disk)
    cfg = tmp_path / "big.toml"
    cfg.write_text(BIG.format(schedule=schedule))
    out = disk / "big.h5"
    first = mpirun("run", str(cfg), "-o", str(out), "--chunk", "1/2", "--quiet", ranks=1)
    assert first.returncode == 0, first.stderr
    before = contents(out)
    done = before["tasks/status"] != 0
    assert 0 < done.sum() < done.size
    # the pending rows now need new pages when written; the disk then has one page left (the lock's)
    assert punch_pending_rows(out) > 10 * PAGE
    ballast = fill(disk)
    os.truncate(ballast, ballast.stat().st_size - PAGE)

    proc = mpirun("run", str(cfg), "-o", str(out), "--resume", "--io", io, ranks=ranks)
    assert proc.returncode == 74, proc.stderr
    messages = mpi_messages(proc.stderr)
    assert len(messages) == 1, proc.stderr
    assert messages[0].startswith(
        f"mpi-dbm: error: writing '{out}' failed: no space left on device (disk full or quota exceeded)"
    )
    assert messages[0].endswith("then rerun the same command with --resume")
    assert "Traceback" not in proc.stderr
    assert leftovers(disk, {earlier.name, "ballast", out.name}) == []  # lock released
    after = contents(out)
    for key, values in before.items():  # rows finished before are intact
        np.testing.assert_array_equal(after[key][done], values[done], err_msg=key)
    assert np.all(after["tasks/status"][done] == before["tasks/status"][done])
    assert earlier.read_bytes() == earlier_bytes

    ballast.unlink()
    final = mpirun("run", str(cfg), "-o", str(out), "--resume", "--quiet", "--io", io, ranks=ranks)
    assert final.returncode == 0, final.stderr
    result = contents(out)
    assert result.keys() == reference.keys()
    for key in reference:
        np.testing.assert_array_equal(result[key], reference[key], err_msg=key)
    assert leftovers(disk, {earlier.name, out.name}) == []
    assert earlier.read_bytes() == earlier_bytes


@pytest.mark.parametrize(("ranks", "io"), [(2, "parallel"), (2, "serial")])
def test_a_run_on_a_disk_full_since_creation_completes(tmp_path, mount_tmpfs, reference, ranks, io):
    # every byte of the file is written (and its size reserved) at creation, so writing the
    # rows during the run needs no new space: a disk that filled up since can still take them
    disk = mount_tmpfs("disk", "1m")
    cfg = tmp_path / "big.toml"
    cfg.write_text(BIG.format(schedule="dynamic"))
    out = disk / "big.h5"
    first = mpirun("run", str(cfg), "-o", str(out), "--io", io, "--time-limit", "0.000001", ranks=ranks)
    assert first.returncode == 75 and "stopped early (time limit)" in first.stderr, first.stderr
    with h5py.File(out, "r") as f:
        assert int((f["tasks/status"][...] == 0).sum()) > 100
    ballast = fill(disk)
    os.truncate(ballast, ballast.stat().st_size - PAGE)  # one page: the lock's
    proc = mpirun("run", str(cfg), "-o", str(out), "--resume", "--quiet", "--io", io, ranks=ranks)
    assert proc.returncode == 0, proc.stderr
    result = contents(out)
    for key in reference:
        np.testing.assert_array_equal(result[key], reference[key], err_msg=key)


MODELS = {
    "grbm": 'kind = "grbm"\nn_visible = 20\nn_hidden = 20',
    "teacher_student": 'kind = "teacher_student"\nn = 2\nteacher_eigenvalues = [2.0, 2.0]\n'
    "data_per_batch = 50\nrecord_entries = true",
    "linear": 'kind = "linear"\nn_in = 20\nn_hidden = 40\nn_out = 20\ntrain = ["W1", "W2"]\n'
    "teacher_singular_values = [[1.0, 20]]",
}

SIZE_AND_CREATE = """
import os, sys
from pathlib import Path
from mpi4py import MPI
from mpi_dbm import config, models
from mpi_dbm.store import create_results, results_file_size
from mpi_dbm.streams import shared_data_seed

cfg = config.load(sys.argv[1])
model = models.build(cfg.model, shared_data_seed(cfg.sweep.seed))
create_results(Path(sys.argv[2]), cfg, model, MPI.COMM_SELF, parallel_io=True)
n = len(model.spectra) + len(model.scalars) + 10
print(results_file_size(cfg, model), os.stat(sys.argv[2]).st_size, n)
"""


@pytest.mark.parametrize("kind", MODELS)
def test_size_estimate_bounds_the_created_file(tmp_path, kind):
    """results_file_size (the space check's figure) bounds the file from above, within 4 kB per dataset."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(BIG.format(schedule="dynamic").replace(MODELS["grbm"], MODELS[kind]))
    script = tmp_path / "size.py"
    script.write_text(SIZE_AND_CREATE)
    proc = subprocess.run(
        [PYTHON, str(script), str(cfg), str(tmp_path / "x.h5")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **MPI_ENV, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    estimate, size, n_datasets = (int(v) for v in proc.stdout.split())
    assert size <= estimate <= size + 2 * 2048 * n_datasets  # a margin of 1 metadata block each
