# Two commands set everything up on a fresh machine:
#   make run   install into .venv (when requirements changed) and start the app
#   make test  the same install, then the test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test bench install postgres

install: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) app.py

# The browser tests drive Debian's chromium through playwright; playwright's own browser download is never used.
$(CHROMIUM):
	$(SUDO) apt-get install -y -q chromium || ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium)

# PostgreSQL: the tests start a private cluster of Debian's server (scripts/services.py), never a system one.
POSTGRES := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb))
postgres:
	@test -n "$(POSTGRES)" || $(SUDO) apt-get install -y -q postgresql || ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q postgresql)

test: $(STAMP) $(CHROMIUM) postgres
	$(PY) scripts/services.py -- $(PY) -m pytest -q tests

bench: $(STAMP)
	$(PY) benchmarks/feed_bench.py
