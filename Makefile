# Set-up and the two everyday commands. `make run` and `make test` create the virtual environment on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run briefing test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "hukou-sim needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## run: the default comparison (experiments/specs/compare_regimes.yaml: historical vs counterfactuals, 3 parameter
## sets drawn from the shipped posterior × 1 seed, scale 100, 2010-2035), then the dashboard over it at
## http://127.0.0.1:8050/. The sweep folder is named after the spec, code and posterior hashes
## (experiments.sweep.folder_name): a finished sweep of the same three is reused, never recomputed.
COMPARE_SPEC := experiments/specs/compare_regimes.yaml
COMPARE_OUT = sweeps/$$($(BIN)/python -c 'from experiments.spec import load_spec; \
	from experiments.sweep import folder_name; print(folder_name(load_spec("$(COMPARE_SPEC)")))')
run: $(STAMP)
	@out=$(COMPARE_OUT) && \
	$(BIN)/hukou sweep $(COMPARE_SPEC) --out $$out && \
	$(BIN)/hukou dashboard --results $$out

## briefing: the same comparison (reused when `make run` made it), then its briefing report in both languages,
## reports/briefing_en.html and reports/briefing_zh.html (self-contained HTML: open them in any browser, offline).
briefing: $(STAMP)
	@out=$(COMPARE_OUT) && \
	$(BIN)/hukou sweep $(COMPARE_SPEC) --out $$out && \
	$(BIN)/hukou report $$out --lang en --out reports/briefing_en.html && \
	$(BIN)/hukou report $$out --lang zh --out reports/briefing_zh.html

## test: the whole test suite on both cores. The dashboard's browser tests need Debian's chromium and
## chromium-driver: when missing they are installed here, without recommended packages (two packages and their
## libraries, not the 116 that recommends pulled in); without root or apt-get it stops and says what to install.
test: $(STAMP)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] || { \
	    echo "make test: the browser tests need chromium and chromedriver on PATH (Debian: apt-get install" \
	         "--no-install-recommends chromium chromium-driver); install them, then run make test again" >&2; exit 2; }; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver; }
	$(BIN)/python -m pytest -q -n 2

## bench: the speed and memory benchmark of docs/performance.md
bench: $(STAMP)
	$(BIN)/hukou bench --agents 1000000 --years 5

## lint: ruff on the code and tests, then mypy on sim, policies, experiments, dashboard and hukou_cli (its settings: [tool.mypy] in pyproject.toml;
## both come with the dev extra the venv is installed with)
lint: $(STAMP)
	$(BIN)/ruff check sim policies experiments dashboard hukou_cli tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info
