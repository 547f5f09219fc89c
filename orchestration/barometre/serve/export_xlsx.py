"""One Excel workbook of the published marts (XlsxWriter), for analysts and partners.

Sheets: "Lisez-moi" (what each sheet is, disclosure control, source and version), one
sheet per mart (its name without the `mart_` prefix: Excel allows 31 characters), then
the reference lookups (`ref_<table>`). Numbers are written as numbers (Excel computes
on them), booleans as Oui/Non, NULL as an empty cell, text as text (never a formula:
XlsxWriter's write_string does not evaluate, so formula injection cannot happen).

The marts are aggregates (hundreds of rows), so the cells are written from Python;
constant_memory keeps the writer's memory flat whatever the size.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from barometre.publish.publication import MARTS_SCHEMA, REFERENCE_SCHEMA

README_SHEET = "Lisez-moi"
SUPPRESSION_FR = (
    "Secret statistique : une cellule construite sur moins de 5 répondants (et, au "
    "besoin, une cellule complémentaire) est masquée. Ses valeurs sont vides et les "
    "colonnes is_suppressed (Oui) et suppression_reason en donnent la raison ; ce n'est "
    "jamais une absence de réponse."
)


def _sheet_name(schema: str, table: str) -> str:
    name = table.removeprefix("mart_") if schema == MARTS_SCHEMA else f"ref_{table}"
    return name[:31]


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def write_workbook(
    con: duckdb.DuckDBPyConnection, marts: list[str], target: Path, version: str | None
) -> None:
    """Write the workbook beside `target`, then rename it over (never half a file)."""
    import xlsxwriter

    references = [
        t
        for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1",
            [REFERENCE_SCHEMA],
        ).fetchall()
    ]
    comments = dict(
        con.execute(
            "SELECT schema_name || '.' || table_name, coalesce(comment, '') FROM duckdb_tables()"
        ).fetchall()
    )
    partial = target.with_name(f".{target.name}.partial")
    workbook = xlsxwriter.Workbook(str(partial), {"constant_memory": True})
    try:
        bold = workbook.add_format({"bold": True})
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        readme = workbook.add_worksheet(README_SHEET)
        readme.set_column(0, 0, 34)
        readme.set_column(1, 1, 110)
        lines: list[tuple[str, str]] = [
            ("Baromètre de la maturité numérique", "Indicateurs publiés (marts)"),
            ("Source", "Fichier publié barometre.duckdb (schémas marts et reference)"),
            ("Version de la publication", version or "inconnue"),
            ("Exporté le", dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")),
            ("Secret statistique", SUPPRESSION_FR),
            ("Valeurs", "Nombres en nombres ; booléens en Oui/Non ; cellule vide = pas de valeur."),
            ("", ""),
            ("Feuille", "Contenu"),
        ]
        lines += [
            (_sheet_name(MARTS_SCHEMA, t), comments.get(f"{MARTS_SCHEMA}.{t}", "").strip())
            for t in marts
        ]
        lines += [
            (
                _sheet_name(REFERENCE_SCHEMA, t),
                "Table de correspondance : " + comments.get(f"{REFERENCE_SCHEMA}.{t}", "").strip(),
            )
            for t in references
        ]
        for row, (key, text) in enumerate(lines):
            readme.write_string(row, 0, key, bold)
            readme.write_string(row, 1, text, wrap)
        for schema, table in [(MARTS_SCHEMA, t) for t in marts] + [
            (REFERENCE_SCHEMA, t) for t in references
        ]:
            sheet = workbook.add_worksheet(_sheet_name(schema, table))
            result = con.execute(f'SELECT * FROM {schema}."{table}" ORDER BY ALL')
            columns = [d[0] for d in result.description]
            for col, name in enumerate(columns):
                sheet.write_string(0, col, name, bold)
            sheet.freeze_panes(1, 0)
            row = 1
            while batch := result.fetchmany(10_000):
                for values in batch:
                    for col, value in enumerate(values):
                        value = _cell(value)
                        if value is None:
                            continue
                        if isinstance(value, str):
                            sheet.write_string(row, col, value)
                        else:
                            sheet.write_number(row, col, value)
                    row += 1
    finally:
        workbook.close()
    os.replace(partial, target)
