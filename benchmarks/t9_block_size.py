"""Target 9: the default sweep's whole-process speed against a plain per-replica loop (goal ≥ 8.5×).

The default config (`mpi-dbm config show`) with 512 replicas per point and fewer steps, run as a
user runs it: `scripts/mpirun-local -n 1 mpi-dbm run CONFIG -o OUT.h5` in a fresh process,
timed from launch to exit (interpreter start-up, imports, pre-flight, file creation, training,
writes, close), at the parser's default block size (no `block_size` key: what a user's config
gets), at the block size `mpi_dbm/default.toml` ships (chosen to balance its own small sweep over
2 ranks) and at the old default 16.

The goal's loop is the plain one of the issue (#12: "6.3× a plain per-replica loop at 16 and 8.9×
at 64"): `benchmarks/baseline_grbm.py`, the paper's Gibbs updates written as one would first write
them, one realisation after another, on the sweep's (α, |B|) points, timed in-process (its start-up
is not counted, which favours it). Also printed: the same sweep with `block_size = 1`, every replica
trained alone by mpi-dbm itself (same algorithm and random numbers, so the same results): its ratio
is what stacking alone gains, without the sampler and the rest of the toolkit.

Rate = realisation-updates per second (points × replicas × steps / seconds). The variants are
interleaved round by round; each keeps its best wall time (the ratios) and, separately, its best CPU
time (user + system of the launched processes, from `getrusage(RUSAGE_CHILDREN)`): on a loaded
machine the wall times wait for other processes' turns, the CPU times much less, so the CPU ratio
is printed too, with the load.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from baseline_grbm import train_points
from common import MPI_ENV, MPIRUN, PYTHON, interleaved, quick, report

REPLICAS = 512
#: realisations per point of the plain loop (timed in-process, as a rate: its start-up is not counted)
PLAIN_REALISATIONS = 8
BLOCKS = (16, 1)


def config_text(steps: int, block: int | str) -> str:
    """The embedded default config with REPLICAS replicas, `steps` steps and the given block size
    ("parser": the key removed, so the parser's default applies; "shipped": as default.toml has it)."""
    from mpi_dbm.config import default_text

    text = default_text()
    text = re.sub(r"(?m)^replicas = \d+", f"replicas = {REPLICAS}", text)
    text = re.sub(r"(?m)^steps = \d+", f"steps = {steps}", text)
    text = re.sub(r"(?m)^measure_every = \d+", f"measure_every = {max(1, steps // 10)}", text)
    if block != "shipped":
        new = "" if block == "parser" else f"block_size = {block}\n"
        text = re.sub(r"(?m)^block_size = .*\n", new, text)
    return text


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def whole_process(cfg: Path, out: Path, cpu: list[float]):
    """A variant for `interleaved`: one run's wall time; its CPU time is appended to `cpu`."""
    cmd = [MPIRUN, "-n", "1", PYTHON, "-m", "mpi_dbm", "run", str(cfg), "-o", str(out), "--force"]
    env = {**os.environ, **MPI_ENV}

    def run() -> float:
        c0, t0 = _children_cpu(), time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
        dt = time.perf_counter() - t0
        cpu.append(_children_cpu() - c0)
        if proc.returncode != 0:
            raise RuntimeError(f"mpi-dbm run failed ({proc.returncode}): {proc.stderr[-2000:]}")
        return dt

    return run


def main() -> None:
    from mpi_dbm.config import parse_text

    rounds = 1 if quick() else 2
    steps = 200 if quick() else 2000
    variants = {}
    n_updates = 0
    size: dict[str, int] = {}
    cpu: dict[str, list[float]] = {}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for block in ("parser", "shipped", *BLOCKS):
            name = block if isinstance(block, str) else f"block {block}"
            text = config_text(steps, block)
            cfg = parse_text(text)
            n_updates = len(cfg.sweep.points) * cfg.sweep.replicas * steps
            size[name] = cfg.sweep.block_size
            path = Path(tmp) / f"{name.replace(' ', '')}.toml"
            path.write_text(text)
            cpu[name] = []
            variants[name] = whole_process(path, Path(tmp) / f"{path.stem}.h5", cpu[name])
        points = [(float(lr), int(bs)) for lr, bs in cfg.sweep.points]
        plain_n = 1 if quick() else PLAIN_REALISATIONS
        variants["plain loop"] = lambda: train_points(points, plain_n, steps) and None
        best = interleaved(variants, rounds)
    load = max(load, os.getloadavg()[0])
    rate = {name: n_updates / t for name, t in best.items() if name != "plain loop"}
    plain = len(points) * plain_n * steps / best["plain loop"]
    loop = rate["block 1"]
    cpu_loop = min(cpu["block 1"])
    print(f"  default config, {REPLICAS} replicas per point, {steps} steps, 1 rank, whole process")
    print(f"  load average (1 min) before/after, the higher: {load:.1f} on {os.cpu_count()} cores")
    for name, r in rate.items():
        label = f"{name} ({size[name]})" if name in ("parser", "shipped") else name
        by_cpu = cpu_loop / min(cpu[name])
        print(
            f"  {label:14s} {r:12.0f} realisation-updates/s   {r / loop:6.2f}× the per-replica loop"
            f"   (CPU time: {n_updates / min(cpu[name]):8.0f}/s, {by_cpu:5.2f}×)"
        )
    print(
        f"  plain loop     {plain:12.0f} realisation-updates/s   {plain / loop:6.2f}× the per-replica loop"
        f"   (benchmarks/baseline_grbm.py: the paper's Gibbs updates, one realisation at a time)"
    )
    ratios = {name: rate[name] / plain for name in ("parser", "shipped")}
    for name, ratio in ratios.items():
        print(
            f"  {name} ({size[name]}) / plain loop: {ratio:5.2f}×   / block-1 loop: {rate[name] / loop:5.2f}×"
        )
    worst = min(ratios, key=lambda k: ratios[k])
    report(
        "9 default sweep (whole process) / plain per-replica loop",
        ratios[worst],
        ">= 8.5",
        ratios[worst] >= 8.5,
        f"worst of the parser default (block {size['parser']}: {ratios['parser']:.1f}) and default.toml "
        f"(block {size['shipped']}: {ratios['shipped']:.1f}); old default 16: "
        f"{rate['block 16'] / plain:.1f}; "
        f"stacking alone (/ block-1 loop): {rate['parser'] / loop:.1f} and {rate['shipped'] / loop:.1f}",
    )


if __name__ == "__main__":
    main()
