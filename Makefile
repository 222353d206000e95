# The two commands: `make run` serves the course, `make test` checks everything.
# `make dev` serves it in debug mode for whoever changes the code.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run dev test install lock upgrade test-latest lint instructor vendor bench clean browser vendor-axe run-scaled \
	test-unit test-e2e test-scaled test-postgres

LOCK := requirements.lock
# Resolving for Linux x86_64 on Python 3.11, the platform the project is run and tested on.
LOCK_FLAGS := --extra dev --generate-hashes --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 --quiet

# The venv holds exactly the lock: pip installs it (hash-checked, nothing resolved, so a fresh
# machine needs only python3), then the locked uv removes whatever the lock no longer names.
$(STAMP): $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(VENV)/bin/uv pip sync --quiet --python $(PY) --require-hashes $(LOCK)
	$(PY) -m pip check --quiet
	@touch $(STAMP)

install: $(STAMP)

# Re-resolve pyproject.toml's ranges, keeping every locked version that still fits (after
# adding or changing a dependency).
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml $(LOCK_FLAGS) -o $(LOCK)

# Move every dependency to the newest version its range allows. A deliberate commit: run
# `make test` (every suite) before committing the new lock.
upgrade: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml $(LOCK_FLAGS) --upgrade -o $(LOCK)
	@echo "requirements.lock rewritten: review the diff, run 'make test', then commit it alone."

# The unit suite in a throwaway venv with the newest allowed versions, to see drift early.
test-latest: $(STAMP)
	rm -rf .venv-latest
	$(VENV)/bin/uv venv --quiet --python $(PY) .venv-latest
	$(VENV)/bin/uv pip compile pyproject.toml $(LOCK_FLAGS) --upgrade -o .venv-latest/latest.lock
	$(VENV)/bin/uv pip sync --quiet --python .venv-latest/bin/python .venv-latest/latest.lock
	.venv-latest/bin/python -m pytest -q -m "not e2e and not scaled and not postgres"

# Debug mode off: this is what a teacher runs for a class (`make run HOST=0.0.0.0` on a classroom
# network). The secret key is made on the first run (.secret-key); the host names the site
# answers follow HOST.
run: export DEBUG := 0
run: export HOST := $(HOST)
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "  Production Patterns course, at:"
	@$(PY) -m config.hosts $(HOST) $(PORT)
	@echo "  Learners: open the address and choose 'Sign up'."
	@echo "  Instructors: run 'make instructor' in another terminal to create a staff account,"
	@echo "  then log in at /accounts/login/"
	@echo ""
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) config.asgi:application

# Debug mode on, for changing the code: Django's error pages and autoreload on every save.
# Never for a class: a debug page shows settings and code to whoever triggers it.
dev: export DEBUG := 1
dev: export HOST := $(HOST)
dev: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py runserver $(HOST):$(PORT)

instructor: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createsuperuser

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy config course quizzes labs ops resilient bench

# Static checks, then each suite in turn with a one-line summary per suite (.ci/suites.py):
# unit + integration (SQLite), e2e (Chromium), scaled (2 workers, PostgreSQL + Redis),
# and the unit suite again on PostgreSQL. A missing service skips its suite with the reason;
# with CI=true that skip is a failure.
test: $(STAMP) browser
	$(PY) .ci/lock_check.py
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy config course quizzes labs ops resilient bench
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check_content
	$(PY) .ci/suites.py

test-unit: $(STAMP)
	$(PY) .ci/suites.py unit

test-e2e: $(STAMP) browser
	$(PY) .ci/suites.py e2e

test-scaled: $(STAMP)
	$(PY) .ci/suites.py scaled

test-postgres: $(STAMP)
	$(PY) .ci/suites.py postgres

# Debian's Chromium drives the browser tests (Playwright's own download is not used).
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "chromium is missing and cannot be installed here (needs root + apt):" \
		     "the e2e suite will be skipped (a failure with CI=true)"; \
	fi

# Two ASGI workers sharing PostgreSQL and Redis, as the scaled deployment runs them.
run-scaled: $(STAMP)
	$(PY) -m tests.scaled.deployment

# axe-core for the accessibility checks of the browser tests (test-only, vendored).
vendor-axe:
	npm ci --no-audit --no-fund --silent
	cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE tests/e2e/vendor/

bench: $(STAMP)
	$(PY) -m bench.pages

vendor:
	cd /tmp && rm -rf htmx-vendor && mkdir htmx-vendor && cd htmx-vendor && npm pack --silent htmx.org@4.0.1 && tar xzf htmx.org-4.0.1.tgz
	cp /tmp/htmx-vendor/package/dist/htmx.min.js /tmp/htmx-vendor/package/dist/ext/hx-ws.min.js /tmp/htmx-vendor/package/LICENSE static/vendor/htmx/

clean:
	rm -rf $(VENV) .venv-latest staticfiles .pytest_cache .ruff_cache .mypy_cache artifacts node_modules
