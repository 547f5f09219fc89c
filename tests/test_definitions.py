"""The Dagster code location loads and wires exports → ingestion → dbt, with dbt tests as checks."""

from __future__ import annotations

from dagster import AssetKey

from barometre.definitions import defs


def test_definitions_load_one_lineage_graph() -> None:
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "survey_exports",
        "raw/responses",
        "raw/answers",
        "raw/quarantine",
        "raw/load_log",
        "core/fct_answers",
        "restricted/mart_respondent_theme_maturity",
    } <= keys
    # dbt staging reads the ingestion assets: one graph from the files to the marts.
    stg = graph.get(AssetKey(["staging", "stg_raw__answers"]))
    assert AssetKey(["raw", "answers"]) in stg.parent_keys
    assert AssetKey("survey_exports") in graph.get(AssetKey(["raw", "answers"])).parent_keys


def test_dbt_tests_are_asset_checks() -> None:
    checks = defs.resolve_asset_graph().asset_check_keys
    fct_checks = {c.name for c in checks if c.asset_key == AssetKey(["core", "fct_answers"])}
    assert any(name.startswith("not_null") for name in fct_checks)
    assert any(c.asset_key == AssetKey(["raw", "answers"]) for c in checks)


def test_ingestion_is_partitioned_by_edition_and_jobs_exist() -> None:
    raw = defs.resolve_asset_graph().get(AssetKey(["raw", "answers"]))
    assert raw.partitions_def is not None and raw.partitions_def.name == "edition"
    assert defs.resolve_job_def("ingest_edition").partitions_def == raw.partitions_def
    assert defs.resolve_job_def("transform") is not None


def test_loading_the_code_location_does_not_import_heavy_libraries() -> None:
    # pandas, pandera, great-expectations and duckdb are imported by the steps that use
    # them (issue 10, P4); a fresh interpreter shows what loading the location imports.
    import subprocess
    import sys

    heavy = ("pandas", "pandera", "great_expectations", "openpyxl", "duckdb", "python_calamine")
    code = (
        "import gc, sys, barometre.definitions; "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules)); "
        "print(gc.get_freeze_count())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported, frozen = done.stdout.split("\n")[:2]
    assert imported == ""
    # the tools' objects frozen before the location is built (common/frozen_tools.py)
    assert int(frozen) > 100_000


def test_dbt_runs_once_per_run_with_every_test() -> None:
    """One dbt step: core and marts in one `dbt build`, the source tests on the raw tables
    in it too, none in the per-edition ingestion (issue 10 P1)."""
    from barometre.transform.dbt_assets import DBT_ASSETS

    assert len(DBT_ASSETS) == 1
    ingest = defs.resolve_job_def("ingest_edition")
    transform = defs.resolve_job_def("transform")
    # the dbt op is not part of the ingestion job at all
    assert {n.name for n in ingest.graph.node_defs} == {"raw_edition"}
    assert "barometre_dbt" in {n.name for n in transform.graph.node_defs}
    checks = transform.asset_layer.asset_graph.asset_check_keys
    source_tests = {c for c in checks if c.asset_key.path[0] == "raw"}
    assert any(
        c.name.startswith("source_unique") and c.asset_key.path == ["raw", "responses"]
        for c in source_tests
    )
    # one answer per response × question is pandera's (the ingestion's row_contract
    # check), never a second dbt test on the answers' source (one home per rule)
    assert not any(
        c.name.startswith("source_unique") and c.asset_key.path == ["raw", "answers"]
        for c in source_tests
    )
    ingest_checks = ingest.asset_layer.asset_graph.asset_check_keys
    assert {c.name for c in ingest_checks} == {
        "rows_reconcile",
        "row_contract",
        "no_contract_quarantine",
    }


def test_each_stage_declares_its_own_definitions_merged_into_one() -> None:
    """ingest → validate → transform → publish → serve: each stage's `defs.py` holds its
    assets, checks, jobs, sensors and schedules; definitions.py merges them (issue 12)."""
    from dagster import Definitions

    import barometre.definitions as location
    from barometre.ingest import defs as ingest
    from barometre.publish import defs as publish
    from barometre.serve import defs as serve
    from barometre.transform import defs as transform
    from barometre.validate import defs as validate

    stages = [ingest.defs, validate.defs, transform.defs, publish.defs, serve.defs]
    # Dagster finds the code location's one Definitions among the module's globals.
    assert [v for v in vars(location).values() if isinstance(v, Definitions)] == [defs]

    def names(items) -> list[str]:
        return sorted(getattr(i, "name", None) or str(i) for i in items or [])

    for kind in ("assets", "asset_checks", "jobs", "sensors", "schedules"):
        from_stages = [i for stage in stages for i in (getattr(stage, kind) or [])]
        assert names(from_stages) == names(getattr(defs, kind)), kind
    assert {k.to_user_string() for a in publish.defs.assets for k in a.keys} == {
        "published_warehouse"
    }
    assert [s.name for s in ingest.defs.sensors] == ["raw_exports_sensor"]
    assert [s.name for s in ingest.defs.schedules] == ["weekly_refresh"]
    assert [s.name for s in transform.defs.sensors] == ["refresh_marts_after_ingest"]
