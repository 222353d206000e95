# The two commands: `make run` serves the course, `make test` checks everything.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint instructor vendor bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "  Production Patterns course: http://$(HOST):$(PORT)/"
	@echo "  Learners: open the URL and choose 'Sign up'."
	@echo "  Instructors: run 'make instructor' in another terminal to create a staff account,"
	@echo "  then log in at http://$(HOST):$(PORT)/accounts/login/"
	@echo ""
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) config.asgi:application

instructor: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createsuperuser

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check_content
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m bench.pages

vendor:
	cd /tmp && rm -rf htmx-vendor && mkdir htmx-vendor && cd htmx-vendor && npm pack --silent htmx.org@4.0.1 && tar xzf htmx.org-4.0.1.tgz
	cp /tmp/htmx-vendor/package/dist/htmx.min.js /tmp/htmx-vendor/package/dist/ext/hx-ws.min.js /tmp/htmx-vendor/package/LICENSE static/vendor/htmx/

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache
