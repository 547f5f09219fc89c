"""Warehouse expectations (Great Expectations on DuckDB), offline Data Docs, Dagster checks.

Fast tests: the GX + duckdb-engine workaround on a tiny DuckDB file, the offline rewrite,
the suites as data, the Dagster check definitions. Slow tests (`-m slow`): the suites on
the built sample warehouse and on corrupted copies of it. No test opens the working
warehouse or writes the project's build/data-docs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import AssetChecksDefinition, AssetCheckSeverity, AssetKey

from barometre.validate.checks import QUALITY_CHECKS, check_result
from barometre.validate.facts import EditionScale, WarehouseFacts
from barometre.validate.offline import make_offline, remote_assets, rewrite_page
from barometre.validate.results import (
    FAILED,
    NOT_BUILT,
    PASSED,
    ExpectationResult,
    QualityReport,
    SuiteResult,
)
from barometre.validate.suites import (
    ERROR,
    SUITE_NAMES,
    TARGETS,
    WARNING,
    build_suites,
)

# --- the GX + duckdb-engine workaround (fast, tiny file) ---------------------------------


@pytest.fixture
def tiny_duckdb(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema s")
    con.execute(
        "create table s.t as select range as x, "
        "case when range % 10 = 0 then null else range end as y from range(1000)"
    )
    con.close()
    return path


def _validate_tiny(session, gx, expectations):
    asset = session.add_query_asset("t", "select * from s.t")
    suite = session.context.suites.add(gx.ExpectationSuite(name="tiny"))
    for expectation in expectations:
        suite.add_expectation(expectation)
    definition = session.context.validation_definitions.add(
        gx.ValidationDefinition(
            name="tiny", data=asset.add_batch_definition_whole_table("all"), suite=suite
        )
    )
    return session.run(definition, result_format={"result_format": "SUMMARY"})


def test_gx_sees_every_row_and_releases_the_file(tiny_duckdb: Path) -> None:
    import great_expectations as gx

    from barometre.validate.gx_duckdb import duckdb_gx

    con = duckdb.connect(str(tiny_duckdb), read_only=True)
    n_rows, n_null = con.execute("select count(*), count(*) - count(y) from s.t").fetchone()
    # a read-only connection held elsewhere in the process does not stop GX
    with duckdb_gx(tiny_duckdb) as session:
        result = _validate_tiny(
            session,
            gx,
            [
                gx.expectations.ExpectTableRowCountToEqual(value=n_rows),
                gx.expectations.ExpectColumnValuesToNotBeNull(column="y"),
                gx.expectations.UnexpectedRowsExpectation(
                    unexpected_rows_query="select * from {batch} where x >= 990"
                ),
            ],
        )
        assert session.query("select count(*) as n from s.t") == [{"n": n_rows}]
    con.close()

    by_type = {r.expectation_config.type: r for r in result.results}
    assert by_type["expect_table_row_count_to_equal"].success
    assert by_type["expect_table_row_count_to_equal"].result["observed_value"] == n_rows
    assert by_type["expect_column_values_to_not_be_null"].result["unexpected_count"] == n_null
    assert by_type["unexpected_rows_expectation"].result["observed_value"] == 10

    # the engine is disposed: a read-write connection in this process works and can write
    con = duckdb.connect(str(tiny_duckdb))
    con.execute("insert into s.t values (1000, 1000)")
    assert con.execute("select count(*) from s.t").fetchone()[0] == n_rows + 1
    con.close()


def test_a_context_opens_one_session_after_another(tiny_duckdb: Path) -> None:
    """The session set-up every target shares (sql_gx) removes its datasource on exit:
    the same GX context (the Data Docs run's) can open the next session."""
    from barometre.validate.gx_duckdb import DATASOURCE_NAME, duckdb_gx, ephemeral_context

    context = ephemeral_context()
    for _ in range(2):
        with duckdb_gx(tiny_duckdb, context) as session:
            assert session.context is context
            assert session.query("select count(*) as n from s.t") == [{"n": 1000}]
        assert DATASOURCE_NAME not in [d.name for d in context.data_sources.all().values()]


def test_gx_never_writes_the_warehouse(tiny_duckdb: Path) -> None:
    from barometre.validate.gx_duckdb import duckdb_gx

    with duckdb_gx(tiny_duckdb) as session, pytest.raises(Exception, match="read-only"):
        session.query("create table s.written as select 1 as x")
    con = duckdb.connect(str(tiny_duckdb), read_only=True)
    assert (
        con.execute(
            "select count(*) from information_schema.tables where table_name = 'written'"
        ).fetchone()[0]
        == 0
    )
    con.close()


def test_without_the_workaround_gx_loses_rows(tiny_duckdb: Path) -> None:
    """Canary: the reason for gx_duckdb. If this starts failing, GX fixed it upstream and
    `GxDuckDB.persist` can go."""
    import great_expectations as gx

    from barometre.validate.gx_duckdb import connect_read_only, ephemeral_context

    context = ephemeral_context()
    datasource = context.data_sources.add_sql(
        name="plain",
        connection_string=f"duckdb:///{tiny_duckdb}",
        kwargs={"creator": lambda: connect_read_only(str(tiny_duckdb))},
    )
    asset = datasource.add_query_asset(name="t", query="select * from s.t")
    suite = context.suites.add(gx.ExpectationSuite(name="plain"))
    suite.add_expectation(gx.expectations.ExpectTableRowCountToEqual(value=1000))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(
            name="plain", data=asset.add_batch_definition_whole_table("all"), suite=suite
        )
    )
    try:
        result = definition.run()
        assert not result.success
        assert result.results[0].result.get("observed_value") is None
    finally:
        datasource.get_execution_engine().engine.dispose()
        if datasource._engine is not None:
            datasource._engine.dispose()


