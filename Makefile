# One entry point for set-up, the main job and the tests. Three environments (see
# ../shared/ENVIRONMENT.md): .venv (IaC: program, CLI, policy pack), .venv-workloads (what the
# workload images contain) and .venv-checkov (checkov's own pins). Each is rebuilt when its
# requirements change. Each installs from its hashed lock (locks/, scripts/locks.py) with
# `pip install --require-hashes`; `make lock` recompiles the locks after a source changes.
PYTHON ?= python3
VENV := .venv
WL_VENV := .venv-workloads
CK_VENV := .venv-checkov
LOCK_VENV := .venv-lock
OUT ?= build
STACKS := uae-onprem uae-cloud

.PHONY: setup lock run plan demo test test-iac test-workloads lint bench clean observability-tools \
	mirror-tools

setup: $(VENV)/.installed $(WL_VENV)/.installed $(CK_VENV)/.installed observability-tools \
	mirror-tools

## mirror-tools: Debian's `docker-registry` (the OCI registry the mirror tests start on
## 127.0.0.1) and `skopeo` (what `mlplatform mirror` copies images with); apt-get where root,
## elsewhere a note, and those tests skip naming the reason.
mirror-tools:
	@bash scripts/mirror-tools.sh

## observability-tools: Debian's `prometheus` (promtool tests the alert rules; the local platform
## runs Prometheus) and `prometheus-alertmanager` (amtool checks the generated Alertmanager
## configuration). Installed where this runs as root
## with apt-get; elsewhere it says how, and those tests skip naming the reason.
observability-tools:
	@if command -v promtool >/dev/null && command -v prometheus >/dev/null && command -v amtool >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get install -y -q --no-install-recommends prometheus prometheus-alertmanager >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus prometheus-alertmanager >/dev/null)) \
	  && echo "observability-tools: installed prometheus $$(prometheus --version 2>&1 | head -1)" \
	  || echo "observability-tools: apt-get could not install prometheus; promtool tests will skip"; \
	else echo "observability-tools: promtool/prometheus missing; as root: apt-get install prometheus prometheus-alertmanager"; fi

# The project itself goes in editable after its locked dependencies: --no-deps (its dependencies
# are the lock's) and --no-build-isolation (setuptools is the lock's, nothing unhashed is fetched).
$(VENV)/.installed: locks/iac.txt pyproject.toml
	$(PYTHON) scripts/locks.py check iac
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --require-hashes -r locks/iac.txt
	$(VENV)/bin/pip install -q --no-deps --no-build-isolation -e .
	$(VENV)/bin/pip check
	touch $@

# torch is the lock's 2.13.0+cpu: the local CPU wheel pip finds on our machines (its hash).
$(WL_VENV)/.installed: locks/workloads.txt workloads/requirements.txt
	$(PYTHON) scripts/locks.py check workloads
	$(PYTHON) -m venv $(WL_VENV)
	$(WL_VENV)/bin/pip install -q --require-hashes -r locks/workloads.txt
	$(WL_VENV)/bin/pip check
	touch $@

$(CK_VENV)/.installed: locks/checkov.txt policies/checkov/requirements.txt
	$(PYTHON) scripts/locks.py check checkov
	$(PYTHON) -m venv $(CK_VENV)
	$(CK_VENV)/bin/pip install -q --require-hashes -r locks/checkov.txt
	$(CK_VENV)/bin/pip check
	touch $@

## lock: recompile every lock from its source (pyproject.toml, requirements files) with pip-tools
lock: $(LOCK_VENV)/.installed
	$(PYTHON) scripts/locks.py compile $(LOCKS)

$(LOCK_VENV)/.installed: locks/pip-tools.txt
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install -q --require-hashes -r locks/pip-tools.txt
	$(LOCK_VENV)/bin/pip check
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
