# Set-up and the two everyday commands. `make run` and `make test` create the virtual environment on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "hukou-sim needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## run: the default simulation, historical regimes 2010-2035 at 100 persons per agent, with a summary
run: $(STAMP)
	$(BIN)/hukou run --regimes historical --start 2010 --end 2035 --scale 100

## test: the whole test suite on both cores
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

## bench: the speed and memory benchmark of docs/performance.md
bench: $(STAMP)
	$(BIN)/hukou bench --agents 1000000 --years 5

lint: $(STAMP)
	$(BIN)/ruff check sim policies hukou_cli tests

clean:
	rm -rf $(VENV) build *.egg-info
