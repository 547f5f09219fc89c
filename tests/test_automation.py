"""Sensor, schedule, refresh after ingestion, the publish asset and job, the operations
commands (new-edition, status). No daemon runs in tests: the sensor and schedule
functions are called directly, on an ephemeral Dagster instance."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    RunRequest,
    SkipReason,
    build_run_status_sensor_context,
    build_schedule_context,
    build_sensor_context,
    job,
    materialize,
    op,
)

from barometre.common.resources import WarehouseResource
from barometre.ingest.fingerprint import edition_state
from barometre.ingest.schedule import (
    DEFAULT_SCHEDULE_CRON,
    ENV_SCHEDULE_CRON,
    build_weekly_refresh,
    weekly_refresh,
)
from barometre.ingest.sensor import ENV_SENSOR_SETTLE, raw_exports_sensor
from barometre.publish.asset import PUBLISHED_CONTENT, published_warehouse
from barometre.publish.publication import current_version
from barometre.transform.runs import refresh_marts_after_ingest
from tests.factories import Response, write_limesurvey, write_surveymonkey
from tests.test_publish import make_working


def build_defs() -> Definitions:
    """The code location, with the automation wired in."""
    from barometre.definitions import defs

    return defs


def _transform(instance: DagsterInstance) -> Any:
    """The `transform` job run in process, quietly, its failure returned (not raised)."""
    return (
        build_defs()
        .resolve_job_def("transform")
        .execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    )


@pytest.fixture
def instance() -> DagsterInstance:
    with DagsterInstance.ephemeral() as inst:
        yield inst


@pytest.fixture
def persistent_instance(tmp_path: Path) -> DagsterInstance:
    """Schedules need an instance they can re-open (build_schedule_context)."""
    (tmp_path / "dagster").mkdir()
    with DagsterInstance.from_config(str(tmp_path / "dagster")) as inst:
        yield inst


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(ENV_SENSOR_SETTLE, "0")
    data = tmp_path / "raw"
    write_limesurvey(data / "2021", [Response("Bordeaux Métropole", "METRO")])
    return data


def tick(instance: DagsterInstance, data_dir: Path, cursor: str | None):
    """One sensor evaluation; applies its partition requests as the daemon would."""
    with build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir))},
    ) as context:
        result = raw_exports_sensor(context)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
    return result


# --------------------------------------------------------------------------- sensor


def test_new_edition_folder_becomes_a_partition_and_a_run(instance, data_dir) -> None:
    result = tick(instance, data_dir, None)
    assert [r.partition_keys for r in result.dynamic_partitions_requests] == [["2021"]]
    assert [(r.job_name, r.partition_key) for r in result.run_requests] == [
        ("ingest_edition", "2021")
    ]
    assert result.run_requests[0].tags["barometre/trigger"] == "new edition"
    assert set(json.loads(result.cursor)["editions"]) == {"2021"}
    assert instance.get_dynamic_partitions("edition") == ["2021"]


def test_sensor_and_schedule_runs_carry_the_tags_barometre_run_skips_by(
    persistent_instance, data_dir
) -> None:
    # An ingestion the sensor or the schedule started records the content and the seeds
    # it loads, as `barometre run` does: a later `barometre run` skips that edition.
    from barometre.common.settings import get_settings
    from barometre.ingest.fingerprint import seeds_fingerprint
    from barometre.ingest.runs import CONTENT_TAG, SEEDS_TAG, unchanged_since_last_load

    instance = persistent_instance
    seeds = seeds_fingerprint(get_settings().seeds_dir)
    (sensed,) = tick(instance, data_dir, None).run_requests
    with build_schedule_context(
        instance=instance, resources={"warehouse": WarehouseResource(data_dir=str(data_dir))}
    ) as context:
        (scheduled,) = weekly_refresh(context)
    state = edition_state(data_dir / "2021")
    for request in (sensed, scheduled):
        assert request.tags[SEEDS_TAG] == seeds
        assert request.tags[CONTENT_TAG] == state.fingerprint
    [(name, sha)] = state.files
    logged = [(name, sha, "2026-01-01 00:00:00")]
    assert not unchanged_since_last_load(instance, state, seeds, logged)
    _finished_run(instance, "ingest_edition", **sensed.tags)
    assert unchanged_since_last_load(instance, state, seeds, logged)


def test_unchanged_exports_trigger_nothing(instance, data_dir) -> None:
    first = tick(instance, data_dir, None)
    second = tick(instance, data_dir, first.cursor)
    assert not second.run_requests
    assert not second.dynamic_partitions_requests
    assert "no new or changed export" in second.skip_reason.skip_message
    assert second.cursor == first.cursor


def test_changed_export_triggers_only_that_edition(instance, data_dir) -> None:
    write_surveymonkey(data_dir / "2018", [Response("Métropole Européenne de Lille", answer="3")])
    first = tick(instance, data_dir, None)
    assert sorted(r.partition_key for r in first.run_requests) == ["2018", "2021"]

    # Same file name, new content: a re-export of 2021.
    write_limesurvey(
        data_dir / "2021",
        [Response("Bordeaux Métropole", "METRO"), Response("Ville de Paris", "COM")],
    )
    second = tick(instance, data_dir, first.cursor)
    assert [(r.partition_key, r.tags["barometre/trigger"]) for r in second.run_requests] == [
        ("2021", "export changed")
    ]
    assert not second.dynamic_partitions_requests
    # A touched but identical file is not a change (content hash, not mtime).
    os.utime(data_dir / "2021" / "export.csv")
    assert not tick(instance, data_dir, second.cursor).run_requests


def test_manifest_change_is_a_change(instance, data_dir) -> None:
    first = tick(instance, data_dir, None)
    manifest = data_dir / "2021" / "manifest.yml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace(
            "latest_complete", "latest_complete  # edited"
        ),
        encoding="utf-8",
    )
    assert [r.partition_key for r in tick(instance, data_dir, first.cursor).run_requests] == [
        "2021"
    ]


def test_edition_waits_for_its_export_and_for_copies_to_finish(tmp_path: Path) -> None:
    folder = write_limesurvey(tmp_path / "2021", [Response("Bordeaux Métropole", "METRO")])
    ready = edition_state(folder)
    assert ready.fingerprint and len(ready.fingerprint) == 64
    # A file modified a moment ago may still be being copied.
    busy = edition_state(folder, settle_seconds=60)
    assert busy.fingerprint is None and "being written" in busy.waiting
    (folder / "export.csv").unlink()
    missing = edition_state(folder)
    assert missing.fingerprint is None and "export.csv" in missing.waiting


def test_edition_without_its_export_gets_a_partition_but_no_run(instance, data_dir) -> None:
    (data_dir / "2021" / "export.csv").unlink()
    result = tick(instance, data_dir, None)
    assert not result.run_requests
    assert "waiting for export.csv" in result.skip_reason.skip_message
    assert instance.get_dynamic_partitions("edition") == ["2021"]


def test_first_tick_skips_content_already_ingested(instance, data_dir) -> None:
    # `barometre run` loaded this content (its run carries the fingerprint): the sensor's
    # first tick, with an empty cursor, must not load it again — but a change must.
    from barometre.ingest.fingerprint import edition_state
    from barometre.ingest.runs import CONTENT_TAG

    loaded = edition_state(data_dir / "2021").fingerprint
    _finished_run(instance, "ingest_edition", **{CONTENT_TAG: loaded})
    first = tick(instance, data_dir, None)
    assert not first.run_requests
    write_limesurvey(data_dir / "2021", [Response("Nantes Métropole", "METRO")])
    assert [r.partition_key for r in tick(instance, data_dir, first.cursor).run_requests] == [
        "2021"
    ]


def test_barometre_run_skips_an_edition_loaded_from_the_same_folder_and_seeds(
    instance, data_dir
) -> None:
    # `barometre run` loads an edition again only when its folder, the seeds or the
    # warehouse's raw.load_log tell a different story from its last successful load.
    from barometre.common.settings import PROJECT_ROOT
    from barometre.ingest.fingerprint import seeds_fingerprint
    from barometre.ingest.runs import CONTENT_TAG, SEEDS_TAG, unchanged_since_last_load

    seeds = seeds_fingerprint(PROJECT_ROOT / "seeds")
    state = edition_state(data_dir / "2021")
    [(name, sha)] = state.files
    assert name == "export.csv"
    logged = [(name, sha, "2026-01-01 00:00:00")]
    assert not unchanged_since_last_load(instance, state, seeds, logged)  # never ingested
    _finished_run(instance, "ingest_edition", **{CONTENT_TAG: state.fingerprint, SEEDS_TAG: seeds})
    assert unchanged_since_last_load(instance, state, seeds, logged)
    assert not unchanged_since_last_load(instance, state, "other seeds", logged)
    assert not unchanged_since_last_load(instance, state, seeds, [])  # warehouse lost it
    assert not unchanged_since_last_load(instance, state, seeds, None)  # unreadable
    restored = [(name, "0" * 64, "2025-01-01 00:00:00")]  # an older warehouse file
    assert not unchanged_since_last_load(instance, state, seeds, restored)
    write_limesurvey(data_dir / "2021", [Response("Nantes Métropole", "METRO")])
    assert not unchanged_since_last_load(instance, edition_state(data_dir / "2021"), seeds, logged)


# --------------------------------------------------------------------------- refresh


def _finished_run(instance: DagsterInstance, job_name: str, **tags: str) -> tuple:
    @op
    def step() -> None:
        pass

    @job(name=job_name)
    def tiny() -> None:
        step()

    result = tiny.execute_in_process(instance=instance, tags={"dagster/partition": "2021", **tags})
    (event,) = instance.all_logs(result.run_id, of_type=DagsterEventType.RUN_SUCCESS)
    return event.dagster_event, instance.get_run_by_id(result.run_id)


def test_successful_ingestion_requests_a_transform_run(instance) -> None:
    event, run = _finished_run(instance, "ingest_edition")
    context = build_run_status_sensor_context(
        sensor_name="refresh_marts_after_ingest",
        dagster_event=event,
        dagster_instance=instance,
        dagster_run=run,
    )
    request = refresh_marts_after_ingest(context)
    assert isinstance(request, RunRequest)
    assert request.tags["barometre/edition"] == "2021"

    # A transform run already waiting in the queue will include this edition.
    instance.add_run(DagsterRun(job_name="transform", status=DagsterRunStatus.NOT_STARTED))
    assert isinstance(refresh_marts_after_ingest(context), SkipReason)


def test_other_jobs_do_not_trigger_a_refresh(instance) -> None:
    event, run = _finished_run(instance, "transform")
    context = build_run_status_sensor_context(
        sensor_name="refresh_marts_after_ingest",
        dagster_event=event,
        dagster_instance=instance,
        dagster_run=run,
    )
    assert isinstance(refresh_marts_after_ingest(context), SkipReason)


# --------------------------------------------------------------------------- schedule


def test_schedule_requests_every_edition(persistent_instance, data_dir) -> None:
    instance = persistent_instance
    write_surveymonkey(data_dir / "2018", [Response("Métropole Européenne de Lille", answer="3")])
    with build_schedule_context(
        instance=instance, resources={"warehouse": WarehouseResource(data_dir=str(data_dir))}
    ) as context:
        requests = weekly_refresh(context)
    assert sorted((r.job_name, r.partition_key) for r in requests) == [
        ("ingest_edition", "2018"),
        ("ingest_edition", "2021"),
    ]
    assert sorted(instance.get_dynamic_partitions("edition")) == ["2018", "2021"]


def test_schedule_with_no_edition_skips(persistent_instance, tmp_path: Path) -> None:
    instance = persistent_instance
    with build_schedule_context(
        instance=instance,
        resources={"warehouse": WarehouseResource(data_dir=str(tmp_path / "empty"))},
    ) as context:
        assert isinstance(weekly_refresh(context), SkipReason)


def test_schedule_cron_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert weekly_refresh.cron_schedule == os.environ.get(ENV_SCHEDULE_CRON, DEFAULT_SCHEDULE_CRON)
    assert weekly_refresh.execution_timezone == "Europe/Paris"
    monkeypatch.setenv(ENV_SCHEDULE_CRON, "30 5 * * *")
    assert build_weekly_refresh().cron_schedule == "30 5 * * *"


# --------------------------------------------------------------------------- definitions


def test_definitions_with_automation_are_valid() -> None:
    defs = build_defs()
    Definitions.validate_loadable(defs)
    assert (
        defs.resolve_sensor_def("raw_exports_sensor").default_status == DefaultSensorStatus.RUNNING
    )
    assert (
        defs.resolve_sensor_def("refresh_marts_after_ingest").default_status
        == DefaultSensorStatus.RUNNING
    )
    assert (
        defs.resolve_schedule_def("weekly_refresh").default_status == DefaultScheduleStatus.RUNNING
    )

    graph = defs.resolve_asset_graph()
    parents = graph.get(AssetKey("published_warehouse")).parent_keys
    marts = {k for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    # Publishing depends on what it publishes, and only that: the marts and the allowed
    # lookups, never restricted/* (issue 11 §3) …
    assert parents == set(PUBLISHED_CONTENT)
    assert {k.path[0] for k in PUBLISHED_CONTENT} == {"marts", "reference"}
    assert marts <= set(PUBLISHED_CONTENT)
    assert AssetKey(["reference", "collectivities"]) not in parents
    # … and core is upstream of every mart, so a failed blocking check on core still
    # stops the marts step, and publishing with it.
    assert (
        AssetKey(["core", "fct_answers"])
        in graph.get(AssetKey(["marts", "mart_question_distribution"])).parent_keys
    )

    # dbt assets grouped by layer, not one `default` group
    groups = {
        k: graph.get(k).group_name
        for k in graph.get_all_asset_keys()
        if k.path[0] in {"staging", "intermediate", "core", "marts", "restricted", "reference"}
        and graph.get(k).is_materializable
    }
    assert "default" not in set(groups.values())
    assert groups[AssetKey(["marts", "mart_theme_maturity"])] == "marts"
    assert groups[AssetKey(["restricted", "mart_respondent_maturity"])] == "restricted"
    assert groups[AssetKey(["core", "fct_answers"])] == "core"
    assert groups[AssetKey(["reference", "editions"])] == "reference"
    assert {groups[k] for k in groups if k.path[0] == "staging"} == {"staging"}
    assert {groups[k] for k in groups if k.path[0] == "intermediate"} == {"intermediate"}
    # dbt tests as checks, each with a description a person can read
    checks = [spec for a in graph.assets_defs for spec in a.check_specs if spec.asset_key in groups]
    assert checks and all(spec.description for spec in checks)
    unique = next(
        s
        for s in checks
        if s.asset_key == AssetKey(["marts", "mart_question_distribution"])
        and "unique_combination" in s.name
    )
    assert "unique_combination" in unique.description and "question_code" in unique.description
    assert not {k for k in parents if k.path[0] == "raw"}
    transform = defs.resolve_job_def("transform")
    selected = transform.asset_layer.selected_asset_keys
    assert AssetKey("published_warehouse") in selected
    assert AssetKey(["core", "fct_answers"]) in selected


def test_publish_asset_records_the_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAROMETRE_PUBLISHED_DIR", str(tmp_path / "published"))
    working = make_working(tmp_path / "working.duckdb")
    result = materialize(
        [published_warehouse], resources={"warehouse": WarehouseResource(warehouse=str(working))}
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("published_warehouse")
    metadata = materialization.metadata
    published = current_version(tmp_path / "published")
    assert metadata["version"].value == published.version
    assert metadata["row_counts"].value == published.tables
    assert metadata["storage_version"].value == "v1.4.0"
    assert published.run_id == result.run_id


@pytest.mark.slow
def test_failed_checks_leave_the_published_data_untouched(
    sample_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blocking dbt test fails: the transform run fails and publishes nothing."""
    from barometre.publish.publication import publish

    working = tmp_path / "working.duckdb"
    shutil.copy(sample_warehouse, working)
    published_dir = tmp_path / "published"
    before = publish(working, published_dir)
    con = duckdb.connect(str(working))
    # A respondent twice in an edition: the unique source test (severity error) fails.
    con.execute("INSERT INTO raw.responses SELECT * FROM raw.responses LIMIT 1")
    con.close()
    monkeypatch.setenv("BAROMETRE_WAREHOUSE", str(working))
    monkeypatch.setenv("BAROMETRE_PUBLISHED_DIR", str(published_dir))
    with DagsterInstance.ephemeral() as inst:
        result = _transform(inst)
    assert not result.success
    assert current_version(published_dir) == before
    assert not result.asset_materializations_for_node("published_warehouse")

    from barometre.common.settings import get_settings
    from barometre.serve.cli.publication import unchanged_publication_note

    assert f"NOT changed: still version {before.version}" in unchanged_publication_note(
        get_settings()
    )


