"""The seeds, and what is built and tested from them alone, left out of a run's `dbt build`
when nothing they depend on changed (issue 10, P1 warm and P5).

The "seed-only subgraph" of the manifest: the seeds, the models whose parents are all in
it (`int_questions__keyed`, `dim_transverse_themes`) and the tests whose parents are all
in it (computed from `depends_on`, never listed by hand). dbt rebuilt and re-tested it in
every run, whatever changed: ~120 nodes at dbt's per-node floor, plus Dagster storing
their events.

It is left out only when a build in which every node of it succeeded (tests passed, none
warned) recorded a key equal to the key now. The key digests what the subgraph's
outcome depends on, as validate/scope.py does for the GX suites:

- the dbt project as parsed (each node of the subgraph in the manifest: checksum,
  config, SQL, tests' arguments) and as written now: the seed files, the macros and
  generic tests folders (a changed test macro re-runs its tests), dbt_project.yml (vars,
  seed configs), profiles.yml, the files of the subgraph's models and their YAML, and
  the values of the environment variables these files read (`env_var`);
- the dbt invocation (its fixed arguments), dbt-core, the adapter and DuckDB versions,
  the target and the warehouse path;
- the content of the subgraph's relations in the warehouse as it is now, computed in
  DuckDB (columns and types, row count, sum of the rows' hashes): a seed table changed
  behind dbt's back, or a fresh warehouse, builds it again.

The state (one small JSON file per warehouse path, under the dbt target folder, written
atomically) is forgotten before any build that runs the subgraph, and after any failed
build; `--full-refresh` builds everything. DuckDB only: on PostgreSQL and Spark every
build runs the subgraph.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from barometre.common.atomic_file import write_text_atomically
from barometre.common.digest import digest, relation_content
from barometre.transform.partial_parse import forget_unused

SUBGRAPH_TYPES = ("seed", "model", "test")
PASSED = {"success", "pass"}
"""run_results statuses of a node that may be left out next time (not `warn`: a warned
test runs again, so its warning is reported again)."""

VERSIONED = ("dbt-core", "dbt-adapters", "dbt-duckdb", "duckdb")
"""Packages whose version is part of the key (the tool, the adapter, the engine)."""
_ENV_VAR = re.compile(r"env_var\(\s*['\"]([^'\"]+)['\"]")
_VOLATILE = {"created_at"}  # changes on every parse, not with the node


def seed_only_nodes(manifest: Mapping[str, Any]) -> list[str]:
    """unique_ids of the seeds and of the models and tests all of whose parents are in
    the set (sources, snapshots and other models are outside it)."""
    nodes = manifest.get("nodes", {})
    inside: set[str] = set()
    grew = True
    while grew:
        grew = False
        for uid, node in nodes.items():
            kind = node.get("resource_type")
            if uid in inside or kind not in SUBGRAPH_TYPES:
                continue
            parents = (node.get("depends_on") or {}).get("nodes") or []
            if kind == "seed" or (parents and all(p in inside for p in parents)):
                inside.add(uid)
                grew = True
    return sorted(inside)


def in_build_order(manifest: Mapping[str, Any], ids: Iterable[str]) -> list[str]:
    """`ids` with every node after its parents (Dagster wants a multi-asset's outputs
    yielded in that order)."""
    nodes = manifest["nodes"]
    pending, done = sorted(ids), list[str]()
    while pending:
        ready = [
            i
            for i in pending
            if set((nodes[i].get("depends_on") or {}).get("nodes") or []) <= set(done)
        ]
        if not ready:  # a cycle cannot happen in dbt; keep what is left as it is
            return done + pending
        done += ready
        pending = [i for i in pending if i not in ready]
    return done


def exclude_args(manifest: Mapping[str, Any], ids: Iterable[str]) -> list[str]:
    """dbt arguments leaving out exactly `ids`: each by its full fqn, and no indirect
    selection (by default excluding a seed also excludes every test touching it, such
    as a relationships test from a staging model, which must still run)."""
    nodes = manifest["nodes"]
    names = [f"fqn:{'.'.join(nodes[i]['fqn'])}" for i in ids]
    return ["--indirect-selection", "empty", "--exclude", " ".join(names)]


def relations(manifest: Mapping[str, Any], ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """unique_id -> (schema, table) of the subgraph's seeds and models."""
    nodes = manifest["nodes"]
    return {
        i: (str(nodes[i]["schema"]), str(nodes[i].get("alias") or nodes[i]["name"]))
        for i in ids
        if nodes[i]["resource_type"] in ("seed", "model")
    }


