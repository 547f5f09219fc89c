"""Portability as a test: the dbt project runs on every target (DuckDB, PostgreSQL,
Spark), with engine-specific SQL only in adapter.dispatch implementations.

Fast: a static scan of the models, macros and dbt tests for SQL that only some engines
understand (tests/portability.py lists it, with the portable way), outside
`<adapter>__*` macros; and every dispatched macro has a `default__` implementation.
Slow: `dbt compile` of the whole project for each adapter (no server needed:
--no-populate-cache), then the same scan on what each engine would receive. The Spark
adapter is compiled when dbt-spark is installed and profiles.yml has a `spark` output
(make test-spark); otherwise it is skipped and says so.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path

import pytest

from barometre.common.settings import PROJECT_ROOT, get_settings
from tests.portability import engine_specific, scan

DBT_PROJECT = PROJECT_ROOT / "dbt_project"
SOURCES = sorted(
    [
        *(PROJECT_ROOT / "models").rglob("*.sql"),
        *(DBT_PROJECT / "macros").rglob("*.sql"),
        *(DBT_PROJECT / "tests").rglob("*.sql"),
    ]
)


def test_models_and_macros_use_no_engine_specific_sql_outside_dispatch() -> None:
    assert len(SOURCES) > 40
    findings = scan(SOURCES)
    assert not findings, "engine-specific SQL outside a dispatch macro:\n" + "\n".join(
        f"{path}\n  " + "\n  ".join(items) for path, items in findings.items()
    )


def test_the_scan_finds_engine_specific_sql_and_spares_dispatch_implementations() -> None:
    model = "select edition_code, median(level)::integer from t group by all"
    assert len(engine_specific(model)) == 3
    # in comments, string literals and Jinja, nothing is SQL
    assert not engine_specific(
        "-- median(x)\n{# qualify #} select 'group by all', {{ median('x') }}"
    )
    macros = """
        {% macro duckdb__m(x) %} median({{ x }}) {% endmacro %}
        {% macro default__m(x) %} median({{ x }}) {% endmacro %}
    """
    assert [f.split(":")[0] for f in engine_specific(macros)] == ["line 3"]


def test_every_dispatched_macro_has_a_default_implementation() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in (DBT_PROJECT / "macros").rglob("*.sql"))
    dispatched = set(re.findall(r"adapter\.dispatch\(\s*'(\w+)'\s*,\s*'barometre'", text))
    assert dispatched, "no dispatched macro found"
    missing = sorted(
        name for name in dispatched if not re.search(rf"macro\s+default__{name}\s*\(", text)
    )
    assert not missing, f"dispatched macros without a default__ implementation: {missing}"


def _spark_available() -> str | None:
    """Why Spark is not compiled here, or None."""
    if importlib.util.find_spec("dbt.adapters.spark") is None:
        return "dbt-spark is not installed (make test-spark installs it)"
    profiles = (DBT_PROJECT / "profiles.yml").read_text(encoding="utf-8")
    if not re.search(r"^\s{4}spark:\s*$", profiles, re.M):
        return "profiles.yml has no `spark` output"
    return None


ADAPTERS = [
    "duckdb",
    "postgres",
    pytest.param(
        "spark",
        marks=pytest.mark.skipif(_spark_available() is not None, reason=str(_spark_available())),
    ),
]

UNSUPPORTED = {
    # what each engine does not understand, among tests/portability.py's patterns
    "duckdb": (r"`",),
    "postgres": (
        r"\bmedian\s*\(",
        r"\bstrip_accents\s*\(",
        r"\bqualify\b",
        r"\b(?:group|order)\s+by\s+all\b",
        r"\bcount_if\s*\(",
        r"\bi?iff?\s*\(",
        r"\btry_cast\s*\(",
        r"\bcurrent_localtimestamp\b",
        r"`",
        r"\bcast\s*\([^()]*\bas\s+double\b(?!\s+precision)",
    ),
    "spark": (
        r"::\s*[a-z]",
        r"\bstrip_accents\s*\(",
        r"\b(?:group|order)\s+by\s+all\b",
        r"\bcurrent_localtimestamp\b",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_the_project_compiles_for_each_adapter_without_foreign_sql(
    adapter: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = get_settings()
    env = {
        **os.environ,
        "BAROMETRE_TARGET": adapter,
        "BAROMETRE_WAREHOUSE": str(tmp_path / "compile.duckdb"),
    }
    if adapter == "postgres":
        # An incremental model (core.fct_answers) asks the server whether it exists
        # when it compiles: the throw-away cluster answers.
        from barometre.engines.postgres.connection import DBT_ENV, connection_params

        dsn = request.getfixturevalue("pg_dsn")
        env.update({DBT_ENV[k]: v for k, v in connection_params(dsn).items()})
    result = subprocess.run(
        [
            str(settings.dbt_executable),
            "compile",
            "--no-populate-cache",
            "--quiet",
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target-path",
            str(tmp_path / "target"),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    compiled = sorted((tmp_path / "target" / "compiled").rglob("*.sql"))
    assert len(compiled) > 100
    found = {}
    for path in compiled:
        sql = re.sub(r"'(?:[^']|'')*'", "''", path.read_text(encoding="utf-8"))
        sql = re.sub(r"--[^\n]*", " ", sql)
        hits = [p for p in UNSUPPORTED[adapter] if re.search(p, sql, re.I)]
        if hits:
            found[str(path.relative_to(tmp_path))] = hits
    assert not found, f"SQL {adapter} does not understand, compiled for it: {found}"
