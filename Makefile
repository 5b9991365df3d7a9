# Two commands set everything up: `make run` (the server) and `make test` (the whole suite).
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: run test test-postgres lint typecheck format bench

$(PY):
	@interpreter=$$(scripts/find-python) && $$interpreter -m venv $(VENV)

$(VENV)/.deps-run: requirements.txt | $(PY)
	$(PIP) -r requirements.txt
	@touch $@

$(VENV)/.deps-dev: requirements.txt requirements-dev.txt $(VENV)/.deps-run
	$(PIP) -r requirements-dev.txt
	@touch $@

# `serve` runs Daphne (WEB_WORKERS of them), the syslog listener on SYSLOG_BIND and the
# scheduler of the periodic jobs (`manage.py scheduler`) beside it, and stops them together.
run: $(VENV)/.deps-run
	$(PY) manage.py migrate --noinput
	$(PY) manage.py create_demo_users
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.deps-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy with the Django, DRF and zope plugins; scope and strictness in pyproject.toml.
# Incremental: .mypy_cache makes a second run take seconds.
typecheck: $(VENV)/.deps-dev
	$(VENV)/bin/mypy

format: $(VENV)/.deps-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint typecheck
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-postgres:
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} $(MAKE) test

# Benchmarks run on demand against real Daphne servers and fresh databases (bench_*) on
# the local PostgreSQL and Redis; they print figures, they never fail a build on speed.
bench: $(VENV)/.deps-dev
	$(PY) bench/ingest.py $(BENCH_ARGS)
	$(PY) bench/alerts.py
	$(PY) bench/soak.py
	$(PY) bench/attack.py
	$(PY) bench/syslog.py
