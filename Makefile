# Two commands for a fresh clone: `make run` (the site with demo data) and `make test` (the suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# uv: the project venv, never a downloaded Python (this machine reaches no download hosts).
UV := UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never $(BIN)/uv
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lock lint typecheck audit messages clean

# Installs come from uv.lock (hashes for every file); `--locked` refuses to run when pyproject.toml
# and the lock disagree. uv itself is bootstrapped from requirements-bootstrap.txt (hashed) and is
# pinned in the lock too, so `uv sync` keeps it. `make lock` upgrades on purpose.
$(STAMP): pyproject.toml uv.lock requirements-bootstrap.txt package.json package-lock.json
	test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && \
	  $(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-bootstrap.txt; }
	$(UV) sync --locked --extra dev --quiet
	if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent; fi
	if command -v npm >/dev/null; then npm ci --prefix tests/oidc --no-audit --no-fund --silent; fi
	touch $(STAMP)

lock: $(STAMP)
	$(UV) lock --upgrade
	$(UV) pip compile --quiet --generate-hashes --no-header - -o requirements-bootstrap.txt \
	  <<< "uv==$$($(UV) --version | cut -d' ' -f2)"

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@# The demo municipalities' identity providers (identity/demo_idp.py) run beside the site, so
	@# "verify with the municipal ID" works; with Redis, a worker and beat too. Each is started
	@# again if it exits; all stop with the site. The worker's flags are config.celery.WORKER_ARGS
	@# (docs/operations.md says why).
	@mkdir -p var; \
	trap 'kill 0' EXIT; \
	if command -v node >/dev/null; then \
	  while true; do $(BIN)/python manage.py demo_idp --site http://$(HOST):$(PORT) \
	    --site http://localhost:$(PORT); \
	    echo "demo identity provider exited; starting it again" >&2; sleep 2; done & \
	else echo "Node.js not found: the demo identity provider (municipal ID) is not running" >&2; fi; \
	if [ -n "$$REDIS_URL" ]; then \
	  while true; do $(BIN)/celery -A config worker --loglevel=WARNING --concurrency=2 \
	    --without-gossip --without-mingle --without-heartbeat; \
	    echo "celery worker exited; starting it again" >&2; sleep 2; done & \
	  while true; do $(BIN)/celery -A config beat --loglevel=WARNING \
	    --schedule=var/celerybeat-schedule; \
	    echo "celery beat exited; starting it again" >&2; sleep 2; done & \
	fi; \
	$(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

# Known vulnerabilities in the locked dependencies (needs PyPI's JSON API or OSV: not in CI here).
audit: $(STAMP)
	$(BIN)/bandit -q -c pyproject.toml -r config identity proposals debates voting
	$(BIN)/pip-audit --skip-editable --strict

messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l ja --no-location --no-obsolete --ignore=.venv --ignore=node_modules --ignore=tests --ignore=voting/election --ignore=bench -v0
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules -v0

clean:
	rm -rf $(VENV) node_modules db.sqlite3 staticfiles
