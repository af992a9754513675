# One entry point for set-up, the main job and the tests. Three environments (see
# ../shared/ENVIRONMENT.md): .venv (IaC: program, CLI, policy pack), .venv-workloads (what the
# workload images contain) and .venv-checkov (checkov's own pins). Each is rebuilt when its
# requirements change.
PYTHON ?= python3
VENV := .venv
WL_VENV := .venv-workloads
CK_VENV := .venv-checkov
OUT ?= build
STACKS := uae-onprem uae-cloud

.PHONY: setup run plan demo test test-iac test-workloads lint bench clean

setup: $(VENV)/.installed $(WL_VENV)/.installed $(CK_VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -e '.[dev]'
	$(VENV)/bin/pip check
	touch $@

$(WL_VENV)/.installed: workloads/requirements.txt
	$(PYTHON) -m venv $(WL_VENV)
	$(WL_VENV)/bin/pip install -q -r workloads/requirements.txt
	$(WL_VENV)/bin/pip check
	touch $@

$(CK_VENV)/.installed: policies/checkov/requirements.txt
	$(PYTHON) -m venv $(CK_VENV)
	$(CK_VENV)/bin/pip install -q -r policies/checkov/requirements.txt
	$(CK_VENV)/bin/pip check
	touch $@

## run: the main job: the offline plan of every stack and variant, then the tenant golden path
run: setup
	$(MAKE) --no-print-directory plan demo

plan: setup
	$(VENV)/bin/mlplatform plan --all --out $(OUT)

demo: setup
	$(VENV)/bin/mlplatform local demo

## test: every test, in the environment it belongs to
test: setup
	bash scripts/test.sh

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## bench: benchmarks, quick mode (BENCH_ARGS="--mode full" or "--only serving,synthesis");
## prints a table and writes $(OUT)/bench/results.json. Never fails because a machine is slow.
bench: setup
	$(VENV)/bin/python -m benchmarks --out $(OUT)/bench $(BENCH_ARGS)

clean:
	rm -rf $(OUT) .pytest_cache
