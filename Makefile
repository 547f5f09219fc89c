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

# Debian packages some tests need: tools/debian-package installs one with apt-get when it
# is missing and the user is root (CI, a fresh Debian machine); anyone else gets told how,
# and the tests that need it skip; in CI (CI=true) a missing package is an error, never a
# skip.
# Debian's chromium, for the report's browser tests (tests/test_report.py, slow).
browser:
	@tools/debian-package chromium 'command -v chromium' "the report's browser tests" browser

# Debian's PostgreSQL server binaries (initdb, pg_ctl), for the slow tests of the
# PostgreSQL target (tests/test_postgres.py): they start a throw-away cluster in a
# temporary folder, no service (the package's own cluster service is not needed).
PG_BIN_GLOB := /usr/lib/postgresql/*/bin/initdb
postgres:
	@tools/debian-package postgresql 'ls $(PG_BIN_GLOB)' "the PostgreSQL target's tests" postgres

# Lint (what `make lint` runs), then everything, slow end-to-end tests included (plain
# `pytest` runs the fast ones only). CI runs `make test`, so it lints too.
test: setup browser postgres
	$(MAKE) --no-print-directory lint-checks
	$(BIN)/python -m pytest -m "(slow or not slow) and not spark"

# The same dbt project on a local Spark session, compared mart by mart with the DuckDB
# build (tests/test_spark.py), and the Dagster pipeline on the spark target with its
# own dbt manifest, prepared here (tests/test_spark_dagster.py; docs/scaling.md). Not in `make test` nor CI: it installs
# the optional extra `spark` (pyspark is ~450 MB) and needs Java 17 (Debian's
# openjdk-17-jre-headless, installed here when root and missing).
test-spark: setup
	@tools/debian-package --required openjdk-17-jre-headless 'command -v java' "Spark (Java 17)" test-spark
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,spark]"
	BAROMETRE_TARGET=spark $(BIN)/barometre prepare
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
