"""A short, human summary of what the warehouse holds (read-only connection)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from barometre.common.one_row import one_row


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    (n,) = one_row(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        )
    )
    return bool(n > 0)


def warehouse_summary(warehouse: Path) -> str:
    """Editions loaded with their respondents, answers and quarantined rows."""
    if not warehouse.is_file():
        return "The warehouse is empty: run `barometre run`."
    from barometre.common.writer_lock import read_holder, reading

    busy = (
        f"The working warehouse is being written by {read_holder(warehouse).describe()}; "
        "see the published state below, or try again when it is done."
    )
    with reading(warehouse) as free:
        if not free:
            return busy
        try:
            con = duckdb.connect(str(warehouse), read_only=True)
        except duckdb.IOException:
            return busy
        return _summary(con)


def _summary(con: duckdb.DuckDBPyConnection) -> str:
    try:
        if not _has_table(con, "raw", "responses"):
            return "The warehouse holds no edition yet: run `barometre run`."
        fact = _has_table(con, "core", "fct_answers")
        declared = (
            [r[0] for r in con.execute("SELECT edition_code FROM reference.editions").fetchall()]
            if _has_table(con, "reference", "editions")
            else []
        )
        rows = con.execute(f"""
            SELECT r.edition_code, count(DISTINCT r.respondent_id),
                   {
            "(SELECT count(*) FROM core.fct_answers f WHERE f.edition_code = r.edition_code)"
            if fact
            else "NULL"
        },
                   (SELECT count(DISTINCT source_file || source_row) FROM raw.quarantine q
                    WHERE q.edition_code = r.edition_code)
            FROM raw.responses r GROUP BY r.edition_code ORDER BY r.edition_code
        """).fetchall()
    finally:
        con.close()
    lines = [
        "Editions loaded:",
        f"  {'edition':<10}{'respondents':>12}{'answers':>10}{'quarantined rows':>18}",
    ]
    from barometre.common.settings import get_settings

    settings = get_settings()
    server: dict[str, int] | str = {}
    if not fact and settings.target == "postgres":
        # dbt builds core.fct_answers on the server on this target, not in this file
        from barometre.engines.postgres.counts import answers_by_edition

        server = answers_by_edition(settings.pg_dsn)
    for edition, respondents, answers, quarantined in rows:
        if answers is None and isinstance(server, dict):
            answers = server.get(str(edition))
        shown = "-" if answers is None else answers
        lines.append(f"  {edition:<10}{respondents:>12}{shown:>10}{quarantined:>18}")
    from barometre.ingest.reference_advice import not_loaded_warning

    warning = not_loaded_warning(
        [str(e) for e in declared], [str(r[0]) for r in rows], "hold no loaded response"
    )
    if warning:
        lines.append(warning)
    if isinstance(server, str):
        lines.append(f"(answers are counted on the server, which cannot be read: {server})")
    return "\n".join(lines)


def edition_loads(warehouse: Path, edition: str) -> tuple[tuple[str, str, str], ...] | None:
    """(file, content hash, loaded_at) of the edition's last load per raw.load_log; ()
    when never loaded; None when the warehouse cannot be read (so nobody claims either)."""
    loads = all_edition_loads(warehouse, [edition])
    return None if loads is None else loads[edition]


def all_edition_loads(
    warehouse: Path, editions: Sequence[str]
) -> dict[str, tuple[tuple[str, str, str], ...]] | None:
    """`edition_loads` of each of `editions`, read through one connection (opening the
    warehouse file costs ~30 ms: `barometre run` asks for every edition before loading
    any); None when the warehouse cannot be read."""
    found: dict[str, list[tuple[str, str, str]]] = {e: [] for e in editions}
    if not warehouse.is_file():
        return {e: () for e in editions}
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        if _has_table(con, "raw", "load_log"):
            rows = con.execute(
                """SELECT edition_code, source_file, content_sha256, CAST(loaded_at AS VARCHAR)
                   FROM raw.load_log WHERE list_contains(?, edition_code) ORDER BY ALL""",
                [list(editions)],
            ).fetchall()
            for edition, *load in rows:
                found[edition].append(tuple(load))
    except duckdb.Error:
        return None
    finally:
        con.close()
    return {e: tuple(rows) for e, rows in found.items()}
