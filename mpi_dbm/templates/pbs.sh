#!/bin/bash
{{DIRECTIVES}}
#
{{HEADER}}

cd "${PBS_O_WORKDIR:-.}" || exit 2 # PBS starts jobs in the home directory

# ============================ user section: your site's set-up ============================
# Load the MPI and the parallel HDF5 that mpi-dbm's mpi4py and h5py were built with
# (README, "Installing on a cluster"), then activate mpi-dbm's virtual environment.
# module load openmpi hdf5/1.14-parallel python/3.11
{{VENV}}
# ============================ end of user section =========================================

set -uo pipefail
# One BLAS/OpenMP thread per rank: the ranks already fill the cores.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
# HDF5's flock-based file locking fails on many cluster file systems; mpi-dbm guards the
# results file with its own lock file (RESULTS.lock), so HDF5's is switched off.
export HDF5_USE_FILE_LOCKING=FALSE

# ---- settings rendered by `mpi-dbm jobscript`; paths are relative to the submit directory
CONFIG={{CONFIG}}
RESULTS={{RESULTS}}
ARRAY={{ARRAY}}     # K > 0: job array; subjob I runs chunk I/K into RESULTS with .partIofK.h5
REQUEUE=0   # PBS jobs cannot requeue themselves:
CHAIN=${MPI_DBM_CHAIN_LEFT:-{{CHAIN}}}   # an interrupted job submits a dependent copy of itself (at most this many)
GRACE={{GRACE}}   # seconds before the wall time at which the run stops (run --time-limit)
ANALYZE={{ANALYZE}}   # 1: run `mpi-dbm analyze` on the complete results (if this mpi-dbm has it)
ANALYSIS_DIR={{ANALYSIS_DIR}}
SCRIPT_NAME={{JOBSCRIPT}}

# ---- PBS: job identity, launchers, continuation -------------------------------------------
SCHEDULER=PBS
SUBMIT_COMMAND="qsub ${SCRIPT_NAME:-SCRIPT}"
JOB_ID=${PBS_JOBID:-}
CHUNK=${PBS_ARRAY_INDEX:-${PBS_ARRAYID:-}} # PBS Pro, Torque
RESTARTS_DONE=0
JOBSCRIPT=${MPI_DBM_JOBSCRIPT:-${SCRIPT_NAME:-$0}}
NRANKS={{NRANKS}}
WALLTIME=${PBS_WALLTIME:-{{WALLTIME_SECONDS}}} # seconds (Torque sets PBS_WALLTIME)
LAUNCH=(mpiexec -n "$NRANKS")
SERIAL=(mpiexec -n 1) # merge and analyze: one rank
case "$(mpiexec --version 2>&1)" in
  *"Open MPI"* | *OpenRTE*)
    # Open MPI passes only OMPI_* variables to the other nodes: name the ones the ranks need.
    for var in PATH LD_LIBRARY_PATH VIRTUAL_ENV PYTHONPATH OMP_NUM_THREADS OPENBLAS_NUM_THREADS \
      MKL_NUM_THREADS HDF5_USE_FILE_LOCKING; do
      if [ -n "${!var:-}" ]; then LAUNCH+=(-x "$var") && SERIAL+=(-x "$var"); fi
    done
    ;;
esac
# PBS sends no warning signal before the wall time: the run stops itself GRACE s before it.
run_time_limit() { echo "$((WALLTIME - GRACE - SECONDS))"; }
requeue_self() { return 1; }
submit_next() { # $1: continuations left to the next job; prints its job id
  local script=$JOBSCRIPT
  [ -f "$script" ] || script=$0
  [ -f "$script" ] || { say "cannot find this job script to resubmit it: set MPI_DBM_JOBSCRIPT" >&2 && return 1; }
  qsub -W "depend=afterany:$JOB_ID" -v "MPI_DBM_CHAIN_LEFT=$1,MPI_DBM_PREVIOUS_JOB=$JOB_ID" "$script"
}

