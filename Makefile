# Two commands for a fresh clone: `make run` (the site with demo data) and `make test` (the suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint typecheck messages clean

$(STAMP): pyproject.toml package.json
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent; fi
	if command -v npm >/dev/null; then npm ci --prefix tests/oidc --no-audit --no-fund --silent; fi
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@if [ -n "$$REDIS_URL" ]; then \
	  trap 'kill 0' EXIT; \
	  $(BIN)/celery -A config worker --loglevel=WARNING --concurrency=2 & \
	  $(BIN)/celery -A config beat --loglevel=WARNING --schedule=/tmp/mebuku-celerybeat & \
	  $(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT); \
	else \
	  $(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT); \
	fi

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l ja --no-location --no-obsolete --ignore=.venv --ignore=node_modules --ignore=tests --ignore=voting/election --ignore=bench -v0
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules -v0

clean:
	rm -rf $(VENV) node_modules db.sqlite3 staticfiles
