# mpi-dbm: `make demo` runs the default sweep on 2 ranks, `make test` runs the tests.
# Both install what is missing first (scripts/install.sh; idempotent, ~2 s when done).
VENV    ?= .venv
NP      ?= 2
RESULTS ?= results
BIN     := $(VENV)/bin
MPIRUN  := scripts/mpirun-local

.PHONY: help install demo test lint format clean reproduce bench

help:
	@echo "make demo     install if needed, run the default sweep on $(NP) ranks, summarise it"
	@echo "make test     install if needed, run the whole test suite (MPI tests included)"
	@echo "make lint     ruff check + format check + mypy (strict)"
	@echo "make install  set up $(VENV) (Open MPI, mpi4py, h5py on parallel HDF5)"

install:
	@VENV=$(VENV) bash scripts/install.sh

demo: install
	@mkdir -p $(RESULTS)
	$(MPIRUN) -n $(NP) $(BIN)/mpi-dbm run -o $(RESULTS)/demo.h5 --resume
	$(BIN)/mpi-dbm status $(RESULTS)/demo.h5
	$(BIN)/mpi-dbm analyze $(RESULTS)/demo.h5 -o $(RESULTS)/demo_report --force

reproduce: install
	$(BIN)/mpi-dbm reproduce --size quick -o $(RESULTS)/reproduce-quick --ranks $(NP) --mpiexec $(MPIRUN)
	$(BIN)/python scripts/update_readme_results.py $(RESULTS)/reproduce-quick

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/run_all.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(RESULTS) .pytest_cache .ruff_cache
