"""A small stand-in for SLURM and PBS on one machine, for the job script tests.

The `sbatch`, `scontrol`, `qsub` and `srun` commands that the rendered scripts call
are tiny bash wrappers (written by the `sched` fixture into a directory on PATH)
around `python fakesched.py COMMAND ARGS`. They keep their state as JSON files in
$FAKESCHED_DIR:

- `sbatch [--parsable] [--dependency=afterany:ID] [--export=ALL,K=V,...] SCRIPT`
  and `qsub [-W depend=afterany:ID] [-v K=V,...] SCRIPT` queue a job, reading the
  `#SBATCH`/`#PBS` directives (nodes, ranks per node, array) like the real ones, and
  keep a copy of the script (slurmd and PBS MOM run a copy: `$0` is that copy);
- `scontrol requeue ID` marks a running job to be put back in the queue when it ends;
- `srun [--nodes=N] [--ntasks=N] [--kill-on-bad-exit=X] CMD` runs `mpiexec -n N CMD`
  here, without Open MPI's SLURM components (they would look for a real allocation).

`Queue.run()` (called by the test) plays the scheduler: it starts eligible jobs one
at a time as `bash COPY` in their submit directory with the scheduler's environment
variables, and can send SIGUSR1 to the batch shell during a run (SLURM's
`--signal=B:USR1@GRACE`) or shorten PBS's wall time (Torque's PBS_WALLTIME).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def _state() -> Path:
    return Path(os.environ["FAKESCHED_DIR"])


def _next_id(state: Path, count: int = 1) -> int:
    with open(state / "next_id.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        counter = state / "next_id"
        first = int(counter.read_text()) if counter.exists() else 100
        counter.write_text(str(first + count))
    return first


def _directives(script: Path, prefix: str) -> list[str]:
    """Option words of the leading `#SBATCH`/`#PBS` lines (before the first command)."""
    words: list[str] = []
    for line in script.read_text().splitlines()[1:]:
        s = line.strip()
        if not s or (s.startswith("#") and not s.startswith(prefix)):
            continue
        if not s.startswith(prefix):
            break
        words += s[len(prefix) :].split()
    return words


def _save(state: Path, job: dict) -> None:
    path = state / "jobs" / f"{job['id']}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(job, indent=1))
    os.replace(tmp, path)


def _job_id(text: str) -> int:
    m = re.match(r"^(\d+)", text)
    if not m:
        raise SystemExit(f"fake scheduler: bad job id {text!r}")
    return int(m.group(1))


def _queue(kind: str, script: Path, nodes: int, ppn: int, array: int, depend: list, env: dict, name: str):
    state = _state()
    (state / "jobs").mkdir(exist_ok=True)
    first = _next_id(state, 1 + array)
    spool = state / "spool" / f"job{first}"
    spool.mkdir(parents=True)
    copy = spool / ("slurm_script" if kind == "slurm" else f"{first}.fake.SC")
    shutil.copy(script, copy)
    common = {
        "kind": kind,
        "script": str(copy),
        "submitted_as": str(script),
        "submit_dir": os.getcwd(),
        "nodes": nodes,
        "ppn": ppn,
        "depend": depend,
        "env": env,
        "name": name,
        "state": "pending",
        "restarts": 0,
        "runs": [],
    }
    if array:
        for i in range(1, array + 1):
            _save(state, {**common, "id": first + i, "array_id": first, "task": i, "array_size": array})
        _save(state, {**common, "id": first, "array_master": True, "array_size": array, "state": "master"})
    else:
        _save(state, {**common, "id": first})
    return first


def _range(spec: str) -> int:
    m = re.fullmatch(r"1-(\d+)", spec)
    if not m:
        raise SystemExit(f"fake scheduler: only arrays 1-K are supported, got {spec!r}")
    return int(m.group(1))


def sbatch(args: list[str]) -> int:
    parsable, depend, env, array, script = False, [], {}, 0, None
    for arg in args:
        if script is not None:
            raise SystemExit("fake sbatch: script arguments are not supported")
        if arg == "--parsable":
            parsable = True
        elif arg.startswith("--dependency="):
            kind, _, ids = arg.split("=", 1)[1].partition(":")
            depend += [[kind, _job_id(i)] for i in ids.split(":")]
        elif arg.startswith("--export="):
            items = arg.split("=", 1)[1].split(",")
            if items[0] != "ALL":
                raise SystemExit("fake sbatch: only --export=ALL,... is supported")
            env.update(dict(item.split("=", 1) for item in items[1:]))
        elif arg.startswith("--array="):
            array = _range(arg.split("=", 1)[1])
        elif arg.startswith("-"):
            raise SystemExit(f"fake sbatch: unsupported option {arg}")
        else:
            script = Path(arg)
    if script is None or not script.is_file():
        print(f"sbatch: error: Unable to open file {script}", file=sys.stderr)
        return 1
    opts = dict(w[2:].split("=", 1) if "=" in w else (w[2:], "") for w in _directives(script, "#SBATCH"))
    array = array or (_range(opts["array"]) if "array" in opts else 0)
    submit_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "PBS_"))}
    first = _queue(
        "slurm",
        script,
        int(opts.get("nodes", 1)),
        int(opts.get("ntasks-per-node", 1)),
        array,
        depend,
        {**submit_env, **env},  # --export=ALL: the submitter's environment
        opts.get("job-name", script.name),
    )
    print(first if parsable else f"Submitted batch job {first}")
    return 0


def qsub(args: list[str]) -> int:
    depend, env, array, script = [], {}, 0, None
    it = iter(args)
    for arg in it:
        if arg == "-W":
            key, _, value = next(it).partition("=")
            if key != "depend":
                raise SystemExit(f"fake qsub: unsupported -W {key}")
            kind, _, ids = value.partition(":")
            depend += [[kind, _job_id(i)] for i in ids.split(":")]
        elif arg == "-v":
            env.update(dict(item.split("=", 1) for item in next(it).split(",")))
        elif arg == "-J":
            array = _range(next(it))
        elif arg.startswith("-"):
            raise SystemExit(f"fake qsub: unsupported option {arg}")
        else:
            script = Path(arg)
    if script is None or not script.is_file():
        print(f"qsub: script file {script} cannot be loaded", file=sys.stderr)
        return 1
    words = _directives(script, "#PBS")
    nodes = ppn = 1
    name = script.name
    for flag, value in zip(words[::2], words[1::2], strict=True):
        if flag == "-l" and value.startswith("select="):
            parts = value.split("=", 1)[1].split(":")
            nodes = int(parts[0])
            ppn = int(dict(p.split("=") for p in parts[1:])["mpiprocs"])
        elif flag == "-J" and not array:
            array = _range(value)
        elif flag == "-N":
            name = value
    # PBS gives a job a fresh login environment, not the submitter's (no -V): the test's base
    # environment stands in for it (Queue.run), plus the -v variables.
    first = _queue("pbs", script, nodes, ppn, array, depend, env, name)
    print(f"{first}.fake" + ("[]" if array else ""))
    return 0


def scontrol(args: list[str]) -> int:
    if len(args) != 2 or args[0] != "requeue":
        raise SystemExit(f"fake scontrol: only 'requeue ID' is supported, got {args}")
    path = _state() / "jobs" / f"{_job_id(args[1])}.json"
    job = json.loads(path.read_text())
    if job["state"] != "running":
        print(f"scontrol: error: job {args[1]} is not running", file=sys.stderr)
        return 1
    (_state() / "requeue").mkdir(exist_ok=True)
    (_state() / "requeue" / str(job["id"])).touch()
    return 0


# -- the scheduler loop (in the test process) ----------------------------------------------------
@dataclass
class Run:
    job_id: int
    kind: str
    exit_code: int
    output: str
    seconds: float
    signalled: bool
    env: dict = field(repr=False, default_factory=dict)


class Queue:
    def __init__(self, state: Path, base_env: dict[str, str]) -> None:
        self.state = state
        self.base_env = base_env
        self.runs: list[Run] = []

    def jobs(self) -> list[dict]:
        return sorted(
            (json.loads(p.read_text()) for p in (self.state / "jobs").glob("*.json")), key=lambda j: j["id"]
        )

    def _done(self, job_id: int, ok: bool) -> bool:
        jobs = {j["id"]: j for j in self.jobs()}
        job = jobs.get(job_id)
        if job is None:
            return True
        members = (
            [j for j in jobs.values() if j.get("array_id") == job_id] if job.get("array_master") else [job]
        )
        return all(m["state"] == "done" and (not ok or m["exit_code"] == 0) for m in members)

    def _eligible(self, job: dict) -> bool:
        return job["state"] == "pending" and all(
            self._done(i, kind == "afterok") for kind, i in job["depend"]
        )

    def _environment(self, job: dict, extra: dict[str, str]) -> dict[str, str]:
        ranks = job["nodes"] * job["ppn"]
        if job["kind"] == "slurm":
            env = {**job["env"]} if job["env"] else {**self.base_env}
            env.update(
                SLURM_JOB_ID=str(job["id"]),
                SLURM_JOBID=str(job["id"]),
                SLURM_JOB_NAME=job["name"],
                SLURM_SUBMIT_DIR=job["submit_dir"],
                SLURM_NNODES=str(job["nodes"]),
                SLURM_NTASKS=str(ranks),
                SLURM_NTASKS_PER_NODE=str(job["ppn"]),
            )
            if job.get("task"):
                env.update(
                    SLURM_ARRAY_JOB_ID=str(job["array_id"]),
                    SLURM_ARRAY_TASK_ID=str(job["task"]),
                    SLURM_ARRAY_TASK_COUNT=str(job["array_size"]),
                )
            if job["restarts"]:
                env["SLURM_RESTART_COUNT"] = str(job["restarts"])
        else:
            nodefile = self.state / "spool" / f"nodes.{job['id']}"
            nodefile.write_text(f"{socket.gethostname()}\n" * ranks)
            env = {**self.base_env, **job["env"]}
            jobid = f"{job['array_id']}[{job['task']}].fake" if job.get("task") else f"{job['id']}.fake"
            env.update(
                PBS_JOBID=jobid,
                PBS_JOBNAME=job["name"],
                PBS_O_WORKDIR=job["submit_dir"],
                PBS_ENVIRONMENT="PBS_BATCH",
                PBS_NODEFILE=str(nodefile),
            )
            if job.get("task"):
                env.update(PBS_ARRAY_INDEX=str(job["task"]), PBS_ARRAY_ID=f"{job['array_id']}[].fake")
        env.update(extra)
        return env

    def run(
        self,
        plan: Callable[[int, dict], dict] | None = None,
        timeout: float = 120,
    ) -> list[Run]:
        """Run every job until the queue is empty; `plan(n, job)` may give the n-th start (0-based)
        {"usr1_when": callable() -> bool, "usr1_delay": seconds, "signal": SIGUSR1, "env": {...}}:
        once usr1_when() holds, wait usr1_delay s and send the signal to the batch shell."""
        t_end = time.monotonic() + timeout
        while True:
            jobs = self.jobs()
            ready = [j for j in jobs if self._eligible(j)]
            if not ready:
                stuck = [j["id"] for j in jobs if j["state"] == "pending"]
                assert not stuck, f"jobs {stuck} wait for dependencies that never end"
                return self.runs
            job = ready[0]
            action = plan(len(self.runs), job) if plan else {}
            self.runs.append(self._start(job, action or {}, t_end))

    def _start(self, job: dict, action: dict, t_end: float) -> Run:
        job["state"] = "running"
        _save(self.state, job)
        env = self._environment(job, action.get("env", {}))
        out_path = self.state / "out" / f"{job['name']}-{job['id']}.out"
        out_path.parent.mkdir(exist_ok=True)
        t0 = time.monotonic()
        with open(out_path, "a") as out:
            out.write(f"==== fake {job['kind']} job {job['id']} start {job['restarts']}\n")
            out.flush()
            proc = subprocess.Popen(
                ["bash", job["script"]],
                cwd=job["submit_dir"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            signalled = threading.Event()
            if "usr1_when" in action:

                def signaller() -> None:
                    while proc.poll() is None and time.monotonic() < t_end:
                        if action["usr1_when"]():
                            time.sleep(action.get("usr1_delay", 0.0))
                            if proc.poll() is None:  # the batch shell only (--signal=B:...)
                                os.kill(proc.pid, action.get("signal", signal.SIGUSR1))
                                signalled.set()
                            return
                        time.sleep(0.05)

                threading.Thread(target=signaller, daemon=True).start()
            try:
                code = proc.wait(timeout=max(1.0, t_end - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise AssertionError(f"job {job['id']} ran out of time:\n{out_path.read_text()}") from None
        text = out_path.read_text()
        log = text[text.rindex(f"==== fake {job['kind']} job {job['id']} start") :]
        requeue = self.state / "requeue" / str(job["id"])
        job = json.loads((self.state / "jobs" / f"{job['id']}.json").read_text())
        if requeue.exists():
            requeue.unlink()
            job.update(state="pending", restarts=job["restarts"] + 1)
        else:
            job.update(state="done", exit_code=code)
        job["runs"].append(code)
        _save(self.state, job)
        return Run(job["id"], job["kind"], code, log, time.monotonic() - t0, signalled.is_set(), env)


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    sys.exit({"sbatch": sbatch, "qsub": qsub, "scontrol": scontrol}[command](rest))
