# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# They install uv from PyPI when it is missing, then `uv sync` the locked dependencies.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(strip $(UV)),)
UV := $(CURDIR)/.tools/bin/uv
endif
# CI runs every suite; locally `make test` skips the suites marked slow (`make test-all` runs them).
PYTEST_MARK := $(if $(filter true,$(CI)),,-m "not slow")

.PHONY: demo test test-all check lint fmt typecheck bench sync clean test-deps

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

# Bytecode is compiled at install (dependencies and keel's own modules): where
# PYTHONDONTWRITEBYTECODE is set, Python would otherwise compile every module on every start.
.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	.venv/bin/python -m compileall -q src >/dev/null
	@touch $@

sync: .venv/.synced

demo: .venv/.synced
	$(UV) run --frozen keel demo

# What the integration tests need beyond Python: Debian's headless Chromium (status page test)
# and the local PostgreSQL server (access-rule tests), installed or started when missing.
test-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (Debian) for the status-page test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: chromium is missing; install Debian's chromium for the status-page test"; fi; }
	@if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  command -v pg_ctlcluster >/dev/null 2>&1 && \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n 1) main start || true; fi

test: .venv/.synced test-deps
	$(UV) run --frozen pytest $(PYTEST_MARK)

test-all: .venv/.synced test-deps
	$(UV) run --frozen pytest

lint: .venv/.synced
	$(UV) run --frozen ruff check src tests bench
	$(UV) run --frozen ruff format --check src tests bench

fmt: .venv/.synced
	$(UV) run --frozen ruff format src tests bench
	$(UV) run --frozen ruff check --fix src tests bench

typecheck: .venv/.synced
	$(UV) run --frozen mypy src

check: lint typecheck test

bench: .venv/.synced
	$(UV) run --frozen python bench/startup.py
	$(UV) run --frozen python bench/plan_scale.py

clean:
	rm -rf .venv .tools .keel .pytest_cache .mypy_cache .ruff_cache