# --- offline Data Docs --------------------------------------------------------------------

STOCK_HEAD = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<link rel="stylesheet" type="text/css" href="https://unpkg.com/x/filter-control.css">
<style>.footer{background: url('https://example.org/logo.png') 0 0 no-repeat;}</style>
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js"
  integrity="sha384-x" crossorigin="anonymous"></script>
<link rel="shortcut icon" href="./static/images/favicon.ico" type="image/x-icon"/>
</head><body><a href="https://greatexpectations.io">GX</a>
<img src="https://example.org/a.png" alt="logo">
<script>$('#t').bootstrapTable({columns: [], data: []});</script></body></html>"""

REMOTE_SCRIPT_OR_STYLE = re.compile(
    r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?https?://", re.I
)


def test_a_suite_is_stored_once_not_once_per_expectation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every run after the first finds its suites stored (Data Docs' store): an
    # expectation added to a suite of a stored name rewrote the whole suite each time.
    import great_expectations as gx
    from great_expectations.data_context.store.expectations_store import ExpectationsStore

    from barometre.validate.data_docs import context_config
    from barometre.validate.gx_duckdb import ephemeral_context
    from barometre.validate.gx_run import _gx_suite

    suite = max(build_suites(WarehouseFacts(editions=())), key=lambda s: len(s.expectations))
    assert len(suite.expectations) > 2
    ephemeral_context(context_config(tmp_path)).suites.add_or_update(_gx_suite(gx, suite))
    writes: list[str] = []
    for method in ("add_expectation", "update", "add"):
        original = getattr(ExpectationsStore, method)

        def spy(self, *args, _original=original, _method=method, **kwargs):
            writes.append(_method)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(ExpectationsStore, method, spy)
    context = ephemeral_context(context_config(tmp_path))  # the next run
    built = _gx_suite(gx, suite)
    assert writes == []
    stored = context.suites.add_or_update(built)
    assert writes == ["update"]
    assert [e.meta["id"] for e in stored.expectations] == [e.id for e in suite.expectations]
    assert stored.meta["relation"] == suite.relation


def test_offline_rewrite_removes_cdn_assets_and_inlines_a_fallback() -> None:
    page = rewrite_page(STOCK_HEAD)
    assert not REMOTE_SCRIPT_OR_STYLE.search(page)
    assert "https://example.org/logo.png" not in page
    assert 'src="https://example.org/a.png"' not in page
    assert "./static/images/favicon.ico" in page  # local assets stay
    assert 'href="https://greatexpectations.io"' in page  # plain links stay
    # the inline fallback comes before any page script that calls $
    assert page.index("barometre-offline-js") < page.index("$('#t')")
    assert "bootstrapTable" in page and "barometre-offline-css" in page
    assert rewrite_page(page) == page  # idempotent


def test_make_offline_rewrites_every_page(tmp_path: Path) -> None:
    (tmp_path / "validations" / "s").mkdir(parents=True)
    for name in ("index.html", "validations/s/page.html"):
        (tmp_path / name).write_text(STOCK_HEAD, encoding="utf-8")
    assert remote_assets(tmp_path)
    assert len(make_offline(tmp_path)) == 2
    assert remote_assets(tmp_path) == {}
    assert make_offline(tmp_path) == []


# --- the suites as data -------------------------------------------------------------------

FACTS = WarehouseFacts(
    editions=(EditionScale("E1", 4), EditionScale("E2", 7)),
    columns={
        "marts.mart_question_distribution": (
            "edition_code",
            "share_stage_a",
            "share_stage_b",
            "share_level_1",
        )
    },
)


def test_suites_follow_the_editions_of_the_reference() -> None:
    suites = {s.name: s for s in build_suites(FACTS)}
    assert tuple(suites) == SUITE_NAMES
    ids = {e.id for e in suites["fct_answers"].expectations}
    assert {"level_within_scale[E1]", "level_within_scale[E2]"} <= ids
    by_id = {e.id: e for e in suites["fct_answers"].expectations}
    assert by_id["level_within_scale[E2]"].kwargs["max_value"] == 7
    assert by_id["level_within_scale[E1]"].where == ("edition_code", "E1")
    # the distribution mart is checked up to the longest scale, and on its stage columns
    dist = {e.id for e in suites["mart_question_distribution"].expectations}
    assert {
        "share_level_7_within_0_1",
        "pct_level_7_within_0_100",
        "share_stage_a_within_0_1",
    } <= dist
    assert "share_level_8_within_0_1" not in dist
    drift = suites["mart_question_distribution__drift"].expectations[0]
    assert "share_stage_b" in drift.kwargs["unexpected_rows_query"]


def test_suites_leave_dbt_its_rules() -> None:
    """One home per rule (docs/data-quality.md): not-null, accepted values and the
    arithmetic of an indicator are dbt's contracts and tests, never a GX expectation."""
    dbt_rules = {"ExpectColumnValuesToNotBeNull", "ExpectColumnValuesToBeInSet"}
    moved = {
        "answer_state_known",
        "level_iff_answered",
        "shares_sum_to_100",
        "rounded_percentages_sum_to_100",
        "level_columns_match_edition_scale",
        "answer_counts_add_up",
    }
    for suite in build_suites(FACTS):
        for e in suite.expectations:
            assert e.expectation not in dbt_rules, (suite.name, e.id)
            assert e.id not in moved and not e.id.endswith("_not_null"), (suite.name, e.id)
    # the pair validated at the door by pandera and on the table by GX stays here
    ids = {e.id for s in build_suites(FACTS) for e in s.expectations}
    assert {"level_within_scale[E1]", "respondents_have_a_known_type"} <= ids


