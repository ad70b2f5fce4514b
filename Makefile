# Two commands: `make run` serves the playground on http://127.0.0.1:8000,
# `make test` runs every test (lint and real-Chromium browser tests included).
# `make lecture` serves it on this machine's network addresses so that a class can join.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: run lecture test bench chromium cluster-servers clean

run: $(VENV)/.run-installed
	$(PY) -m app

lecture: $(VENV)/.run-installed
	$(PY) -m app --lecture

test: $(VENV)/.test-installed chromium cluster-servers
	$(PY) -m pytest

bench: $(VENV)/.test-installed
	$(PY) bench/engine.py

$(VENV)/.run-installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	$(PY) -c "import app.warmed"   # compile the training loop into numba's cache now
	touch $@

$(VENV)/.test-installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -c "import app.warmed"   # compile the training loop into numba's cache now
	touch $@ $(VENV)/.run-installed

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
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