def warehouse_contents(warehouse: Path, tables: Mapping[str, tuple[str, str]]) -> dict | None:
    """What each relation holds now, or None when one cannot be read (missing, no
    warehouse, locked): the subgraph is then built."""
    import duckdb

    if not Path(warehouse).is_file():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return {
                uid: relation_content(lambda sql: con.execute(sql).fetchall(), *where)
                for uid, where in sorted(tables.items())
            }
    except Exception:  # any doubt builds the subgraph
        return None


def _read(paths: Iterable[Path]) -> dict[str, bytes | None]:
    content: dict[str, bytes | None] = {}
    for path in sorted(set(paths)):
        try:
            content[str(path)] = path.read_bytes()
        except OSError:
            content[str(path)] = None
    return content


def _project_files(project_dir: Path, manifest: Mapping[str, Any], ids: Sequence[str]) -> set:
    from barometre.transform.dbt_manifest import source_files

    files = set(source_files(project_dir, ("seed-paths", "macro-paths", "test-paths")))
    nodes = manifest["nodes"]
    for uid in ids:  # the models' SQL and YAML (seeds' and tests' folders are whole above)
        for rel in (nodes[uid].get("original_file_path"), nodes[uid].get("patch_path")):
            if rel:
                rel = str(rel).split("://", 1)[-1]
                files.add((project_dir / rel).resolve())
    return files


def current_key(
    manifest: Mapping[str, Any],
    ids: Sequence[str],
    project_dir: Path,
    warehouse: Path,
    target: str,
    build_args: Sequence[str],
) -> str | None:
    """The key of the subgraph now, or None when it must be built (not DuckDB, a relation
    that cannot be read)."""
    from importlib.metadata import version

    if target != "duckdb" or not ids:
        return None
    contents = warehouse_contents(warehouse, relations(manifest, ids))
    if contents is None:
        return None
    nodes = manifest["nodes"]
    files = _read(_project_files(Path(project_dir), manifest, ids))
    texts = [b.decode("utf-8", errors="replace") for b in files.values() if b is not None]
    env_names = {n for t in texts for n in _ENV_VAR.findall(t)}
    env_names |= {n for i in ids for n in _ENV_VAR.findall(str(nodes[i].get("raw_code") or ""))}
    return digest(
        {
            "nodes": {i: {k: v for k, v in nodes[i].items() if k not in _VOLATILE} for i in ids},
            "macros": {k: m.get("macro_sql") for k, m in manifest.get("macros", {}).items()},
            "files": {
                p: hashlib.sha256(b).hexdigest() if b is not None else None
                for p, b in files.items()
            },
            "env": {n: os.environ.get(n) for n in sorted(env_names) if "SECRET" not in n},
            "build_args": list(build_args),
            "versions": {p: version(p) for p in VERSIONED},
            "target": target,
            "warehouse": str(Path(warehouse).resolve()),
            "contents": contents,
        }
    )


def subgraph_passed(run_results: Mapping[str, Any], ids: Iterable[str]) -> bool:
    """Whether every node of the subgraph ran in this build and succeeded (tests passed)."""
    status = {r.get("unique_id"): r.get("status") for r in run_results.get("results", [])}
    return all(status.get(i) in PASSED for i in ids)


@dataclass(frozen=True)
class Kept:
    """The subgraph as recorded by the build that last ran it whole and passed."""

    key: str
    run_id: str
    nodes: int


class SeedState:
    """The recorded key of one warehouse's seed-only subgraph (a JSON file)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_warehouse(cls, project_dir: Path, warehouse: Path) -> SeedState:
        where = hashlib.sha256(str(Path(warehouse).resolve()).encode()).hexdigest()[:16]
        return cls(Path(project_dir) / "target" / "seeds_kept" / f"{where}.json")

    def stands(self, key: str | None) -> Kept | None:
        if key is None:
            return None
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(state, dict) or state.get("key") != key:
            return None
        return Kept(key, str(state.get("run_id")), int(state.get("nodes") or 0))

    def record(self, key: str, run_id: str, nodes: int) -> None:
        state = {"key": key, "run_id": run_id, "nodes": nodes}
        write_text_atomically(self.path, json.dumps(state, sort_keys=True))
        forget_unused(self.path.parent, suffix=self.path.suffix)  # deleted warehouses'

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)
