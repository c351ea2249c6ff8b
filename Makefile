# Every target makes its own virtualenv, so the two quick-start commands work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: demo test test-py312 lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo's OrdersPg needs PostgreSQL: installed from Debian's packages when possible; without
# it the demo skips that one function and says so.
demo: $(STAMP)
	-./scripts/ensure-db-servers
	$(PY) -m lambda_trace demo

test: $(STAMP)
	./scripts/ensure-chromium
	./scripts/ensure-db-servers
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -q -n 2

# The runtime half runs inside customers' functions on every Lambda Python: run the suite on a
# second interpreter too (3.12 here, through pyenv), in its own virtualenv.
# pyenv's shim for python3.12 fails unless 3.12 is selected, so look for the interpreter itself.
PY312 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) python3.12)
test-py312:
	@if ! $(PY312) -c pass >/dev/null 2>&1; then echo "no Python 3.12 found: skipping the 3.12 run"; exit 0; fi; \
	$(PY312) -m venv .venv312 && .venv312/bin/python -m pip install --quiet --upgrade pip && \
	.venv312/bin/python -m pip install --quiet -e '.[dev]' && \
	.venv312/bin/python -m pytest -q -n 2 -p no:cacheprovider $(PY312_TESTS)

PY312_TESTS ?= tests

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) benchmarks/run_all.py --write BENCHMARKS.md

clean:
	rm -rf $(VENV) .venv312 build *.egg-info .pytest_cache .ruff_cache .mypy_cache