# ---- common part: identical in mpi_dbm/templates/slurm.sbatch and pbs.sh -------------------
say() { echo "mpi-dbm-job[$SCHEDULER ${JOB_ID:-none}]: $*"; }
fail() { local code=$1; shift; say "error: $*" >&2; exit "$code"; }

# The wall-time warning USR1 (or USR2, or TERM): ask the run to stop cleanly. The launcher
# forwards USR1 to every rank; they finish their bookkeeping and exit with code 75. STOP
# keeps the first signal: TERM first means a cancel (scancel, qdel), so no resubmission.
STOP=""
LAUNCHER=""
# shellcheck disable=SC2317  # called by the traps
on_stop() {
  if [ -z "$STOP" ]; then
    STOP=$1
    say "received SIG$1: asking the run to stop cleanly"
  fi
  if [ -n "$LAUNCHER" ]; then kill -USR1 "$LAUNCHER" 2>/dev/null || true; fi
}
trap 'on_stop USR1' USR1
trap 'on_stop USR2' USR2
trap 'on_stop TERM' TERM

# Wait for the launcher even when a trapped signal interrupts `wait`; return its exit code.
wait_launcher() {
  local rc again
  while :; do
    wait "$LAUNCHER"
    rc=$?
    if [ "$rc" -le 128 ] || ! kill -0 "$LAUNCHER" 2>/dev/null; then break; fi
  done
  if [ "$rc" -gt 128 ]; then # interrupted just as the launcher ended: fetch its own status
    wait "$LAUNCHER" 2>/dev/null
    again=$?
    [ "$again" -eq 127 ] || rc=$again
  fi
  return "$rc"
}

part_file() { printf '%s.part%0*dof%d.h5' "${RESULTS%.h5}" "${#ARRAY}" "$1" "$ARRAY"; }

analyze() { # $1: a complete results file
  [ "$ANALYZE" = 1 ] || return 0
  if [ -n "$STOP" ]; then
    say "not analysing, the wall time is nearly over; run: mpi-dbm analyze $1 -o $ANALYSIS_DIR"
    return 0
  fi
  if ! "$MPI_DBM" analyze --help >/dev/null 2>&1; then
    say "this mpi-dbm has no 'analyze' command: skipping the analysis"
    return 0
  fi
  say "analysing: mpi-dbm analyze $1 -o $ANALYSIS_DIR"
  "${SERIAL[@]}" "$MPI_DBM" analyze "$1" -o "$ANALYSIS_DIR" ||
    fail $? "mpi-dbm analyze failed; the results in $1 are complete: run it again by hand"
}

# Job arrays: every chunk marks its file complete; the last one to finish merges them
# (a mkdir lock makes sure only one does) and analyses the merged file.
merge_when_last() {
  local i p parts=() fresh=1 status=0
  for ((i = 1; i <= ARRAY; i++)); do
    p=$(part_file "$i")
    if [ ! -e "$p.complete" ]; then
      say "chunk $CHUNK of $ARRAY is complete; chunk $i is not yet (the last chunk to finish merges)"
      return 0
    fi
    parts+=("$p")
  done
  if ! mkdir "$RESULTS.merging" 2>/dev/null; then
    say "another chunk is merging (if none is, remove $RESULTS.merging and run: mpi-dbm merge --force $RESULTS ${parts[*]})"
    return 0
  fi
  for p in "${parts[@]}"; do [ "$RESULTS" -nt "$p.complete" ] || fresh=0; done
  if [ "$fresh" = 1 ]; then
    say "$RESULTS is already merged from the complete chunks"
  else
    say "all $ARRAY chunks are complete: merging them into $RESULTS"
    "${SERIAL[@]}" "$MPI_DBM" merge --force "$RESULTS" "${parts[@]}" || status=$?
  fi
  rmdir "$RESULTS.merging"
  [ "$status" -eq 0 ] || fail "$status" "merging the chunk files failed; run: mpi-dbm merge --force $RESULTS ${parts[*]}"
  [ "$fresh" = 1 ] || analyze "$RESULTS"
}

