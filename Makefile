# Kepuyue — the two commands a new machine needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
CAMPAIGN ?= campaigns/kepuyue-2025.yaml
CAMPAIGN_SLUG ?= kepuyue-2025
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run test test-sqlite test-postgres bench lint format setup data clean cluster cluster-stop cluster-drill

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

setup: $(VENV)/.installed

var/secret_key:
	@mkdir -p var
	@umask 077 && $(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

# Migrate and load the plan, the regions, the real sample data and sample registrations (every step is idempotent).
data: setup var/secret_key
	@export SECRET_KEY="$$(cat var/secret_key)"; \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py load_regions && \
	$(PY) manage.py load_campaign $(CAMPAIGN) && \
	$(PY) manage.py load_quiz data/quiz/bank-2024.yaml data/quiz/rounds-$(CAMPAIGN_SLUG).yaml && \
	$(PY) manage.py import_organizations data/bases.csv && \
	$(PY) manage.py load_resources data/resources/$(CAMPAIGN_SLUG).yaml && \
	$(PY) manage.py import_activities data/activities.csv --campaign $(CAMPAIGN_SLUG) && \
	$(PY) manage.py load_sample_registrations --campaign $(CAMPAIGN_SLUG) && \
	$(PY) manage.py load_sample_programmes --campaign $(CAMPAIGN_SLUG) && \
	$(PY) manage.py load_sample_training --campaign $(CAMPAIGN_SLUG) && \
	$(PY) manage.py load_sample_tours --campaign $(CAMPAIGN_SLUG)

run: data
	@export SECRET_KEY="$$(cat var/secret_key)" KEPUYUE_HTTPS=0 SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}"; \
	$(PY) manage.py collectstatic --noinput --verbosity 0 && \
	$(PY) manage.py ensure_admin && \
	echo "科普月平台: http://$(HOST):$(PORT)/  (管理后台 /admin/)" && \
	exec $(PY) -m kepuyue.serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

# The whole suite on SQLite, then again on PostgreSQL when DATABASE_URL is set or a server answers
# on 127.0.0.1:5432. With CI=true an unreachable PostgreSQL is a failure, not a skip.
test: setup
	@$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$DATABASE_URL" ]; then \
		$(MAKE) --no-print-directory test-postgres PG_TEST_URL="$$DATABASE_URL"; \
	elif $(PY) -c "import socket,sys; s=socket.socket(); s.settimeout(2); sys.exit(s.connect_ex(('127.0.0.1',5432)))"; then \
		$(MAKE) --no-print-directory test-postgres; \
	elif [ "$$CI" = "true" ]; then \
		echo "FAIL: CI=true but no PostgreSQL answers on 127.0.0.1:5432 and DATABASE_URL is unset." >&2; exit 1; \
	else \
		echo "PostgreSQL not reachable on 127.0.0.1:5432: skipped the PostgreSQL run (set DATABASE_URL to force it)."; \
	fi

test-sqlite: setup
	@echo "== tests on SQLite =="
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest $(PYTEST_ARGS)

test-postgres: setup
	@echo "== tests on PostgreSQL ($(PG_TEST_URL)) =="
	env DATABASE_URL="$(PG_TEST_URL)" KEPUYUE_TEST_DB=postgres $(PY) -m pytest $(PYTEST_ARGS)

# A loopback cluster with real parts (README "A cluster on one machine"): nginx, three app nodes, Celery
# worker and beat, PostgreSQL, Redis and an S3 stand-in; cluster-drill kills a node and the worker under load.
cluster: setup
	$(PY) bench/cluster.py up

cluster-stop: setup
	$(PY) bench/cluster.py down

cluster-drill: setup
	$(PY) bench/cluster_drill.py

bench: setup
	$(PY) bench/run.py $(BENCH_ARGS)

# ruff, then the import contracts of pyproject.toml (the layers of docs/architecture.md).
lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/lint-imports

format: setup
	$(VENV)/bin/ruff check --fix src tests bench
	$(VENV)/bin/ruff format src tests bench

clean:
	rm -rf var test-artifacts .pytest_cache .import_linter_cache
