"""The seed-only subgraph and its key (barometre.transform.unchanged_seeds): what is in it,
and every change that must build it again. Fast: a tiny project and warehouse; the
Dagster step with real builds is in tests/test_dbt_seeds_kept.py (slow)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import duckdb
import pytest

from barometre.transform import unchanged_seeds as seeds
from barometre.transform.dbt_assets import BUILD_ARGS, dbt_project


def _node(kind: str, name: str, parents: list[str], **extra) -> dict:
    return {
        "resource_type": kind,
        "name": name,
        "fqn": ["p", name],
        "schema": "reference",
        "alias": name,
        "depends_on": {"nodes": parents, "macros": []},
        "checksum": {"name": "sha256", "checksum": name},
        "config": {"severity": "ERROR"} if kind == "test" else {},
        **extra,
    }


def _manifest() -> dict:
    nodes = {
        "seed.p.a": _node("seed", "a", []),
        "seed.p.b": _node("seed", "b", []),
        "model.p.m": _node("model", "m", ["seed.p.a", "seed.p.b"]),
        "model.p.n": _node("model", "n", ["model.p.m", "source.p.raw.x"]),
        "model.p.lone": _node("model", "lone", []),
        "test.p.t1": _node("test", "t1", ["seed.p.a"]),
        "test.p.t2": _node("test", "t2", ["model.p.m"]),
        "test.p.mixed": _node("test", "mixed", ["seed.p.a", "model.p.n"]),
        "unit_test.p.u": _node("unit_test", "u", ["model.p.m"]),
    }
    nodes["seed.p.a"]["depends_on"] = {"macros": []}  # seeds have no `nodes` key
    return {"nodes": nodes, "macros": {"macro.p.test_x": {"macro_sql": "select 1"}}}


def test_the_subgraph_is_the_seeds_and_what_depends_on_them_alone() -> None:
    manifest = _manifest()
    ids = seeds.seed_only_nodes(manifest)
    assert ids == ["model.p.m", "seed.p.a", "seed.p.b", "test.p.t1", "test.p.t2"]
    order = seeds.in_build_order(manifest, ids)
    assert order.index("model.p.m") > max(order.index("seed.p.a"), order.index("seed.p.b"))
    args = seeds.exclude_args(manifest, ids)
    # no indirect selection: `mixed` (a seed and a model outside) must still run
    assert args[:2] == ["--indirect-selection", "empty"]
    assert args[3].split() == [f"fqn:p.{manifest['nodes'][i]['name']}" for i in ids]


def test_the_projects_subgraph_is_computed_from_the_manifest() -> None:
    manifest = json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))
    nodes = manifest["nodes"]
    ids = set(seeds.seed_only_nodes(manifest))
    kinds = [nodes[i]["resource_type"] for i in ids]
    assert kinds.count("seed") == sum(n["resource_type"] == "seed" for n in nodes.values())
    assert {nodes[i]["name"] for i in ids if nodes[i]["resource_type"] == "model"} >= {
        "int_questions__keyed",
        "dim_transverse_themes",
    }
    for uid in ids:  # every node's parents inside: nothing built from a source or a raw table
        assert set(nodes[uid].get("depends_on", {}).get("nodes") or []) <= ids
    for uid, node in nodes.items():  # and every node whose parents are all inside is in it
        parents = set(node.get("depends_on", {}).get("nodes") or [])
        if node["resource_type"] in ("model", "test") and parents and parents <= ids:
            assert uid in ids


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "dbt"
    (root / "seeds").mkdir(parents=True)
    (root / "macros").mkdir()
    (root / "tests" / "generic").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        'name: p\nseed-paths: ["seeds"]\nmacro-paths: ["macros"]\ntest-paths: ["tests"]\n'
        "vars:\n  min_cell: 5\n"
        "seeds:\n  p:\n    +schema: \"{{ env_var('S8_TEST_SCHEMA', 'reference') }}\"\n",
        encoding="utf-8",
    )
    (root / "profiles.yml").write_text("p: {}\n", encoding="utf-8")
    (root / "seeds" / "a.csv").write_text("code,label\n1,one\n", encoding="utf-8")
    (root / "seeds" / "b.csv").write_text("code\n2\n", encoding="utf-8")
    (root / "macros" / "test_x.sql").write_text("{% test x(model) %}select 1{% endtest %}\n")
    return root


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema reference")
        con.execute("create table reference.a as select 1 as code, 'one' as label")
        con.execute("create table reference.b as select 2 as code")
        con.execute("create table reference.m as select 1 as code, 2 as other")
    return path


def _sql(warehouse: Path, sql: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(sql)


def _key(project: Path, warehouse: Path, manifest: dict | None = None, target="duckdb"):
    manifest = manifest or _manifest()
    ids = seeds.seed_only_nodes(manifest)
    return seeds.current_key(manifest, ids, project, warehouse, target, BUILD_ARGS)


def test_the_key_is_stable_while_nothing_changes(project: Path, warehouse: Path) -> None:
    first = _key(project, warehouse)
    assert first is not None and _key(project, warehouse) == first


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda p, w: (p / "seeds" / "a.csv").write_text("code,label\n1,uno\n"), id="seed file"
        ),
        pytest.param(
            lambda p, w: (p / "seeds" / "a.yml").write_text(
                "seeds: [{name: a, config: {delimiter: ';'}}]"
            ),
            id="seed config",
        ),
        pytest.param(
            lambda p, w: (p / "macros" / "test_x.sql").write_text(
                "{% test x(model) %}select 2{% endtest %}"
            ),
            id="generic test macro",
        ),
        pytest.param(
            lambda p, w: (p / "dbt_project.yml").write_text(
                (p / "dbt_project.yml").read_text().replace("min_cell: 5", "min_cell: 6")
            ),
            id="var",
        ),
        pytest.param(
            lambda p, w: _sql(w, "update reference.a set label = 'uno'"),
            id="seed table behind dbt's back",
        ),
        pytest.param(
            lambda p, w: _sql(w, "alter table reference.m add column x int"),
            id="model's columns",
        ),
        pytest.param(
            lambda p, w: _sql(w, "insert into reference.b values (3)"),
            id="a row added",
        ),
    ],
)
def test_every_change_gives_another_key(project: Path, warehouse: Path, change) -> None:
    before = _key(project, warehouse)
    change(project, warehouse)
    after = _key(project, warehouse)
    assert after is not None and after != before


def test_the_manifest_macros_env_and_versions_are_in_the_key(
    project: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _key(project, warehouse)
    manifest = _manifest()
    manifest["macros"]["macro.p.test_x"]["macro_sql"] = "select 2"
    assert _key(project, warehouse, manifest) != before
    manifest = _manifest()
    manifest["nodes"]["test.p.t1"]["config"]["severity"] = "warn"
    assert _key(project, warehouse, manifest) != before
    manifest = _manifest()
    manifest["nodes"]["seed.p.a"]["created_at"] = 1.0  # volatile: re-parsing changes it
    assert _key(project, warehouse, manifest) == before
    monkeypatch.setenv("S8_TEST_SCHEMA", "elsewhere")  # read by dbt_project.yml
    assert _key(project, warehouse) != before
    monkeypatch.delenv("S8_TEST_SCHEMA")
    import importlib.metadata

    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata, "version", lambda p: "0.0" if p == "dbt-core" else real(p)
    )
    assert _key(project, warehouse) != before


def test_no_key_where_the_subgraph_must_be_built(project: Path, warehouse: Path) -> None:
    assert _key(project, warehouse, target="postgres") is None
    assert _key(project, warehouse, target="spark") is None
    assert _key(project, warehouse.with_name("missing.duckdb")) is None
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop table reference.m")  # a fresh or half-built warehouse
    assert _key(project, warehouse) is None


def test_only_a_build_where_every_node_passed_counts() -> None:
    ids = ["seed.p.a", "test.p.t1"]
    ok = {"results": [{"unique_id": "seed.p.a", "status": "success"}]}
    assert not seeds.subgraph_passed(ok, ids)  # t1 did not run
    for status, passed in (("pass", True), ("warn", False), ("fail", False), ("error", False)):
        results = {"results": [*ok["results"], {"unique_id": "test.p.t1", "status": status}]}
        assert seeds.subgraph_passed(results, ids) is passed, status


def test_the_state_is_recorded_atomically_and_forgotten(tmp_path: Path) -> None:
    state = seeds.SeedState.for_warehouse(tmp_path, tmp_path / "w.duckdb")
    assert state.stands("k") is None
    state.record("k", "run-1", 122)
    assert [p.name for p in state.path.parent.iterdir()] == [state.path.name]
    kept = state.stands("k")
    assert kept is not None and (kept.run_id, kept.nodes) == ("run-1", 122)
    assert state.stands("other") is None and state.stands(None) is None
    other = seeds.SeedState.for_warehouse(tmp_path, tmp_path / "other.duckdb")
    assert other.path != state.path  # one record per warehouse path
    state.path.write_text("{not json", encoding="utf-8")
    assert state.stands("k") is None
    state.forget()
    assert not state.path.exists()
    state.forget()  # forgetting twice is fine


def test_recording_forgets_the_records_of_warehouses_unused_for_a_month(tmp_path: Path) -> None:
    """Tests and benchmarks leave one record per warehouse path: those no build wrote for
    30 days go when another is recorded (files that are not records stay)."""
    gone = seeds.SeedState.for_warehouse(tmp_path, tmp_path / "deleted.duckdb")
    recent = seeds.SeedState.for_warehouse(tmp_path, tmp_path / "recent.duckdb")
    gone.record("k", "run-0", 1)
    recent.record("k", "run-0", 1)
    notes = gone.path.with_name("notes.txt")
    notes.write_text("not a record", encoding="utf-8")
    month_ago = time.time() - 31 * 86400
    for old in (gone.path, notes):
        os.utime(old, (month_ago, month_ago))
    state = seeds.SeedState.for_warehouse(tmp_path, tmp_path / "w.duckdb")
    state.record("k", "run-1", 122)
    assert sorted(p.name for p in state.path.parent.iterdir()) == sorted(
        [state.path.name, recent.path.name, "notes.txt"]
    )
