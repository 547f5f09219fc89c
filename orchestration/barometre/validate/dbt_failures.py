"""dbt test failures told like `barometre validate`: which model or seed, which rule, a few
failing rows (with their line in the seed file) and what to do.

Reads what dbt leaves in a target folder (run_results.json for what failed and the
compiled SQL of each failing test, manifest.json for the test's rule and `meta`), and
runs the compiled SQL, limited to a few rows, on a read-only connection to the
warehouse the tests ran on. What to do comes from the test's `meta.fix` (seeds/_seeds.yml,
models' YAML, a singular test's `config(meta=…)`), else a default per kind of test.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from barometre.ingest.reference import read_seed

MAX_ROWS = 5
"""Failing rows shown per test (the count says how many there are)."""

# What to do, by kind of generic test, when the test carries no meta.fix.
_DEFAULT_FIX = {
    "not_null": "fill in {column} on these rows",
    "unique": "keep one row per {column} value",
    "accepted_values": "use one of the accepted values in {column}",
    "relationships": "add the missing row to {to}, or correct {column}",
    "relationships_composite": "add the missing row to {to}, or correct these rows",
    "unique_combination": "keep one row per combination of these columns",
}


@dataclass
class TestFailure:
    """One failing (or erroring) dbt node."""

    name: str
    status: str
    """fail | error | warn"""
    node: str
    """the model or seed tested (`questions`, `fct_answers`)"""
    node_type: str
    """seed | model | source | …"""
    rule: str
    fix: str
    failures: int | None = None
    message: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    compiled_sql: str = ""


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _short_name(unique_id: str) -> str:
    return unique_id.rsplit(".", 1)[-1] if unique_id else ""


def _rule(node: dict) -> str:
    """The rule a test checks, in words: the generic test with its arguments, or the
    first comment lines of a singular test."""
    meta = node.get("test_metadata") or {}
    if meta:
        kwargs = {k: v for k, v in (meta.get("kwargs") or {}).items() if k not in ("model",) and v}
        shown = ", ".join(f"{k}={_plain(v)}" for k, v in kwargs.items())
        return f"{meta.get('name')}({shown})"
    comments = []
    for line in (node.get("raw_code") or "").splitlines():
        if not line.startswith("--"):
            break
        comments.append(line.lstrip("- ").strip())
    text = " ".join(comments) or node.get("description") or node.get("name", "")
    return f"{node.get('name')}: {text}"


def _plain(value: object) -> str:
    text = str(value)
    match = re.search(r"ref\('([^']+)'\)", text)
    if match:
        return match.group(1)
    text = re.sub(r"\{\{\s*get_where_subquery\((.*)\)\s*\}\}", r"\1", text)
    return text


def _tested_node(node: dict, nodes: dict) -> tuple[str, str]:
    """(name, resource type) of what a test is about."""
    meta = (node.get("config") or {}).get("meta") or node.get("meta") or {}
    if meta.get("seed"):
        return meta["seed"], "seed"
    attached = node.get("attached_node") or ""
    if not attached:
        ref = (meta.get("dagster") or {}).get("ref") or {}
        if ref.get("name"):
            candidates = [
                u
                for u in node.get("depends_on", {}).get("nodes", [])
                if _short_name(u) == ref["name"]
            ]
            attached = candidates[0] if candidates else f"model.x.{ref['name']}"
        else:
            parents = node.get("depends_on", {}).get("nodes", [])
            attached = parents[0] if parents else ""
    parent = nodes.get(attached, {})
    kind = parent.get("resource_type") or attached.split(".", 1)[0]
    return _short_name(attached), kind


def _fix(node: dict, tested: str) -> str:
    meta = (node.get("config") or {}).get("meta") or node.get("meta") or {}
    if meta.get("fix"):
        return " ".join(str(meta["fix"]).split())
    test = node.get("test_metadata") or {}
    kwargs = test.get("kwargs") or {}
    template = _DEFAULT_FIX.get(test.get("name", ""), "")
    if not template:
        return f"correct the rows of {tested} that break this rule"
    return template.format(
        column=kwargs.get("column_name") or "the column",
        to=_plain(kwargs.get("to") or "the referenced table"),
    )


def read_failures(
    target_dir: Path, warehouse: Path | None = None, max_rows: int = MAX_ROWS
) -> list[TestFailure]:
    """Failed or erroring nodes of the dbt invocation whose artefacts are in `target_dir`,
    with up to `max_rows` failing rows each when `warehouse` is given."""
    results = _load(target_dir / "run_results.json").get("results", [])
    nodes = _load(target_dir / "manifest.json").get("nodes", {})
    out: list[TestFailure] = []
    for result in results:
        if result.get("status") not in ("fail", "error", "warn"):
            continue
        unique_id = result.get("unique_id", "")
        node = nodes.get(unique_id, {})
        is_test = unique_id.startswith("test.")
        if is_test:
            tested, kind = _tested_node(node, nodes)
            rule, fix = _rule(node), _fix(node, tested)
        else:
            tested, kind = _short_name(unique_id), unique_id.split(".", 1)[0]
            rule = f"build of {kind} {tested}"
            fix = (
                "fix the value the message names (column types: seeds/_seeds.yml)"
                if kind == "seed"
                else "see the run log for dbt's full output"
            )
        out.append(
            TestFailure(
                name=node.get("name") or _short_name(unique_id),
                status=result["status"],
                node=tested,
                node_type=kind,
                rule=rule,
                fix=fix,
                failures=result.get("failures"),
                message=(result.get("message") or "").strip(),
                compiled_sql=(result.get("compiled_code") or "") if is_test else "",
            )
        )
    if warehouse is not None and any(f.compiled_sql for f in out):
        _fetch_rows(out, warehouse, max_rows)
    return out


def _fetch_rows(failures: list[TestFailure], warehouse: Path, max_rows: int) -> None:
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return  # rows are a courtesy; the rule and the count are still told
    try:
        for failure in failures:
            if not failure.compiled_sql or failure.status == "error":
                continue
            sql = failure.compiled_sql.strip().rstrip(";")
            try:
                cursor = con.execute(f"select * from ({sql}) as failing limit {int(max_rows)}")
                failure.columns = [d[0] for d in cursor.description]
                failure.rows = cursor.fetchall()
            except duckdb.Error:
                continue
    finally:
        con.close()


def failures_of_run(target_root: Path, run_id: str) -> list[Path]:
    """Target folders dagster-dbt wrote for a Dagster run (`<op>-<run_id[:7]>-<uuid>`)."""
    return sorted(
        p for p in target_root.glob(f"*-{run_id[:7]}-*") if (p / "run_results.json").is_file()
    )


def _seed_lines(seed_file: Path, columns: list[str], row: tuple) -> list[int]:
    """Lines of `seed_file` (line 1 is the header) whose values equal the failing row's
    on the columns both have."""
    if not seed_file.is_file():
        return []
    seed = read_seed(seed_file.parent, seed_file.name)
    header = {h.lower(): h for h in seed.header}
    shared = [(i, header[c.lower()]) for i, c in enumerate(columns) if c.lower() in header]
    if not shared:
        return []
    wanted = {h: "" if row[i] is None else str(row[i]) for i, h in shared}
    return [
        line
        for record, line in zip(seed.rows, seed.lines, strict=True)
        if all((record.get(h) or "") == v for h, v in wanted.items())
    ]


def _cell(value: object) -> str:
    text = "(empty)" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def render(failures: list[TestFailure], seeds_dir: Path | None = None) -> str:
    """The failures as the CLI prints them: file or model, rule, rows, what to do."""
    blocks = []
    for f in failures:
        if f.node_type == "seed":
            where = f"seeds/{f.node}.csv"
            seed_file = seeds_dir / f"{f.node}.csv" if seeds_dir else None
        else:
            where = f"{f.node_type} {f.node}"
            seed_file = None
        if f.status == "error":
            head = f"{where}: [{f.name}] could not be built or checked: {f.message}"
        else:
            count = f"{f.failures} failing row(s)" if f.failures is not None else f.message
            kind = " (warning, not blocking)" if f.status == "warn" else ""
            head = f"{where}: [{f.name}] {count}{kind}"
        lines = [head, f"  rule: {f.rule}"]
        for row in f.rows:
            shown = ", ".join(f"{c}={_cell(v)!s}" for c, v in zip(f.columns, row, strict=False))
            found = _seed_lines(seed_file, f.columns, row) if seed_file else []
            at = f"line {', '.join(map(str, found[:5]))}: " if found else ""
            lines.append(f"  - {at}{shown}")
        if f.failures and len(f.rows) < f.failures and f.rows:
            lines.append(f"  … and {f.failures - len(f.rows)} more")
        lines.append(f"  what to do: {f.fix}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)
