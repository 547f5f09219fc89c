"""Writers that reproduce the byte layout of the two survey tools' exports.

LimeSurvey: UTF-8 with BOM, ';' separator, every field quoted, CRLF line ends.
SurveyMonkey: an XLSX with two header rows. The XLSX is a zip whose entries carry
timestamps and whose core properties carry a modification date; both are pinned so
that a fixed seed yields byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

FIXED_DOC_TIME = dt.datetime(2021, 1, 31, 12, 0, 0)
_ZIP_TIME = (2021, 1, 31, 12, 0, 0)


def write_limesurvey_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Write a LimeSurvey-style CSV export."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


class _FixedTimeZip(zipfile.ZipFile):
    """ZipFile whose entries all get one fixed timestamp (openpyxl uses writestr and write)."""

    def writestr(self, zinfo_or_arcname: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(zinfo_or_arcname, str):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        """Worksheets arrive as temporary files: store their bytes, not their mtime."""
        with open(filename, "rb") as fh:
            self.writestr(str(arcname or filename), fh.read())


def write_surveymonkey_xlsx(
    path: Path,
    row1: Sequence[str],
    row2: Sequence[str],
    rows: Iterable[Sequence[str | int | None]],
    sheet_title: str = "Sheet",
    write_only: bool = False,
) -> None:
    """Write a SurveyMonkey-style XLSX export (two header rows, data from row 3).

    write_only streams rows (benchmark volumes); empty strings become empty cells.
    """
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet(sheet_title) if write_only else wb.active
    ws.title = sheet_title
    ws.append(list(row1))
    ws.append([v if v else None for v in row2])
    for row in rows:
        ws.append([None if v == "" else v for v in row])
    wb.properties.creator = "SurveyMonkey"
    save_workbook(wb, path)


def save_workbook(wb: Workbook, path: Path) -> None:
    """Save `wb` byte-identically on every run (fixed document and zip entry times)."""
    wb.properties.created = FIXED_DOC_TIME
    wb.properties.modified = FIXED_DOC_TIME
    buf = io.BytesIO()
    archive = _FixedTimeZip(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _sq(value: str) -> str:
    """A YAML single-quoted scalar (no escapes: regexes stay readable)."""
    return "'" + value.replace("'", "''") + "'"


def _list(key: str, items: Sequence[str], indent: str = "") -> list[str]:
    if not items:
        return [f"{indent}{key}: []"]
    return [f"{indent}{key}:"] + [f"{indent}  - {_q(i)}" for i in items]


def manifest_text(
    *,
    edition: str,
    layout: str,
    files: Sequence[str],
    fmt: str,
    header_rows: int,
    timestamp_format: str,
    respondent: dict[str, str],
    metadata_columns: Sequence[str],
    personal_columns: Sequence[str],
    answers: dict[str, Any],
    questions: dict[str, str],
    duplicates: str = "latest_complete",
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    comment: str = "",
) -> str:
    """The manifest.yml of an edition folder, in the order of docs/adding-an-edition.md."""
    lines: list[str] = []
    if comment:
        lines += [f"# {c}" if c else "#" for c in comment.splitlines()]
    lines += [f"edition: {_q(edition)}", f"layout: {layout}"]
    lines += _list("files", files)
    lines.append(f"format: {fmt}")
    if fmt == "csv":
        lines += [f"encoding: {encoding}", f"delimiter: {_q(delimiter or ',')}"]
    lines.append(f"header_rows: {header_rows}")
    if fmt == "xlsx":
        lines.append(f"sheet: {_q(sheet) if sheet else 'null'}")
    lines.append(f"timestamp_format: {_q(timestamp_format)}")
    lines += ["", "respondent:"]
    lines += [f"  {k}: {_q(v)}" for k, v in respondent.items()]
    lines += _list("metadata_columns", metadata_columns)
    lines += _list("personal_columns", personal_columns)
    lines += ["", "answers:", f"  encoding: {answers['encoding']}"]
    if answers["encoding"] == "codes":
        codes = ", ".join(f"{k}: {v}" for k, v in answers["codes"].items())
        lines.append(f"  codes: {{{codes}}}")
    lines.append("  not_concerned: [" + ", ".join(_q(t) for t in answers["not_concerned"]) + "]")
    lines.append("  no_answer: [" + ", ".join(_q(t) for t in answers["no_answer"]) + "]")
    lines += ["", "questions:", f"  by: {questions['by']}"]
    if "pattern" in questions:
        lines.append(f"  pattern: {_sq(questions['pattern'])}")
    lines += ["", f"duplicates: {duplicates}", ""]
    return "\n".join(lines)


LIMESURVEY_COLUMNS = (
    "id",
    "submitdate",
    "lastpage",
    "startlanguage",
    "startdate",
    "datestamp",
    "ipaddr",
    "token",
    "Collectivité",
    "Type de collectivité",
    "Courriel du contact",
)
"""The columns before the questions in the LimeSurvey exports this package writes."""

SURVEYMONKEY_COLUMNS = (
    "Respondent ID",
    "Collector ID",
    "Start Date",
    "End Date",
    "IP Address",
    "Email Address",
    "First Name",
    "Last Name",
    "Custom Data 1",
)
"""The columns before the questions in the SurveyMonkey exports this package writes."""

LIMESURVEY_PATTERN = r"^(?P<theme>T\d{2})\[SQ(?P<order>\d{3})\]$"


def limesurvey_manifest(
    *,
    edition: str,
    files: Sequence[str],
    timestamp_format: str,
    codes: dict[str, int],
    comment: str,
) -> str:
    """manifest.yml of a LimeSurvey CSV export as this package writes it (sample, benchmark)."""
    return manifest_text(
        comment=comment,
        edition=edition,
        layout="limesurvey_csv",
        files=files,
        fmt="csv",
        encoding="utf-8-sig",
        delimiter=";",
        header_rows=1,
        timestamp_format=timestamp_format,
        respondent={
            "response_id": "id",
            "collectivity": "Collectivité",
            "type": "Type de collectivité",
            "started_at": "startdate",
            "submitted_at": "submitdate",
        },
        metadata_columns=["lastpage", "startlanguage", "datestamp"],
        personal_columns=["ipaddr", "token", "Courriel du contact"],
        answers={"encoding": "codes", "codes": codes, "not_concerned": ["NC"], "no_answer": [""]},
        questions={"by": "code", "pattern": LIMESURVEY_PATTERN},
    )


def surveymonkey_manifest(
    *, edition: str, files: Sequence[str], timestamp_format: str, not_concerned: str, comment: str
) -> str:
    """manifest.yml of a SurveyMonkey XLSX export as this package writes it."""
    return manifest_text(
        comment=comment,
        edition=edition,
        layout="surveymonkey_xlsx",
        files=files,
        fmt="xlsx",
        header_rows=2,
        timestamp_format=timestamp_format,
        respondent={
            "response_id": "Respondent ID",
            "collectivity": "Custom Data 1",
            "started_at": "Start Date",
            "submitted_at": "End Date",
        },
        metadata_columns=["Collector ID"],
        personal_columns=["IP Address", "Email Address", "First Name", "Last Name"],
        answers={"encoding": "labels", "not_concerned": [not_concerned], "no_answer": [""]},
        questions={"by": "wording"},
    )
