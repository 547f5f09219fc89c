# Two commands do everything on a fresh machine with Python 3.11 and make:
#   make run    install, then run the main job on the bundled sample
#   make test   install (with test tools), lint (ruff, format, mypy, sqlfluff), then run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find models seeds dbt_project/macros dbt_project/tests -type f 2>/dev/null) \
               dbt_project/dbt_project.yml dbt_project/profiles.yml

.PHONY: setup browser postgres run test test-fast test-spark lint lint-checks ui clean

setup: $(STAMP) $(MANIFEST)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

# The dbt manifest is prepared here, at install time, by dagster-dbt's own preparation
# (dbt parse), and again when a dbt file changed; never when Dagster loads the code
# (outside `dagster dev`). `barometre prepare` does the same. Owner-only files, as every
# writing `barometre` verb (docs/operations.md).
$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	umask 077 && $(BIN)/dagster-dbt project prepare-and-package \
		--file orchestration/barometre/transform/dbt_project.py
	touch $(MANIFEST)

run: setup
	$(BIN)/barometre run

# Debian's chromium, for the report's browser tests (tests/test_report.py, slow). Root
# (CI, a fresh Debian machine) installs it; anyone else gets told how, and those tests
# skip; in CI (CI=true) a missing chromium is an error, never a skip.
browser:
	@if command -v chromium >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium for the report's browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	elif [ -n "$$CI" ]; then \
		echo "error: chromium is missing and apt-get needs root; the browser tests must run in CI" >&2; \
		exit 1; \
	else \
		echo "note: chromium is not installed (sudo apt-get install chromium, or make browser" \
		     "as root); the report's browser tests will be skipped"; \
	fi

# Debian's PostgreSQL server binaries (initdb, pg_ctl), for the slow tests of the
# PostgreSQL target (tests/test_postgres.py): they start a throw-away cluster in a
# temporary folder, no service. Installed like chromium above; in CI a missing server
# is an error, never a skip. The package's own cluster service is not needed.
PG_BIN_GLOB := /usr/lib/postgresql/*/bin/initdb
postgres:
	@if ls $(PG_BIN_GLOB) >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's postgresql for the PostgreSQL target's tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	elif [ -n "$$CI" ]; then \
		echo "error: postgresql is missing and apt-get needs root; its tests must run in CI" >&2; \
		exit 1; \
	else \
		echo "note: postgresql is not installed (sudo apt-get install postgresql, or make" \
		     "postgres as root); the PostgreSQL target's tests will be skipped"; \
	fi

# Lint (what `make lint` runs), then everything, slow end-to-end tests included (plain
# `pytest` runs the fast ones only). CI runs `make test`, so it lints too.
test: setup browser postgres
	$(MAKE) --no-print-directory lint-checks
	$(BIN)/python -m pytest -m "(slow or not slow) and not spark"

# The same dbt project on a local Spark session, compared mart by mart with the DuckDB
# build (tests/test_spark.py; docs/scaling.md). Not in `make test` nor CI: it installs
# the optional extra `spark` (pyspark is ~450 MB) and needs Java 17 (Debian's
# openjdk-17-jre-headless, installed here when root and missing).
test-spark: setup
	@command -v java >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; \
		else \
			echo "error: Spark needs Java 17: sudo apt-get install openjdk-17-jre-headless" >&2; exit 1; \
		fi; }
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,spark]"
	$(BIN)/python -m pytest -m spark

test-fast: setup
	$(BIN)/python -m pytest

# Style, format and types (mypy's scope and strictness: [tool.mypy] in pyproject.toml),
# and the SQL of models/ (sqlfluff, dbt templater: .sqlfluff, tools/lint-sql); the same
# checks as the pre-commit hooks (.pre-commit-config.yaml).
lint: setup
	$(MAKE) --no-print-directory lint-checks

lint-checks:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	tools/lint-sql

ui: setup
	$(BIN)/barometre ui

clean:
	rm -rf $(VENV) warehouse .dagster dbt_project/target dbt_project/logs .mypy_cache