@pytest.mark.slow
def test_a_failing_dbt_test_is_reported_alike_when_built_in_the_warm_process(
    sample_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build run in `barometre run`'s warm dbt process (barometre.transform.warm_dbt)
    fails as dbt started by the step fails: the same failed and passed checks, the same
    failures read back from run_results.json (`barometre validate`, the run's message)."""
    from barometre.common.settings import get_settings
    from barometre.transform.partial_parse import cache_file
    from barometre.transform.warm_dbt import announce, start_warm_dbt, withdraw
    from barometre.validate.dbt_failures import failures_of_run, read_failures

    outcomes = {}
    for warm in (False, True):
        working = tmp_path / f"working-{warm}.duckdb"
        shutil.copy(sample_warehouse, working)
        con = duckdb.connect(str(working))
        # A respondent twice in an edition: the unique source test (severity error) fails.
        con.execute("INSERT INTO raw.responses SELECT * FROM raw.responses LIMIT 1")
        con.close()
        monkeypatch.setenv("BAROMETRE_WAREHOUSE", str(working))
        monkeypatch.setenv("BAROMETRE_PUBLISHED_DIR", str(tmp_path / f"published-{warm}"))
        settings = get_settings()
        cache = cache_file(settings.dbt_project_dir, working)
        process = start_warm_dbt(settings, cache) if warm else None
        if warm:
            assert process is not None
            announce(cache, process)
        try:
            with DagsterInstance.ephemeral() as inst:
                result = _transform(inst)
                messages = [e.user_message for e in inst.all_logs(result.run_id)]
        finally:
            if process is not None:
                process.close()
            withdraw()
            cache.unlink(missing_ok=True)
        assert not result.success
        served = any("the build ran in this run's warm dbt process" in m for m in messages)
        assert served == warm
        checks = sorted(
            (e.asset_check_evaluation_data.check_name, e.asset_check_evaluation_data.passed)
            for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
        )
        [target] = failures_of_run(settings.dbt_project_dir / "target", result.run_id)
        failures = sorted((f.name, f.rows) for f in read_failures(target, working))
        outcomes[warm] = (checks, failures)
    assert outcomes[True] == outcomes[False]
    checks, failures = outcomes[True]
    assert any(not passed for _name, passed in checks) and failures


# --------------------------------------------------------------------------- commands


def _cli(args: list[str]) -> int:
    from barometre.serve.cli import build_parser

    parsed = build_parser().parse_args(args)
    return parsed.func(parsed)


def test_new_edition_writes_manifest_and_seed_stubs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from barometre.ingest.errors import IngestError
    from barometre.ingest.manifest import load_manifest

    monkeypatch.setenv("BAROMETRE_DATA_DIR", str(tmp_path / "raw"))
    assert _cli(["new-edition", "2024", "--layout", "limesurvey_csv"]) == 0
    folder = tmp_path / "raw" / "2024"
    assert (folder / "manifest.yml").is_file() and (folder / "SEEDS_TODO.md").is_file()
    header = (folder / "seed_stubs" / "questions.csv").read_text(encoding="utf-8")
    assert header.startswith("edition_code,question_code,theme_code,order_in_theme,wording_fr")
    assert "\n2024,T01_Q01," in header
    editions = (folder / "seed_stubs" / "editions.csv").read_text(encoding="utf-8")
    assert "\n2024,2024,3,TODO" in editions
    # The template parses; what is left is the missing export, said in plain words.
    with pytest.raises(IngestError, match=r"export file listed in manifest\.yml is missing"):
        load_manifest(folder)
    assert "written:" in capsys.readouterr().out

    # Never overwrites.
    assert _cli(["new-edition", "2024", "--layout", "surveymonkey_xlsx"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert _cli(["new-edition", "../evil", "--layout", "limesurvey_csv"]) == 1


def test_surveymonkey_template_parses(tmp_path: Path) -> None:
    from barometre.common.settings import PROJECT_ROOT
    from barometre.ingest.errors import IngestError
    from barometre.ingest.manifest import load_manifest
    from barometre.ingest.new_edition import create_edition

    create_edition(tmp_path, PROJECT_ROOT / "seeds", "2025", "surveymonkey_xlsx")
    with pytest.raises(IngestError, match="missing"):
        load_manifest(tmp_path / "2025")


def test_instance_config_keeps_the_event_log_open_and_upgrades_an_unedited_file(
    tmp_path: Path,
) -> None:
    from barometre.instance_storage import KeptOpenSqliteEventLogStorage
    from barometre.serve.cli.instance import PREVIOUS_INSTANCE_CONFIG, ensure_instance_config

    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(PREVIOUS_INSTANCE_CONFIG, encoding="utf-8")
    with DagsterInstance.from_config(str(home)) as before:  # Dagster's own storage
        _, earlier = _finished_run(before, "ingest_edition")
    ensure_instance_config(home)
    assert "KeptOpenSqliteEventLogStorage" in (home / "dagster.yaml").read_text()
    with DagsterInstance.from_config(str(home)) as inst:
        assert isinstance(inst.event_log_storage, KeptOpenSqliteEventLogStorage)
        _, run = _finished_run(inst, "ingest_edition")
        # runs stored before the change are read from the same files
        assert inst.all_logs(earlier.run_id, of_type=DagsterEventType.RUN_SUCCESS)
        stored = inst.all_logs(run.run_id)
    # and what it stored is read back by Dagster's own storage (the UI, another process)
    (home / "dagster.yaml").write_text(PREVIOUS_INSTANCE_CONFIG, encoding="utf-8")
    with DagsterInstance.from_config(str(home)) as plain:
        assert [e.dagster_event_type for e in plain.all_logs(run.run_id)] == [
            e.dagster_event_type for e in stored
        ]
    edited = PREVIOUS_INSTANCE_CONFIG + "# mine\n"
    (home / "dagster.yaml").write_text(edited, encoding="utf-8")
    ensure_instance_config(home)
    assert (home / "dagster.yaml").read_text() == edited  # edited by hand: never rewritten


def test_status_shows_publication_and_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from barometre.common.settings import get_settings
    from barometre.publish.publication import publish
    from barometre.serve.cli.instance import ensure_instance_config
    from barometre.serve.cli.status import published_status

    monkeypatch.setenv("BAROMETRE_PUBLISHED_DIR", str(tmp_path / "published"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    text = published_status(get_settings())
    assert "nothing yet" in text and "none recorded" in text

    version = publish(make_working(tmp_path / "w.duckdb"), tmp_path / "published")
    ensure_instance_config(tmp_path / "dagster")
    with DagsterInstance.from_config(str(tmp_path / "dagster")) as inst:
        _finished_run(inst, "ingest_edition")
    text = published_status(get_settings())
    assert version.version in text and "mart_theme_maturity" in text
    assert "ingest_edition [2021]" in text and "SUCCESS" in text
    assert "transform: no run yet" in text


def test_run_summary_lists_failed_non_blocking_checks() -> None:
    from dagster import (
        AssetCheckResult,
        AssetCheckSeverity,
        AssetCheckSpec,
        DagsterInstance,
        MaterializeResult,
        asset,
        materialize,
    )

    from barometre.serve.cli.status import warning_lines

    @asset(
        check_specs=[
            AssetCheckSpec("drift", asset="thing"),
            AssetCheckSpec("fine", asset="thing"),
        ]
    )
    def thing():
        yield MaterializeResult()
        yield AssetCheckResult(check_name="drift", passed=False, severity=AssetCheckSeverity.WARN)
        yield AssetCheckResult(check_name="fine", passed=True)

    with DagsterInstance.ephemeral() as instance:
        result = materialize([thing], instance=instance)
        assert warning_lines(instance, [result.run_id]) == ["thing: drift"]
        assert warning_lines(instance, [result.run_id, result.run_id], most=1) == [
            "thing: drift",
            "… and 1 more (see the Dagster UI)",
        ]


def test_event_batches_are_stored_together_and_read_back_as_events_stored_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With DAGSTER_EVENT_BATCH_SIZE (set by `barometre run`/`ui`) a run's planned events
    # reach store_event_batch together: one transaction per file, the same rows as
    # one by one; a batch that fails is rolled back and Dagster stores it one by one.
    from dagster import AssetCheckKey, AssetCheckResult, asset_check
    from dagster import asset as dagster_asset
    from dagster._core.storage.asset_check_execution_record import (
        AssetCheckExecutionRecordStatus,
    )
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    from barometre.instance_storage import KeptOpenSqliteEventLogStorage
    from barometre.serve.cli.instance import ensure_instance_config

    @dagster_asset
    def numbers():
        return 1

    @asset_check(asset=numbers)
    def positive():
        return AssetCheckResult(passed=True)

    @asset_check(asset=numbers)
    def small():
        return AssetCheckResult(passed=False)

    batches: list[int] = []
    stored_one_by_one = SqliteEventLogStorage.store_event
    store_batch = KeptOpenSqliteEventLogStorage.store_event_batch

    def spy(self, events) -> None:
        batches.append(len(events))
        store_batch(self, events)

    monkeypatch.setattr(KeptOpenSqliteEventLogStorage, "store_event_batch", spy)

    def run(home: Path) -> tuple[list, dict]:
        ensure_instance_config(home)
        with DagsterInstance.from_config(str(home)) as inst:
            result = materialize([numbers, positive, small], instance=inst)
            types = [e.dagster_event_type for e in inst.all_logs(result.run_id)]
            checks = {
                name: [
                    r.status
                    for r in inst.event_log_storage.get_asset_check_execution_history(
                        AssetCheckKey(AssetKey("numbers"), name), limit=5
                    )
                ]
                for name in ("positive", "small")
            }
        return types, checks

    one_by_one = run(tmp_path / "single")
    assert not batches
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    batched = run(tmp_path / "batched")
    assert batches == [3]  # one planned materialization, two planned checks
    assert batched == one_by_one
    assert batched[1] == {
        "positive": [AssetCheckExecutionRecordStatus.SUCCEEDED],
        "small": [AssetCheckExecutionRecordStatus.FAILED],
    }

    failed_once: list[bool] = []

    def fail_a_planned_check_once(self, event) -> None:
        planned = event.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
        if planned and getattr(self._batch, "connections", None) and not failed_once:
            failed_once.append(True)
            raise RuntimeError("disk full")
        stored_one_by_one(self, event)

    monkeypatch.setattr(SqliteEventLogStorage, "store_event", fail_a_planned_check_once)
    assert run(tmp_path / "rolled_back") == one_by_one  # nothing twice, nothing lost
    assert failed_once


def test_the_event_log_asks_for_its_schema_once_not_per_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dagster asks whether the asset-check table exists before every check event; the
    # kept-open storage remembers a table found (never one missing) instead of opening a
    # new SQLite engine each time (docs/performance.md, Session 6: P1).
    from dagster import AssetCheckKey, AssetCheckResult, asset_check
    from dagster import asset as dagster_asset
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    from barometre.serve.cli.instance import ensure_instance_config

    @dagster_asset
    def numbers():
        return 1

    checks = [
        asset_check(asset=numbers, name=f"check_{i}")(lambda: AssetCheckResult(passed=True))
        for i in range(5)
    ]
    asked: list[str] = []
    has_table = SqliteEventLogStorage.has_table

    def spy(self, table_name: str) -> bool:
        asked.append(table_name)
        return has_table(self, table_name)

    monkeypatch.setattr(SqliteEventLogStorage, "has_table", spy)
    home = tmp_path / "dagster"
    ensure_instance_config(home)
    with DagsterInstance.from_config(str(home)) as inst:
        materialize([numbers, *checks], instance=inst)
        assert asked.count("asset_check_executions") == 1  # 10 check events stored
        history = inst.event_log_storage.get_asset_check_execution_history(
            AssetCheckKey(AssetKey("numbers"), "check_3"), limit=5
        )
        assert len(history) == 1
        assert not inst.event_log_storage.has_table("no_such_table")
        assert not inst.event_log_storage.has_table("no_such_table")
        assert asked.count("no_such_table") == 2  # a missing table is asked again
