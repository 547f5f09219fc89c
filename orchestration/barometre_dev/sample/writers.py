"""Writers that reproduce the byte layout of the two survey tools' exports.

LimeSurvey: UTF-8 with BOM, ';' separator, every field quoted, CRLF line ends.
SurveyMonkey: an XLSX with two header rows. Their manifests are built as the runtime's
manifest model (barometre.ingest.manifest) and written by it. The XLSX is a zip whose entries carry
timestamps and whose core properties carry a modification date; both are pinned so
that a fixed seed yields byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from barometre.ingest.manifest import Answers, Manifest, Questions, RespondentColumns

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
    assert ws is not None  # a new workbook has its one sheet active
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
    manifest = Manifest(
        edition=edition,
        layout="limesurvey_csv",
        files=list(files),
        format="csv",
        encoding="utf-8-sig",
        delimiter=";",
        header_rows=1,
        timestamp_format=timestamp_format,
        respondent=RespondentColumns(
            response_id="id",
            collectivity="Collectivité",
            type="Type de collectivité",
            started_at="startdate",
            submitted_at="submitdate",
        ),
        metadata_columns=["lastpage", "startlanguage", "datestamp"],
        personal_columns=["ipaddr", "token", "Courriel du contact"],
        answers=Answers(encoding="codes", codes=codes, not_concerned=["NC"], no_answer=[""]),
        questions=Questions(by="code", pattern=LIMESURVEY_PATTERN),
        duplicates="latest_complete",
    )
    return manifest.to_yaml(comment)


def surveymonkey_manifest(
    *, edition: str, files: Sequence[str], timestamp_format: str, not_concerned: str, comment: str
) -> str:
    """manifest.yml of a SurveyMonkey XLSX export as this package writes it."""
    manifest = Manifest(
        edition=edition,
        layout="surveymonkey_xlsx",
        files=list(files),
        format="xlsx",
        header_rows=2,
        sheet=None,
        timestamp_format=timestamp_format,
        respondent=RespondentColumns(
            response_id="Respondent ID",
            collectivity="Custom Data 1",
            started_at="Start Date",
            submitted_at="End Date",
        ),
        metadata_columns=["Collector ID"],
        personal_columns=["IP Address", "Email Address", "First Name", "Last Name"],
        answers=Answers(encoding="labels", not_concerned=[not_concerned], no_answer=[""]),
        questions=Questions(by="wording"),
        duplicates="latest_complete",
    )
    return manifest.to_yaml(comment)
