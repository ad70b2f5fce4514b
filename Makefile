# Two commands: `make run` serves the playground on http://127.0.0.1:8000,
# `make test` runs every test (lint and real-Chromium browser tests included).
# `make lecture` serves it on this machine's network addresses so that a class can join.
# Every install comes from the lock (requirements/, made by uv): exact versions, checked hashes.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
INSTALL := $(PY) -m pip install --quiet --require-hashes
BUNDLE  := backprop_playground/bundle/widget.js
COMPILE := $(PY) -m uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
           --custom-compile-command "make lock"

.PHONY: run lecture test bench chromium cluster-servers lock upgrade clean

run: $(VENV)/.run-installed $(BUNDLE)
	$(PY) -m app --port $(PORT)

lecture: $(VENV)/.run-installed $(BUNDLE)
	$(PY) -m app --lecture --port $(PORT)

test: $(VENV)/.test-installed $(BUNDLE) chromium cluster-servers
	$(PY) -m pytest

bench: $(VENV)/.test-installed
	$(PY) bench/engine.py

# The notebook widget's one ES module: the page's drawing modules bundled by esbuild, pinned in
# package-lock.json (npm ci installs exactly it). The page itself needs no build.
$(BUNDLE): package.json package-lock.json backprop_playground/front/widget.js $(wildcard static/*.js)
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent build

# The project itself goes in without its dependencies (the lock gave them) and without build
# isolation (which would fetch whatever setuptools was released last): the lock's setuptools builds it.
$(VENV)/.run-installed: requirements/run.txt pyproject.toml $(BUNDLE)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(INSTALL) -r requirements/run.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -c "import app.worker.warmed"   # compile the training loop into numba's cache now
	touch $@

$(VENV)/.test-installed: requirements/test.txt pyproject.toml $(BUNDLE)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(INSTALL) -r requirements/test.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -c "import app.worker.warmed"   # compile the training loop into numba's cache now
	touch $@ $(VENV)/.run-installed

# `make lock` re-resolves after a change to pyproject.toml's dependencies, keeping every pinned
# version that still fits; `make upgrade` takes the newest release of everything and runs the
# tests: commit requirements/ only when they pass.
lock: $(VENV)/.test-installed
	$(COMPILE) pyproject.toml requirements/test.in --extra test -o requirements/test.txt $(UPGRADE)
	$(COMPILE) pyproject.toml requirements/tools.in -c requirements/test.txt -o requirements/run.txt

upgrade:
	$(MAKE) lock UPGRADE=--upgrade
	$(MAKE) test

# Browser tests drive Debian's Chromium; install it when missing and we are root.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium is missing: run 'sudo apt-get install chromium'" >&2; exit 1; fi; }

# The cluster tests start real redis-server and nginx (tests/cluster/): Debian's packages, installed
# when missing and we are root. Only the binaries are used: apt may start no service here.
cluster-servers:
	@command -v redis-server >/dev/null 2>&1 && { command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx; } || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server nginx; \
	  else echo "redis-server or nginx is missing: run 'sudo apt-get install redis-server nginx'" >&2; exit 1; fi; }

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache node_modules backprop_playground/bundle
