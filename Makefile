# Two commands do everything on a fresh machine (only Python >= 3.11 needed):
#   make main   -> creates .venv if missing, runs the theorem report and the quick experiments
#   make test   -> creates .venv if missing, runs the test suite
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export NUMBA_CACHE_DIR := $(CURDIR)/.numba_cache
export MPLBACKEND := Agg
export HYPOTHESIS_PROFILE ?= ci

.PHONY: main test thorough bench docs env clean

env: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet --compile -c constraints.txt -e ".[test]"
	@touch $(STAMP)

main: $(STAMP)
	$(PY) -m experiments.main --quick

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup

thorough: $(STAMP)
	HYPOTHESIS_PROFILE=thorough $(PY) -m pytest
	$(PY) -m proofs_check --thorough

bench: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,bench]"
	$(PY) -m experiments.bench

docs: $(STAMP)
	$(PY) -m proofs_check --docs docs/theorems.md

clean:
	rm -rf $(VENV) .numba_cache results