def test_severities_and_sql_expectations_read_their_batch() -> None:
    for suite in build_suites(FACTS):
        expected = WARNING if suite.name.endswith("__drift") else ERROR
        assert suite.severity == expected
        for e in suite.expectations:
            assert e.severity == expected
            if e.expectation == "UnexpectedRowsExpectation":
                assert "{batch}" in e.kwargs["unexpected_rows_query"], e.id
    # nothing edition-specific is written in the suites module
    source = Path(sys.modules[build_suites.__module__].__file__).read_text(encoding="utf-8")
    assert not re.search(r"\b20(18|21)\b", source)


# --- Dagster checks -----------------------------------------------------------------------


def test_quality_checks_guard_their_assets_and_block_on_errors() -> None:
    # one step validates every suite (one GX context), one check per suite
    assert len(QUALITY_CHECKS) == 1
    assert sum(len(list(d.check_specs)) for d in QUALITY_CHECKS) == len(TARGETS)
    specs = {}
    for definition in QUALITY_CHECKS:
        assert isinstance(definition, AssetChecksDefinition)
        for spec in definition.check_specs:
            specs[spec.name] = spec
    for target in TARGETS:
        spec = specs[target.check_name]
        assert spec.asset_key == AssetKey(list(target.asset_key))
        assert spec.blocking == (target.severity == ERROR)
    assert specs["gx_fct_answers"].asset_key == AssetKey(["core", "fct_answers"])
    assert specs["gx_question_distribution"].blocking
    assert not specs["gx_question_drift"].blocking


