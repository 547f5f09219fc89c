"""fct_answers' row-local tests read only the editions not yet verified
(dbt_project/macros/verified_editions.sql, docs/dbt.md): an edition is recorded verified
(with its build mark and the tests' digest) only after a build in which all those tests
passed; a changed edition, a changed test or `--full-refresh` is tested again.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from barometre.common.settings import PROJECT_ROOT
from barometre.validate.dbt_failures import read_failures
from tests.conftest import run_dbt

pytestmark = pytest.mark.slow

BOOK = "verified_editions.fct_answers_tests"
CHANGED, UNCHANGED = "2021", "2018"
FILTER = "verified_scope"  # the alias of the filtered relation in the compiled SQL


def _rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse))
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _copy(sample_warehouse: Path, tmp_path: Path) -> Path:
    warehouse = tmp_path / "wh" / "w.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(sample_warehouse, warehouse)
    return warehouse


def _book(warehouse: Path) -> set[tuple]:
    return set(_rows(warehouse, f"SELECT * FROM {BOOK}"))


def _current_marks(warehouse: Path) -> set[tuple]:
    return set(
        _rows(warehouse, "SELECT DISTINCT edition_code, edition_build_mark FROM core.fct_answers")
    )


def _verified_tests(target: Path) -> dict[str, dict]:
    """Results of the opted-in tests (meta verified_by_edition) of the invocation whose
    artefacts are in `target`, by unique_id."""
    manifest = json.loads((target / "manifest.json").read_text())
    opted = {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "test"
        and (node["config"].get("meta") or {}).get("verified_by_edition")
    }
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r for r in results if r["unique_id"] in opted}


def _editions_read(warehouse: Path, compiled_sql: str, book_before: Path) -> set[str]:
    """Editions of the rows the test's compiled SQL reads, with the bookkeeping as it was
    when the test ran (the copy `book_before`: the hook rewrote it after the tests)."""
    match = re.search(r"\((select \* from .*?)\) dbt_subquery", compiled_sql, re.S)
    assert match, compiled_sql
    scope = match.group(1).replace(
        f'"{warehouse.stem}"."verified_editions"', '"before"."verified_editions"'
    )
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute(f"ATTACH '{book_before}' AS before (READ_ONLY)")
        rows = con.execute(f"SELECT DISTINCT edition_code FROM ({scope})").fetchall()
        return {row[0] for row in rows}
    finally:
        con.close()


def _project_copy(tmp_path: Path) -> Path:
    """The dbt project with its models and seeds, copied to change a test definition."""
    root = tmp_path / "project"
    for name in ("models", "seeds"):
        shutil.copytree(PROJECT_ROOT / name, root / name)
    shutil.copytree(
        PROJECT_ROOT / "dbt_project",
        root / "dbt_project",
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    return root / "dbt_project"


def _dbt(project: Path, warehouse: Path, target: Path, *args: str) -> subprocess.CompletedProcess:
    return run_dbt(warehouse, *args, "--target-path", str(target), project=project)


def test_a_fresh_build_tests_every_row_and_records_every_edition(sample_warehouse: Path) -> None:
    # The fixture's build, on a warehouse without bookkeeping (its artefacts beside it).
    tests = _verified_tests(sample_warehouse.parent / "dbt-target")
    assert len(tests) == 9, sorted(tests)  # grain, 7 not_null, accepted_values
    assert all(r["status"] == "pass" for r in tests.values())
    assert not any(FILTER in r["compiled_code"] for r in tests.values())
    book = _book(sample_warehouse)
    assert {(e, m) for e, m, _ in book} == _current_marks(sample_warehouse)
    assert len({d for _, _, d in book}) == 1


def test_a_build_after_one_changed_edition_tests_only_its_rows(
    sample_warehouse: Path, tmp_path: Path
) -> None:
    warehouse = _copy(sample_warehouse, tmp_path)
    # One edition changed: its load moved by one second (a new build mark).
    _rows(
        warehouse,
        "UPDATE raw.load_log SET loaded_at = loaded_at + INTERVAL 1 SECOND WHERE edition_code = ?",
        [CHANGED],
    )
    book_before = tmp_path / "before.duckdb"
    shutil.copy(warehouse, book_before)
    old_marks = _current_marks(warehouse)

    built = run_dbt(warehouse, "build", "--quiet", "--target-path", str(tmp_path / "t"))
    assert built.returncode == 0, built.stdout + built.stderr

    tests = _verified_tests(tmp_path / "t")
    assert len(tests) == 9
    for result in tests.values():
        assert result["status"] == "pass"
        assert _editions_read(warehouse, result["compiled_code"], book_before) == {CHANGED}
    new_marks = _current_marks(warehouse)
    assert {m for e, m in new_marks if e == CHANGED} != {m for e, m in old_marks if e == CHANGED}
    assert {(e, m) for e, m, _ in _book(warehouse)} == new_marks

    # --full-refresh tests every row: the tests' SQL carries no filter.
    refreshed = run_dbt(
        warehouse, "build", "--quiet", "--full-refresh", "--target-path", str(tmp_path / "tf")
    )
    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    tests = _verified_tests(tmp_path / "tf")
    assert len(tests) == 9
    assert not any(FILTER in r["compiled_code"] for r in tests.values())


def test_a_changed_test_reads_every_edition_again_until_it_passes(
    sample_warehouse: Path, tmp_path: Path
) -> None:
    warehouse = _copy(sample_warehouse, tmp_path)
    book = _book(warehouse)
    assert {e for e, _, _ in book} == {CHANGED, UNCHANGED}
    project = _project_copy(tmp_path)
    core = project.parent / "models" / "core" / "_core.yml"
    text = core.read_text(encoding="utf-8")
    accepted = 'values: ["answered", "no_answer", "not_concerned"]'
    assert text.count(accepted) == 1
    # The accepted values narrowed: both (verified, unchanged) editions hold such rows.
    core.write_text(text.replace(accepted, 'values: ["answered", "no_answer"]'), "utf-8")

    for attempt in ("first", "second"):
        target = tmp_path / f"t-{attempt}"
        built = _dbt(project, warehouse, target, "build", "--quiet")
        assert built.returncode != 0, attempt
        tests = _verified_tests(target)
        failed = [r for r in tests.values() if r["status"] == "fail"]
        assert len(failed) == 1 and "accepted_values" in failed[0]["unique_id"], attempt
        assert failed[0]["failures"] == 1, attempt  # one failing value: not_concerned
        assert FILTER in failed[0]["compiled_code"]  # filtered, yet every edition read
        # Nothing recorded: the same rows are tested again by the next build.
        assert _book(warehouse) == book, attempt
        # `barometre validate`'s rendering of the failure still finds the failing rows.
        [failure] = [f for f in read_failures(target, warehouse) if "accepted" in f.name]
        assert failure.rows == [("not_concerned", 40 + 78)], failure.rows

    # The test restored (definitions as recorded): the editions are verified again.
    core.write_text(text, "utf-8")
    restored = _dbt(project, warehouse, tmp_path / "t-restored", "build", "--quiet")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    tests = _verified_tests(tmp_path / "t-restored")
    assert all(r["status"] == "pass" for r in tests.values())
    assert _book(warehouse) == book
