"""The Dagster dbt step leaves the seed-only subgraph out of `dbt build` when nothing of it
changed since a build in which all of it passed (barometre.transform.unchanged_seeds),
and builds it again whenever that is not sure. Slow: real dbt builds through Dagster."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import AssetSelection, DagsterInstance, Definitions, define_asset_job

from barometre.common.settings import ENV_WAREHOUSE, get_settings
from barometre.transform.dbt_assets import DBT_OP_NAME, barometre_dbt, dbt_project
from barometre.transform.dbt_resource import BarometreDbtCliResource
from barometre.transform.unchanged_seeds import SeedState, seed_only_nodes
from tests.test_incremental import table_fingerprints

pytestmark = pytest.mark.slow

MANIFEST = json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))
SUBGRAPH = set(seed_only_nodes(MANIFEST))


DEFS = Definitions(
    assets=[barometre_dbt],
    jobs=[
        define_asset_job(  # the dbt step as the `transform` job runs it: every asset and check
            "dbt_only",
            selection=AssetSelection.assets(barometre_dbt) | AssetSelection.checks(barometre_dbt),
        )
    ],
    resources={
        "dbt": BarometreDbtCliResource(
            project_dir=dbt_project, dbt_executable=str(get_settings().dbt_executable)
        )
    },
)


def _build(instance: DagsterInstance, full_refresh: bool = False):
    config = {"ops": {DBT_OP_NAME: {"config": {"full_refresh": full_refresh}}}}
    return DEFS.resolve_job_def("dbt_only").execute_in_process(
        instance=instance, run_config=config, raise_on_error=False
    )


def _ran(run_id: str) -> set[str]:
    """unique_ids of the nodes dbt ran in that Dagster run."""
    [folder] = Path(dbt_project.project_dir, "target").glob(f"{DBT_OP_NAME}-{run_id[:7]}-*")
    results = json.loads((folder / "run_results.json").read_text(encoding="utf-8"))
    return {r["unique_id"] for r in results["results"]}


@pytest.fixture
def warehouse(sample_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "wh" / "w.duckdb"
    copy.parent.mkdir()
    shutil.copy(sample_warehouse, copy)
    monkeypatch.setenv(ENV_WAREHOUSE, str(copy))
    yield copy
    SeedState.for_warehouse(Path(dbt_project.project_dir), copy).forget()


def test_unchanged_seeds_are_left_out_and_the_marts_equal_a_full_build(
    warehouse: Path, tmp_path: Path
) -> None:
    assert len(SUBGRAPH) > 100  # 13 seeds, 2 models, their tests
    with DagsterInstance.ephemeral() as instance:
        first = _build(instance)
        assert first.success
        assert _ran(first.run_id) >= SUBGRAPH
        full = table_fingerprints(warehouse, tmp_path / "first")

        second = _build(instance)
        assert second.success
        ran = _ran(second.run_id)
        assert not ran & SUBGRAPH
        # the tests touching a seed and another model still run (no indirect exclusion)
        mixed = {
            uid
            for uid, node in MANIFEST["nodes"].items()
            if node["resource_type"] == "test"
            and uid not in SUBGRAPH
            and set(node["depends_on"]["nodes"]) & SUBGRAPH
        }
        assert mixed and mixed <= ran
        assert table_fingerprints(warehouse, tmp_path / "second") == full

        # What Dagster shows: the kept assets and checks, each naming the run they stand from.
        seed_key = next(s.key for s in barometre_dbt.specs if s.key.path[0] == "reference")
        [kept] = [
            m
            for m in second.asset_materializations_for_node(DBT_OP_NAME)
            if m.asset_key == seed_key
        ]
        assert kept.metadata["kept_from_run"].value == first.run_id
        kept_checks = [
            e.asset_check_evaluation_data
            for e in second.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
            and "kept_from_run" in e.asset_check_evaluation_data.metadata
        ]
        assert kept_checks and all(c.passed for c in kept_checks)
        logs = [
            e.message
            for e in instance.all_logs(second.run_id)
            if e.message and "dbt seeds unchanged" in e.message
        ]
        assert logs and f"{len(SUBGRAPH)} nodes" in logs[0] and first.run_id in logs[0]

        # --full-refresh builds everything
        refreshed = _build(instance, full_refresh=True)
        assert refreshed.success and _ran(refreshed.run_id) >= SUBGRAPH


def test_a_seed_table_changed_behind_dbts_back_is_built_again(warehouse: Path) -> None:
    with DagsterInstance.ephemeral() as instance:
        assert _build(instance).success
        with duckdb.connect(str(warehouse)) as con:
            con.execute("update reference.themes set label_fr = label_fr || ' (edited)'")
        again = _build(instance)
        assert again.success and _ran(again.run_id) >= SUBGRAPH
        with duckdb.connect(str(warehouse), read_only=True) as con:
            [(edited,)] = con.execute(
                "select count(*) from reference.themes where label_fr like '%(edited)'"
            ).fetchall()
        assert edited == 0  # the seed rebuilt it from its file


def test_a_failed_build_forgets_the_record(warehouse: Path) -> None:
    state = SeedState.for_warehouse(Path(dbt_project.project_dir), warehouse)
    with DagsterInstance.ephemeral() as instance:
        assert _build(instance).success
        assert state.path.is_file()
        # one response twice: the blocking grain test of raw.responses fails the build
        with duckdb.connect(str(warehouse)) as con:
            con.execute("create table wh_backup as select * from raw.responses")
            con.execute("insert into raw.responses select * from raw.responses limit 1")
        failed = _build(instance)
        assert not failed.success
        assert not _ran(failed.run_id) & SUBGRAPH  # left out, but the build failed
        assert not state.path.exists()
        with duckdb.connect(str(warehouse)) as con:
            con.execute("delete from raw.responses")
            con.execute("insert into raw.responses select * from wh_backup")
            con.execute("drop table wh_backup")
        again = _build(instance)
        assert again.success and _ran(again.run_id) >= SUBGRAPH