# Exit code 75: stopped before the wall time with work left. Continue in a new job.
continue_later() {
  local next
  if [ "$RESTARTS_DONE" -lt "$REQUEUE" ]; then
    say "stopped before the wall time; requeueing this job (requeue $((RESTARTS_DONE + 1)) of $REQUEUE)"
    requeue_self && exit 0
    say "warning: the requeue failed"
  elif [ "$CHAIN" -gt 0 ]; then
    if next=$(submit_next "$((CHAIN - 1))"); then
      say "stopped before the wall time; submitted follow-up job $next ($((CHAIN - 1)) more allowed after it)"
      exit 0
    fi
    say "warning: submitting the follow-up job failed"
  fi
  say "stopped before the wall time with work left, and no automatic continuation is left: submit the script again to continue (finished work is kept)"
  exit 75
}

[ -n "$JOB_ID" ] || fail 2 "not running as a $SCHEDULER job: submit this script with $SUBMIT_COMMAND"
MPI_DBM=$(command -v mpi-dbm) || fail 2 "mpi-dbm is not on PATH: edit the user section (module load, venv activation)"
[ -f "$CONFIG" ] || fail 2 "config $CONFIG not found in $PWD: submit from the directory the script's paths are relative to"

OUT=$RESULTS
RUN=(run "$CONFIG" -o "$RESULTS" --resume)
if [ "$ARRAY" -gt 0 ]; then
  if ! [[ "$CHUNK" =~ ^[0-9]+$ ]] || [ "$CHUNK" -lt 1 ] || [ "$CHUNK" -gt "$ARRAY" ]; then
    fail 2 "chunk '$CHUNK' is not in 1..$ARRAY: submit this script as a job array"
  fi
  OUT=$(part_file "$CHUNK")
  RUN=(run "$CONFIG" -o "$OUT" --resume --chunk "$CHUNK/$ARRAY")
  [ -e "$OUT" ] || rm -f "$OUT.complete" # a marker without its chunk file is stale
fi
# A chained job starts after its predecessor ended: a lock that one left behind (if it was
# killed hard) is stale. (A requeued job has the same job id: mpi-dbm takes that over itself.)
if [ -n "${MPI_DBM_PREVIOUS_JOB:-}" ] && [ -f "$OUT.lock" ] && grep -qF "=$MPI_DBM_PREVIOUS_JOB\"" "$OUT.lock"; then
  say "the lock $OUT.lock was left by the previous job $MPI_DBM_PREVIOUS_JOB: taking it over"
  RUN+=(--break-lock)
fi

rc=75
limit=$(run_time_limit)
if [ -n "$STOP" ]; then
  say "stop requested before the run started"
elif [ -n "$limit" ] && [ "$limit" -lt 1 ]; then
  say "no wall time left for the run"
else
  [ -z "$limit" ] || RUN+=(--time-limit "$limit")
  say "running: ${LAUNCH[*]} mpi-dbm ${RUN[*]}"
  "${LAUNCH[@]}" "$MPI_DBM" "${RUN[@]}" &
  LAUNCHER=$!
  wait_launcher
  rc=$?
  LAUNCHER=""
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ] && [ "$rc" -ne 75 ] && [ -n "$STOP" ]; then
    say "the run ended with exit code $rc after SIG$STOP: treating it as interrupted (resuming is safe)"
    rc=75
  fi
fi

case "$rc" in
  0)
    say "the run is complete: $OUT"
    if [ "$ARRAY" -gt 0 ]; then
      [ -e "$OUT.complete" ] || touch "$OUT.complete" # keeps its time: merged files stay "fresh"
      merge_when_last
    else
      analyze "$RESULTS"
    fi
    exit 0
    ;;
  75)
    if [ "$STOP" = TERM ]; then
      say "stopped by SIGTERM (a cancel, or the wall time ran out without a warning signal): not resubmitting; submit the script again to continue (finished work is kept)"
      exit 75
    fi
    continue_later
    ;;
  2) fail 2 "mpi-dbm refused the config, the options or the results file (see above): not resubmitting" ;;
  *) fail "$rc" "the run failed with exit code $rc (see above): not resubmitting; once fixed, submit the script again (finished work is kept)" ;;
esac
# ---- end of common part --------------------------------------------------------------------
