# The one entry point. `make up` runs the platform locally; `make test` runs every suite.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export PYTHONDONTWRITEBYTECODE := 1
# Stops a target at once, with one line, when a tool it needs is missing (scripts/require.sh).
REQUIRE := $(SHELL) scripts/require.sh

.PHONY: help install up tail synth synth-local deploy deploy-local destroy-local rollup seed test test-python test-sdk test-browser test-frontend frontend frontend-api frontend-size lint fmt typecheck migrate lock clean openapi sdk bench bench-dashboard load
.PHONY: require-python require-pg require-node require-chromium

help:
	@echo "make up       set up and run the whole platform locally (Ctrl-C stops it)"
	@echo "make test     set up and run every test suite, with lint and type checks"
	@echo "make tail PROJECT=<id>  print a project's live events as they arrive (make up running)"
	@echo "make synth    synthesize the CDK app offline (no bundling); make deploy deploys it"
	@echo "make deploy-local  deploy the CDK app to LocalStack with cdklocal (Docker, LOCALSTACK_AUTH_TOKEN)"
	@echo "make rollup   roll up dirty hours now; FROM=… TO=… [PROJECT=…] recomputes a range"
	@echo "make seed     send 7 days of realistic traffic to the demo project (ARGS=--help)"
	@echo "make sdk      build sdk/dist/tracker.min.js and print its sizes"
	@echo "make frontend build the dashboard's static export (frontend/out) when its sources changed"
	@echo "make frontend-api  regenerate the dashboard's API types from docs/openapi.json"
	@echo "make bench    run the benchmarks (figures in docs/benchmarks.md)"
	@echo "make load    Locust on a local stack of its own, then the zero-loss check (USERS=40 RUN_TIME=60)"
	@echo "make lint     ruff check + ruff format --check"
	@echo "make fmt      ruff format + ruff check --fix"
	@echo "make migrate  apply the database migrations to DATABASE_URL"
	@echo "make openapi  regenerate docs/openapi.json from the app"
	@echo "make lock     re-resolve requirements/lock.txt from pyproject.toml"

# Listed first where a target needs them, so that they run before anything else.
require-python:
	@$(REQUIRE) python3
require-pg:
	@$(REQUIRE) pg_isready
require-node:
	@$(REQUIRE) node npm
require-chromium:
	@$(REQUIRE) chromium

# --compile-bytecode: the packages' .pyc files are written once here. Where Python may not write
# them itself (PYTHONDONTWRITEBYTECODE, set on this machine), every new execution environment of
# `make up` compiled boto3 and the rest from source: cold starts of 9-20 s under load.
$(STAMP): pyproject.toml requirements/lock.txt
	@$(REQUIRE) python3
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check --upgrade pip uv
	$(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) -r requirements/lock.txt
	$(VENV)/bin/uv pip install -q --python $(PY) --no-deps -e .
	touch $(STAMP)

# The local Kinesis (kinesalite) runs on Node.
KINESIS_MODULES := localstack/kinesis/node_modules/.package-lock.json
$(KINESIS_MODULES): localstack/kinesis/package-lock.json
	@$(REQUIRE) node npm
	cd localstack/kinesis && npm ci --no-audit --no-fund --loglevel=error

install: $(STAMP) $(KINESIS_MODULES)

up: require-python require-node install frontend
	$(PY) -m localcloud up

migrate: install
	$(PY) -m localcloud migrate

tail: install
	@test -n "$(PROJECT)" || { echo "usage: make tail PROJECT=<project id>"; exit 2; }
	$(PY) -m localcloud tail $(PROJECT)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

fmt: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

typecheck: install
	$(PY) -m mypy

test-python: require-python require-pg install
	bash scripts/ensure_services.sh
	$(PY) -m pytest tests

sdk/node_modules/.package-lock.json: sdk/package-lock.json
	@$(REQUIRE) node npm
	cd sdk && npm ci --no-audit --no-fund --loglevel=error

sdk: require-node sdk/node_modules/.package-lock.json
	cd sdk && npm run build

test-sdk: require-node sdk/node_modules/.package-lock.json
	cd sdk && npm test

# The dashboard (frontend/): installed from its lock, exported to frontend/out when any of its
# sources is newer than the export. `make up` builds it when Node is there (else it serves
# without the dashboard and says so).
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
	frontend/package-lock.json frontend/next.config.mjs frontend/tailwind.config.ts \
	frontend/postcss.config.mjs frontend/tsconfig.json

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	@echo "installing the dashboard's packages (npm ci) …"
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

