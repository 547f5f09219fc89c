"""A short, human summary of what the warehouse holds (read-only connection)."""

from __future__ import annotations

from pathlib import Path

import duckdb


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    (n,) = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchone()
    return n > 0


def warehouse_summary(warehouse: Path) -> str:
    """Editions loaded with their respondents, answers and quarantined rows."""
    if not warehouse.is_file():
        return "The warehouse is empty: run `barometre run`."
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException:
        return (
            "The working warehouse is in use by a run (DuckDB locks it while writing); "
            "see the published state below, or try again when the run ends."
        )
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
    for edition, respondents, answers, quarantined in rows:
        shown = "-" if answers is None else answers
        lines.append(f"  {edition:<10}{respondents:>12}{shown:>10}{quarantined:>18}")
    from barometre.reference_advice import not_loaded_warning

    warning = not_loaded_warning(
        [str(e) for e in declared], [str(r[0]) for r in rows], "hold no loaded response"
    )
    if warning:
        lines.append(warning)
    return "\n".join(lines)
