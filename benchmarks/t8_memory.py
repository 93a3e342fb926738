"""Target 8: peak RSS per rank stays flat as the sweep grows (no per-task accumulation), and the
bytes per realisation in a stack.

Three sweeps on 2 ranks through the real driver (benchmarks/mpi_sweep.py): 2 points × 64, 512
and 2 048 replicas (8 → 256 work units of 16), 100 steps each. Ratio = largest peak RSS of the
biggest sweep over that of the smallest (goal ≤ 1.10). Bytes per realisation: a stack's state
(weights, chains, scratch), its share of the random-number buffer and its StackResult rows,
for the default model at |B| = 16 and 256.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import grbm, quick, report, run_sweep_mpi, streams, sweep_config


def bytes_per_realisation(batch_size: int, n_replicas: int = 64, n_meas: int = 11) -> float:
    model = grbm("marginal")
    s = streams(n_replicas)
    state = model.init(s, batch_size)
    for _ in range(3):
        model.step(state, 0.02, batch_size, s)
    result = n_meas * (model.spectra[0].size + len(model.scalars)) * 8 + 9
    return (state.nbytes + s.buffer_bytes) / n_replicas + result


def main() -> None:
    sizes = (64, 256) if quick() else (64, 512, 2048)
    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        for reps in sizes:
            ranks = run_sweep_mpi(sweep_config([(0.02, 16), (0.04, 32)], reps, 16, 100), 2, Path(tmp))
            peaks[reps] = max(r["rss_peak"] for r in ranks)
            start = max(r["rss_before"] for r in ranks)
            mib = f"peak RSS {peaks[reps] / 2**20:.1f} MiB (after imports {start / 2**20:.1f} MiB)"
            print(f"  {2 * reps:5d} tasks: {mib}")
    ratio = peaks[sizes[-1]] / peaks[sizes[0]]
    per = {b: bytes_per_realisation(b) for b in (16, 256)}
    print(
        "  bytes per realisation in a stack: "
        + ", ".join(f"|B|={b}: {v / 1024:.1f} KiB" for b, v in per.items())
    )
    report(
        "8 peak RSS, biggest / smallest sweep",
        ratio,
        "<= 1.10",
        ratio <= 1.10,
        f"{2 * sizes[0]} -> {2 * sizes[-1]} tasks; per realisation {per[16] / 1024:.1f} KiB (|B|=16), "
        f"{per[256] / 1024:.1f} KiB (|B|=256)",
    )


if __name__ == "__main__":
    main()