frontend/out/index.html: frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	@echo "building the dashboard (next build, about a minute the first time) …"
	cd frontend && NEXT_TELEMETRY_DISABLED=1 npm run build
	@touch $@

frontend: frontend/out/index.html

frontend-api: frontend/node_modules/.package-lock.json
	cd frontend && npm run gen:api

frontend-size: frontend/out/index.html
	cd frontend && npm run size

test-frontend: frontend/node_modules/.package-lock.json
	cd frontend && npm run typecheck && npm test

CDK := CDK_DISABLE_VERSION_CHECK=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx --yes aws-cdk@2

synth: require-node install
	$(CDK) synth --no-notices -q -c pulse:skipBundling=true

deploy: require-node install
	$(CDK) deploy Pulse --no-notices

# The LocalStack route (Docker and a LocalStack auth token): compose Postgres and Redis instead
# of RDS and ElastiCache (-c pulse:local=true). `make synth-local` proves the variant offline.
LOCAL_COMPOSE := docker compose -f localstack/compose.yaml
CDKLOCAL := CDK_DISABLE_VERSION_CHECK=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 \
	npx --yes --package aws-cdk@2 --package aws-cdk-local@3 cdklocal

synth-local: install
	$(CDK) synth --no-notices -q -c pulse:skipBundling=true -c pulse:local=true

deploy-local: install
	@test -n "$$LOCALSTACK_AUTH_TOKEN" || { echo "LOCALSTACK_AUTH_TOKEN is not set: API Gateway v2 needs a LocalStack account (docs/local.md)"; exit 2; }
	$(LOCAL_COMPOSE) up -d --wait
	$(CDKLOCAL) bootstrap --no-notices -c pulse:local=true
	$(CDKLOCAL) deploy Pulse --no-notices --require-approval never -c pulse:local=true

destroy-local:
	$(CDKLOCAL) destroy Pulse --no-notices --force -c pulse:local=true
	$(LOCAL_COMPOSE) down -v

rollup: install
	$(PY) -m localcloud rollup $(if $(FROM),--from $(FROM)) $(if $(TO),--to $(TO)) $(if $(PROJECT),--project $(PROJECT))

seed: install
	$(PY) scripts/seed_events.py $(ARGS)

bench: require-pg install
	bash scripts/ensure_services.sh
	$(PY) scripts/bench/processor_throughput.py
	$(PY) scripts/bench/ingest_handler.py
	$(PY) scripts/bench/e2e_ingest.py
	$(PY) scripts/bench/live_latency.py
	$(PY) scripts/bench/storage.py
	$(MAKE) --no-print-directory bench-dashboard

bench-dashboard: install tests/browser/node_modules/.package-lock.json frontend/out/index.html
	cd frontend && npm run size
	cd tests/browser && node bench-dashboard.mjs

# Bounded load on a local stack started on free ports with its own database (docs/benchmarks.md).
USERS ?= 40
RATE ?= 1
DASHBOARDS ?= 2
RUN_TIME ?= 60
load: require-pg require-node install
	bash scripts/ensure_services.sh
	$(PY) scripts/load.py --users $(USERS) --rate $(RATE) --dashboards $(DASHBOARDS) \
		--run-time $(RUN_TIME)

tests/browser/node_modules/.package-lock.json: tests/browser/package-lock.json
	@$(REQUIRE) node npm
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error

test-browser: require-chromium require-node require-pg require-python install \
		tests/browser/node_modules/.package-lock.json frontend/out/index.html
	bash scripts/ensure_services.sh
	cd tests/browser && npm test

# Every tool first, so that a missing one stops the run before minutes of other suites.
# The checks and builds that time nothing run two at a time (this machine has 2 cores); the
# suites that measure time (the platform's e2e and the browser) run alone after them.
test: require-python require-pg require-node require-chromium
	$(MAKE) --no-print-directory -j2 lint typecheck test-sdk test-frontend frontend/out/index.html
	$(MAKE) --no-print-directory test-python
	$(MAKE) --no-print-directory test-browser

openapi: install
	$(PY) scripts/export_openapi.py

lock:
	$(VENV)/bin/uv pip compile -q pyproject.toml --extra dev --extra infra \
		--python-version 3.11 -o requirements/lock.txt

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache cdk.out