def test_checks_module_does_not_import_great_expectations() -> None:
    code = (
        "import sys, barometre.validate.checks, barometre.validate.gx_run; "
        "assert 'great_expectations' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _report(*suites: SuiteResult) -> QualityReport:
    return QualityReport(warehouse=Path("w.duckdb"), docs_index=None, suites=suites)


def test_check_result_reports_not_built_as_a_failure() -> None:
    suite = SuiteResult(
        name="mart_theme_maturity",
        relation="marts.mart_theme_maturity",
        asset_key=("marts", "mart_theme_maturity"),
        severity=ERROR,
        status=NOT_BUILT,
        missing_relations=("marts.mart_theme_maturity",),
    )
    result = check_result(_report(suite), "mart_theme_maturity")
    assert not result.passed
    assert result.severity == AssetCheckSeverity.ERROR
    assert result.description.startswith("Not built")
    assert not _report(suite).ok


def test_check_result_metadata_carries_counts_and_samples() -> None:
    failure = ExpectationResult(
        suite="mart_question_distribution__drift",
        id="stage_share_drift_between_editions",
        expectation_type="unexpected_rows_expectation",
        description="drift",
        severity=WARNING,
        status=FAILED,
        observed_value=2,
        unexpected_count=2,
        unexpected_sample=({"question_key": "T01_Q01", "gap_points": 40.0},),
    )
    suite = SuiteResult(
        name="mart_question_distribution__drift",
        relation="marts.mart_question_distribution",
        asset_key=("marts", "mart_question_distribution"),
        severity=WARNING,
        status=FAILED,
        expectations=(failure,),
        evaluated=1,
        docs_page=Path("/tmp/docs/validations/x.html"),
    )
    result = check_result(_report(suite), "mart_question_distribution__drift")
    assert not result.passed
    assert result.severity == AssetCheckSeverity.WARN
    assert result.metadata["unexpected_total"].value == 2
    assert result.metadata["failures"].value[0]["sample"] == [
        {"question_key": "T01_Q01", "gap_points": 40.0}
    ]
    assert result.metadata["data_docs_url"].value == "file:///tmp/docs/validations/x.html"
    assert _report(suite).warnings and not _report(suite).errors


# --- on the built sample warehouse (slow) ------------------------------------------------


def _copy(warehouse: Path, to: Path) -> Path:
    to.mkdir(parents=True, exist_ok=True)
    copy = to / warehouse.name
    shutil.copyfile(warehouse, copy)
    wal = warehouse.with_name(warehouse.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    return copy


def _corrupt(warehouse: Path, *statements: str) -> None:
    con = duckdb.connect(str(warehouse))
    for statement in statements:
        con.execute(statement)
    con.close()


@pytest.fixture(scope="module")
def sample_report(
    sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> QualityReport:
    from barometre.validate.gx_run import run_warehouse_expectations

    docs = tmp_path_factory.mktemp("data-docs")
    return run_warehouse_expectations(sample_warehouse, docs)


@pytest.mark.slow
def test_sample_passes_every_error_expectation(sample_report: QualityReport) -> None:
    assert not sample_report.not_built, [s.name for s in sample_report.not_built]
    assert sample_report.errors == [], sample_report.summary()
    assert sample_report.ok
    assert {s.name for s in sample_report.suites} == set(SUITE_NAMES)
    for suite in sample_report.suites:
        if suite.severity == ERROR:
            assert suite.status == PASSED, suite.name
            assert suite.evaluated == len(suite.expectations) > 0
    respondents = sample_report.profile["respondents_per_edition_and_type"]
    assert respondents and all(sum(types.values()) > 0 for types in respondents.values())


@pytest.mark.slow
def test_drift_between_editions_is_a_warning_not_an_error(sample_report: QualityReport) -> None:
    drift = sample_report.suite("mart_question_distribution__drift")
    assert drift.severity == WARNING
    for e in drift.expectations:
        assert e.severity == WARNING
    # the sample's 2018 → 2021 shifts are large enough to be flagged, and only warned about
    assert sample_report.warnings
    assert all(w.suite == drift.name for w in sample_report.warnings)
    sample = sample_report.warnings[0].unexpected_sample
    assert 0 < len(sample) <= 5
    assert {"question_key", "previous_edition_code", "edition_code", "gap_points"} <= set(sample[0])
    assert sample[0]["previous_edition_code"] != sample[0]["edition_code"]
    result = check_result(sample_report, drift.name)
    assert result.severity == AssetCheckSeverity.WARN and not result.passed


@pytest.mark.slow
def test_data_docs_are_built_and_offline_clean(sample_report: QualityReport) -> None:
    index = sample_report.docs_index
    assert index is not None and index.is_file()
    site = index.parent
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 1 + 2 * len(SUITE_NAMES)  # index, a suite and a result page each
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not REMOTE_SCRIPT_OR_STYLE.search(html), page
        assert "barometre-offline-js" in html, page
    assert remote_assets(site) == {}
    for suite in sample_report.suites:
        assert suite.docs_page is not None and suite.docs_page.is_file()
        assert suite.docs_page.is_relative_to(site)


@pytest.mark.slow
def test_row_counts_through_gx_equal_duckdb(sample_warehouse: Path) -> None:
    import great_expectations as gx

    from barometre.validate.gx_duckdb import duckdb_gx

    con = duckdb.connect(str(sample_warehouse), read_only=True)
    n_rows = con.execute("select count(*) from core.fct_answers").fetchone()[0]
    con.close()
    with duckdb_gx(sample_warehouse) as session:
        asset = session.add_query_asset("fct", "select * from core.fct_answers")
        suite = session.context.suites.add(gx.ExpectationSuite(name="count"))
        suite.add_expectation(gx.expectations.ExpectTableRowCountToEqual(value=n_rows))
        definition = session.context.validation_definitions.add(
            gx.ValidationDefinition(
                name="count", data=asset.add_batch_definition_whole_table("all"), suite=suite
            )
        )
        result = session.run(definition)
    assert result.results[0].result["observed_value"] == n_rows > 0


@pytest.mark.slow
def test_a_share_of_150_fails_the_share_expectations(
    sample_warehouse: Path, tmp_path: Path
) -> None:
    from barometre.validate.gx_run import run_warehouse_expectations

    broken = _copy(sample_warehouse, tmp_path / "wh")
    con = duckdb.connect(str(broken), read_only=True)
    edition, question = con.execute(
        "select edition_code, question_code from marts.mart_question_distribution "
        "where not is_suppressed order by edition_code, question_code limit 1"
    ).fetchone()
    con.close()
    _corrupt(
        broken,
        f"update marts.mart_question_distribution set pct_level_1 = 150, "
        f"share_level_2 = 1.5 where edition_code = '{edition}' "
        f"and question_code = '{question}'",
    )

    report = run_warehouse_expectations(
        broken, tmp_path / "docs", suites=["mart_question_distribution"]
    )
    suite = report.suite("mart_question_distribution")
    assert suite.status == FAILED and not report.ok
    failed = {e.id: e for e in suite.failures}
    # the sums no longer adding up are dbt's (assert_question_distribution_is_consistent,
    # test_sums_that_do_not_add_up_fail_dbt_not_gx): GX reports the values out of range
    assert set(failed) == {"pct_level_1_within_0_100", "share_level_2_within_0_1"}
    assert failed["pct_level_1_within_0_100"].unexpected_count == 1
    assert list(failed["pct_level_1_within_0_100"].unexpected_sample) == [150]
    assert list(failed["share_level_2_within_0_1"].unexpected_sample) == [1.5]
    assert all(e.severity == ERROR for e in report.errors)
    result = check_result(report, "mart_question_distribution")
    assert not result.passed and result.severity == AssetCheckSeverity.ERROR
    assert result.metadata["expectations_failed"].value == 2


@pytest.mark.slow
def test_sums_that_do_not_add_up_fail_dbt_not_gx(sample_warehouse: Path, tmp_path: Path) -> None:
    """The arithmetic of the distribution mart (rounded percentages within the edition's
    rounding bound and summing to pct_sum, a share for each level of the scale) is dbt's
    singular test, not a GX expectation: one home per rule (docs/data-quality.md)."""
    from barometre.validate.gx_run import run_warehouse_expectations
    from tests.conftest import run_dbt

    broken = _copy(sample_warehouse, tmp_path / "wh")
    con = duckdb.connect(str(broken), read_only=True)
    edition, question = con.execute(
        "select edition_code, question_code from marts.mart_question_distribution "
        "where not is_suppressed and pct_level_1 > 0 order by edition_code, question_code "
        "limit 1"
    ).fetchone()
    con.close()
    # every value stays in its range, but the percentages no longer sum to pct_sum
    _corrupt(
        broken,
        f"update marts.mart_question_distribution set pct_level_1 = pct_level_1 - 1 "
        f"where edition_code = '{edition}' and question_code = '{question}'",
    )
    report = run_warehouse_expectations(
        broken, tmp_path / "docs", suites=["mart_question_distribution"]
    )
    assert report.suite("mart_question_distribution").status == PASSED
    result = run_dbt(broken, "test", "--select", "assert_question_distribution_is_consistent")
    assert result.returncode != 0, result.stdout
    assert "assert_question_distribution_is_consistent" in result.stdout
    assert "Got 1 result" in result.stdout, result.stdout


@pytest.mark.slow
def test_losing_a_type_fails_respondents_per_edition_and_group(
    sample_warehouse: Path, tmp_path: Path
) -> None:
    from barometre.validate.gx_run import run_warehouse_expectations

    broken = _copy(sample_warehouse, tmp_path / "wh")
    con = duckdb.connect(str(broken), read_only=True)
    # the latest edition's respondents of one report group
    edition, group = con.execute(
        """select r.edition_code, t.report_group
           from raw.responses r join reference.collectivity_types t using (type_code)
           join reference.editions e on e.edition_code = r.edition_code
           order by e.edition_year desc, e.edition_number desc, t.report_group
           limit 1"""
    ).fetchone()
    con.close()
    _corrupt(
        broken,
        f"""delete from core.fct_answers where edition_code = '{edition}'
                         and respondent_id in (
                           select respondent_id from raw.responses r
                           join reference.collectivity_types t using (type_code)
                           where r.edition_code = '{edition}' and t.report_group = '{group}')""",
    )

    report = run_warehouse_expectations(broken, tmp_path / "docs", suites=["fct_answers"])
    suite = report.suite("fct_answers")
    failed = {e.id: e for e in suite.failures}
    assert set(failed) == {"respondents_per_edition_and_group"}
    assert failed["respondents_per_edition_and_group"].unexpected_sample == (
        {"edition_code": edition, "report_group": group, "n_respondents": 0},
    )
    result = check_result(report, "fct_answers")
    assert not result.passed and result.severity == AssetCheckSeverity.ERROR
    assert result.metadata["sample_failing_values"].value["sample"] == [
        {"edition_code": edition, "report_group": group, "n_respondents": 0}
    ]


@pytest.mark.slow
def test_a_level_beyond_the_edition_scale_fails_that_edition_only(
    sample_warehouse: Path, tmp_path: Path
) -> None:
    from barometre.validate.gx_run import run_warehouse_expectations

    broken = _copy(sample_warehouse, tmp_path / "wh")
    con = duckdb.connect(str(broken), read_only=True)
    # the edition with the shortest scale: its max + 1 is valid for a longer scale
    edition, scale_size = con.execute(
        "select edition_code, scale_size from reference.editions "
        "order by scale_size, edition_code limit 1"
    ).fetchone()
    respondent, question = con.execute(
        f"select respondent_id, question_code from core.fct_answers "
        f"where edition_code = '{edition}' and answer_state = 'answered' "
        f"order by respondent_id, question_code limit 1"
    ).fetchone()
    con.close()
    _corrupt(
        broken,
        f"update core.fct_answers set level = {scale_size + 1} "
        f"where edition_code = '{edition}' and respondent_id = '{respondent}' "
        f"and question_code = '{question}'",
    )

    report = run_warehouse_expectations(broken, tmp_path / "docs", suites=["fct_answers"])
    failed = {e.id: e for e in report.suite("fct_answers").failures}
    assert set(failed) == {f"level_within_scale[{edition}]"}
    assert failed[f"level_within_scale[{edition}]"].unexpected_sample == (scale_size + 1,)


@pytest.mark.slow
def test_a_missing_mart_is_not_built_never_passed(sample_warehouse: Path, tmp_path: Path) -> None:
    from barometre.validate.gx_run import run_warehouse_expectations

    broken = _copy(sample_warehouse, tmp_path / "wh")
    _corrupt(broken, "drop table marts.mart_theme_maturity")
    report = run_warehouse_expectations(
        broken, tmp_path / "docs", suites=["mart_theme_maturity", "fct_answers"]
    )
    suite = report.suite("mart_theme_maturity")
    assert suite.status == NOT_BUILT
    assert suite.missing_relations == ("marts.mart_theme_maturity",)
    assert all(e.success is None and e.status == NOT_BUILT for e in suite.expectations)
    assert report.suite("fct_answers").status == PASSED
    assert not report.ok and report.not_built == [suite] and report.errors == []
    assert not check_result(report, "mart_theme_maturity").passed


@pytest.mark.slow
def test_checks_run_in_dagster(
    sample_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import AssetSelection, AssetSpec, DagsterInstance, Definitions, define_asset_job

    import barometre.validate.checks as checks
    from barometre.common.resources import WarehouseResource

    monkeypatch.setattr(checks, "DOCS_DIR", tmp_path / "data-docs")
    keys = {AssetKey(list(t.asset_key)) for t in TARGETS}
    defs = Definitions(
        assets=[AssetSpec(key) for key in keys],
        asset_checks=QUALITY_CHECKS,
        jobs=[define_asset_job("quality", selection=AssetSelection.checks(*QUALITY_CHECKS))],
        resources={"warehouse": WarehouseResource(warehouse=str(sample_warehouse))},
    )
    result = defs.resolve_job_def("quality").execute_in_process(
        instance=DagsterInstance.ephemeral()
    )
    assert result.success
    evaluations = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {t.check_name for t in TARGETS}
    for target in TARGETS:
        evaluation = evaluations[target.check_name]
        if target.severity == ERROR:
            assert evaluation.passed, target.check_name
        else:
            assert evaluation.severity == AssetCheckSeverity.WARN
        page = Path(evaluation.metadata["data_docs_page"].value)
        assert page.is_file() and page.is_relative_to(tmp_path / "data-docs")
    assert evaluations["gx_fct_answers"].metadata["expectations_failed"].value == 0
    # the index lists every suite
    index = (tmp_path / "data-docs" / "index.html").read_text(encoding="utf-8")
    for name in SUITE_NAMES:
        assert f"validations/{name}/" in index


@pytest.mark.slow
def test_restricted_failures_are_counted_never_listed_per_respondent(
    sample_warehouse: Path, tmp_path: Path
) -> None:
    from barometre.validate.gx_run import run_warehouse_expectations

    broken = _copy(sample_warehouse, tmp_path / "wh")
    _corrupt(
        broken,
        "update restricted.mart_respondent_theme_maturity set n_answered = n_answered + 1 "
        "where theme_code = 'T01'",
    )
    con = duckdb.connect(str(broken), read_only=True)
    sirens = [
        r for (r,) in con.execute("select distinct respondent_id from raw.responses").fetchall()
    ]
    con.close()

    docs = tmp_path / "docs"
    report = run_warehouse_expectations(broken, docs, suites=["mart_respondent_theme_maturity"])
    failed = {e.id: e for e in report.suite("mart_respondent_theme_maturity").failures}
    sample = failed["cells_cover_the_theme"].unexpected_sample
    assert sample and all(
        set(row) == {"edition_code", "theme_code", "n_respondents", "n_questions"} for row in sample
    )
    pages = " ".join(
        p.read_text(encoding="utf-8", errors="ignore")
        for p in docs.rglob("*")
        if p.is_file() and p.suffix in {".html", ".json"}
    )
    assert not [s for s in sirens if s in pages]


@pytest.mark.slow
def test_fact_suite_validates_only_the_editions_whose_build_mark_changed(
    sample_warehouse: Path, tmp_path: Path
) -> None:
    from barometre.validate.gx_run import run_warehouse_expectations

    warehouse, docs = _copy(sample_warehouse, tmp_path / "wh"), tmp_path / "docs"

    def validate() -> SuiteResult:
        report = run_warehouse_expectations(
            warehouse, docs, suites=["fct_answers"], changed_editions_only=True
        )
        return report.suite("fct_answers")

    def runs() -> set[str]:
        return {p.name for p in (docs / "validations" / "fct_answers").glob("*/*")}

    first = validate()  # nothing remembered: every edition
    assert first.status == PASSED and first.editions_validated == ("2018", "2021")
    assert first.editions_kept == () and first.evaluated > 0
    [full_run] = runs()

    again = validate()  # nothing changed: nothing runs, the evidence stays
    assert again.status == PASSED and again.evaluated == 0
    assert again.editions_validated == () and again.editions_kept == ("2018", "2021")
    assert runs() == {full_run} and again.docs_page and again.docs_page.is_file()
    assert check_result(_report(again), "fct_answers").passed

    # 2021 rebuilt (a new build mark) with a level off its scale: only 2021 is validated,
    # it fails, and 2018's earlier evidence is kept beside the failing run.
    con = duckdb.connect(str(warehouse), read_only=True)
    respondent, question, level = con.execute(
        "select respondent_id, question_code, level from core.fct_answers "
        "where edition_code = '2021' and answer_state = 'answered' "
        "order by respondent_id, question_code limit 1"
    ).fetchone()
    con.close()
    where = (
        f"edition_code = '2021' and respondent_id = '{respondent}' and question_code = '{question}'"
    )
    _corrupt(
        warehouse,
        "update core.fct_answers set edition_build_mark = 'rebuilt' where edition_code = '2021'",
        f"update core.fct_answers set level = 99 where {where}",
    )
    failing = validate()
    assert failing.status == FAILED and failing.editions_validated == ("2021",)
    assert failing.editions_kept == ("2018",)
    assert {e.id for e in failing.failures} == {"level_within_scale[2021]"}
    assert all("[2018]" not in e.id for e in failing.expectations)
    assert full_run in runs() and len(runs()) == 2
    assert not check_result(_report(failing), "fct_answers").passed

    # Repaired: 2021 (never recorded as passed) is validated again and passes; the
    # failing run's results are gone, the full run's stay for 2018.
    _corrupt(warehouse, f"update core.fct_answers set level = {level} where {where}")
    repaired = validate()
    assert repaired.status == PASSED and repaired.editions_validated == ("2021",)
    assert len(runs()) == 2 and full_run in runs()
    assert validate().editions_validated == ()

    # Without the option (`barometre` tools, the tests): every edition, every time.
    full = run_warehouse_expectations(warehouse, docs, suites=["fct_answers"]).suite("fct_answers")
    assert full.status == PASSED and full.editions_validated == () and full.editions_kept == ()
    assert full.evaluated == first.evaluated
    # ... which replaces the stored evidence: the next scoped run validates every edition
    assert validate().editions_validated == ("2018", "2021")


@pytest.mark.slow
def test_a_suite_whose_inputs_did_not_change_keeps_its_results(
    sample_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changed inputs only (validate.scope): a suite runs again when a value of its mart,
    or its expectations, changed; otherwise the results of its last validation stand
    (the drift warning's failures too), with their Data Docs page, and when nothing is to
    run Great Expectations is not opened at all. A failed error suite never stands."""
    import barometre.validate.gx_run as gx_run
    import barometre.validate.suites as suites
    from barometre.validate.gx_run import run_warehouse_expectations

    warehouse, docs = _copy(sample_warehouse, tmp_path / "wh"), tmp_path / "docs"

    def validate() -> QualityReport:
        return run_warehouse_expectations(warehouse, docs, changed_editions_only=True)

    from barometre.validate.scope import results_stand

    assert not results_stand(docs, warehouse)
    first = validate()
    assert all(s.kept_run is None and s.evaluated > 0 for s in first.suites)
    assert results_stand(docs, warehouse) and not results_stand(docs, tmp_path / "other")
    drift = first.suite("mart_question_distribution__drift")
    assert drift.status == FAILED and drift.failures  # the sample's warning

    real = gx_run._run_with_gx

    def no_gx(*args, **kwargs):
        raise AssertionError("Great Expectations opened with nothing to validate")

    monkeypatch.setattr(gx_run, "_run_with_gx", no_gx)
    again = validate()
    marts = [s for s in SUITE_NAMES if s != "fct_answers"]
    for name in marts:
        kept, before = again.suite(name), first.suite(name)
        assert kept.kept_run and kept.status == before.status, name
        assert kept.expectations == before.expectations and kept.docs_page == before.docs_page
        assert kept.docs_page and kept.docs_page.is_file()
    assert again.suite("fct_answers").editions_kept == ("2018", "2021")
    kept_check = check_result(again, "mart_theme_maturity")
    assert kept_check.passed and "results stand" in (kept_check.description or "")
    assert kept_check.metadata["kept_from_run"].value == again.suite("mart_theme_maturity").kept_run
    kept_drift = check_result(again, "mart_question_distribution__drift")
    assert not kept_drift.passed and kept_drift.severity == AssetCheckSeverity.WARN
    assert kept_drift.metadata["expectations_failed"].value == len(drift.failures)
    monkeypatch.setattr(gx_run, "_run_with_gx", real)

    # one value of one mart changed (still valid): that suite only runs again
    _corrupt(
        warehouse,
        "update marts.mart_theme_maturity set mean_score_0_100 = mean_score_0_100 / 2 "
        "where mean_score_0_100 is not null and rowid = (select min(rowid) from "
        "marts.mart_theme_maturity where mean_score_0_100 is not null)",
    )
    changed = validate()
    assert changed.suite("mart_theme_maturity").kept_run is None
    assert changed.suite("mart_theme_maturity").status == PASSED
    assert all(changed.suite(n).kept_run for n in marts if n != "mart_theme_maturity")
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert all(f"validations/{name}/" in index for name in SUITE_NAMES)

    # its expectations changed (a drift threshold): the drift suite runs again
    monkeypatch.setattr(suites, "DRIFT_MAX_STAGE_GAP_POINTS", 30.0)
    redefined = validate()
    assert redefined.suite("mart_question_distribution__drift").kept_run is None
    assert redefined.suite("mart_theme_maturity").kept_run

    # a failed error suite is validated again every time, never kept
    _corrupt(
        warehouse,
        "update marts.mart_transverse_maturity set mean_score_0_100 = 150 "
        "where rowid = (select min(rowid) from marts.mart_transverse_maturity)",
    )
    for _ in range(2):
        failing = validate().suite("mart_transverse_maturity")
        assert failing.status == FAILED and failing.kept_run is None

    # a full validation replaces the stored evidence: nothing stands after it
    run_warehouse_expectations(warehouse, docs)
    assert validate().suite("mart_theme_maturity").kept_run is None
