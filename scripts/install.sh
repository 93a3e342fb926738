#!/usr/bin/env bash
# Set up mpi-dbm in a local venv: MPI, mpi4py (wheel), h5py built against
# parallel HDF5. Idempotent: a stamp records what was installed, and a second
# run only re-checks it (well under 2 s).  Route and traps: docs/install.md.
#
# Environment:
#   VENV=.venv             where the venv lives
#   PYTHON=python3         interpreter for the venv (>= 3.11)
#   MPI_DBM_SERIAL_H5=1    build h5py without MPI (serial fallback; testing only)
#   MPI_DBM_SKIP_APT=1     never call apt-get (clusters: `module load` first)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
PY="$VENV/bin/python"
stamp="$VENV/.mpi-dbm-install"

say() { printf '[install] %s\n' "$*" >&2; }
die() { printf '[install] error: %s\n' "$*" >&2; exit 1; }

# What the stamp fingerprints: this script, the package metadata, the mode.
fingerprint() {
    cat "$0" pyproject.toml setup.py mpi_dbm/models/_multilayer_step.c mpi_dbm/_ziggurat.c | sha256sum | cut -c1-16
    echo "serial=${MPI_DBM_SERIAL_H5:-0}"
}

if [[ -f "$stamp" ]] && [[ "$(cat "$stamp")" == "$(fingerprint)" ]] && [[ -x "$PY" ]]; then
    exit 0
fi

# 1. System packages: Open MPI and HDF5 with parallel I/O.
need_apt=()
command -v mpicc >/dev/null 2>&1 || need_apt+=(openmpi-bin libopenmpi-dev)
command -v mpiexec >/dev/null 2>&1 || need_apt+=(openmpi-bin)
if [[ -z ${HDF5_DIR:-}${HDF5_INCLUDEDIR:-}${HDF5_PKGCONFIG_NAME:-} ]]; then
    pkg-config --exists hdf5-openmpi 2>/dev/null || need_apt+=(libhdf5-openmpi-dev pkg-config)
fi
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
# the venv module and the Python headers (h5py compiles against them; Debian splits both off)
"${PYTHON:-python3}" -c 'import ensurepip, os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null \
    || need_apt+=(python3-venv python3-dev)
# test tools (optional: only installed where apt is usable)
want_apt=()
command -v shellcheck >/dev/null 2>&1 || want_apt+=(shellcheck)
command -v chromium >/dev/null 2>&1 || want_apt+=(chromium)  # the report test opens report.html
if ((${#want_apt[@]})) && [[ ${MPI_DBM_SKIP_APT:-0} != 1 && $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    need_apt+=("${want_apt[@]}")
fi
if ((${#need_apt[@]})); then
    if [[ ${MPI_DBM_SKIP_APT:-0} == 1 || $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
        die "missing ${need_apt[*]}: on a cluster run 'module load <mpi> <parallel-hdf5>' and point h5py at the parallel HDF5 with exactly one of HDF5_PKGCONFIG_NAME, HDF5_DIR or HDF5_INCLUDEDIR+HDF5_LIBDIR (docs/install.md says which fits your site); on Debian/Ubuntu as root this script installs them"
    fi
    say "apt-get install ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# 2. The venv and binary wheels (mpi4py's wheel loads the system libmpi).
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$PYTHON is $("$PYTHON" --version 2>&1); mpi-dbm needs Python >= 3.11 (set PYTHON=...)"
[[ -x "$PY" ]] || { say "creating venv $VENV"; "$PYTHON" -m venv "$VENV"; }
pip_() { "$PY" -m pip --disable-pip-version-check -q "$@"; }
say "installing wheels (numpy, scipy, click, mpi4py, matplotlib, test tools)"
pip_ install --no-cache-dir --only-binary=mpi4py,numpy,scipy \
    'numpy>=1.26' 'scipy>=1.11' 'click>=8.1' 'mpi4py>=4.0.1' 'matplotlib>=3.8' \
    'Cython>=3,<4' pkgconfig 'setuptools>=77' packaging wheel \
    'pytest>=8' 'hypothesis>=6' 'xarray>=2024.1' 'h5netcdf>=1.3' \
    'ruff==0.17.6' 'mypy==2.4.1' 'scipy-stubs==1.17.1.5'  # checkers pinned: same verdicts everywhere

# 3. h5py from source against the parallel HDF5 (never a cached serial build).
want_mpi=True
[[ ${MPI_DBM_SERIAL_H5:-0} == 1 ]] && want_mpi=False
have=$("$PY" -c 'import h5py; print(h5py.get_config().mpi)' 2>/dev/null || echo none)
if [[ "$have" != "$want_mpi" ]]; then
    cfg=$(mktemp); trap 'rm -f "$cfg"' EXIT
    printf '[build_ext]\nparallel = 2\n' >"$cfg"
    if [[ $want_mpi == True ]]; then
        say "building h5py against parallel HDF5 (about a minute)"
        pkgname=${HDF5_PKGCONFIG_NAME:-}
        if [[ -z $pkgname && -z ${HDF5_DIR:-}${HDF5_INCLUDEDIR:-} ]] && pkg-config --exists hdf5-openmpi 2>/dev/null; then
            pkgname=hdf5-openmpi
        fi
        env ${pkgname:+HDF5_PKGCONFIG_NAME=$pkgname} CC="${CC:-mpicc}" HDF5_MPI=ON CFLAGS="-O2 -g0" DIST_EXTRA_CONFIG="$cfg" \
            "$PY" -m pip --disable-pip-version-check -q install --no-cache-dir --no-build-isolation \
            --no-binary=h5py --no-deps --force-reinstall 'h5py>=3.10'
    else
        say "installing serial h5py wheel (MPI_DBM_SERIAL_H5=1)"
        pip_ install --no-cache-dir --only-binary=h5py --force-reinstall --no-deps 'h5py>=3.10'
    fi
fi

# 4. The package itself (editable, no dependency resolution: keep our h5py).
pip_ install --no-deps --no-build-isolation -e .

# 5. Verify.
"$PY" - "$want_mpi" <<'PYEOF'
import sys
import h5py, mpi4py, numpy
got = h5py.get_config().mpi
if str(got) != sys.argv[1]:
    sys.exit(f"h5py.get_config().mpi is {got}, expected {sys.argv[1]}")
from mpi4py import MPI
print(f"[install] ok: numpy {numpy.__version__}, mpi4py {mpi4py.__version__} "
      f"({MPI.Get_library_version().splitlines()[0].strip()}), h5py {h5py.__version__} "
      f"(HDF5 {h5py.version.hdf5_version}, mpi={got})", file=sys.stderr)
PYEOF
fingerprint >"$stamp"
