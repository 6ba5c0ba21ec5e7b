# `make run`: fresh machine to a served app. `make test`: the whole suite on PostgreSQL.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEMO_PASSWORD ?= clinic-demo-2026
TEST_DATABASE_URL := $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/clinic)
TEST_ENV := SECRET_KEY=test-secret-key-not-for-production DEBUG=0 STATIC_NO_MANIFEST=1 SECURE_SSL_REDIRECT=0 REQUIRE_2FA=0

.PHONY: run serve setup setup-dev test test-sqlite lint format check-db bench bench-load clean

# Running needs requirements.txt only; tests, lint and benchmarks add requirements-dev.txt.
$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

setup-dev: setup $(VENV)/.dev-installed

run: setup
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 DEMO_PASSWORD=$(DEMO_PASSWORD) $(BIN)/python manage.py seed_demo
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

check-db: $(VENV)/.dev-installed
	@$(BIN)/python -c "import sys, psycopg2, dj_database_url as d; c = d.parse('$(TEST_DATABASE_URL)'); \
	psycopg2.connect(host=c['HOST'] or None, port=c['PORT'] or None, user=c['USER'], password=c['PASSWORD'] or None, dbname='postgres', connect_timeout=3).close()" \
	|| { echo; echo "No PostgreSQL answers at $(TEST_DATABASE_URL)."; \
	     echo "Start it (Debian: pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start)"; \
	     echo "or point DATABASE_URL at a server, e.g. DATABASE_URL=postgres://user:pass@host:5432/clinic make test"; exit 1; }

test: setup-dev check-db
	$(BIN)/python -m pytest -p no:django -q tests/planning  # the engine's tests need no Django
	$(TEST_ENV) DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

test-sqlite: setup-dev
	$(TEST_ENV) DATABASE_URL=sqlite:///$(CURDIR)/test-db.sqlite3 $(BIN)/python -m pytest -m "not postgres" $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(TEST_ENV) $(BIN)/mypy
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup-dev check-db
	$(BIN)/python bench/bench_planning.py
	$(BIN)/python bench/bench_scheduling.py

# Pages under load at scale (docs/performance.md): builds or reuses the scale_clinic database
# (seed_scale), serves it with gunicorn and drives it with locust (requirements-bench.txt).
$(VENV)/.bench-installed: $(VENV)/.dev-installed requirements-bench.txt
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

bench-load: setup-dev $(VENV)/.bench-installed check-db
	DEMO_PASSWORD=$(DEMO_PASSWORD) $(BIN)/python bench/bench_load.py

clean:
	rm -rf $(VENV) node_modules staticfiles db.sqlite3
