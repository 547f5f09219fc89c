"""Craft XLSX files at test time: rewrite one part of a real workbook, or build a tiny one."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

SHEET = "xl/worksheets/sheet1.xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>{shared}</Relationships>'
)
_SHARED_REL = (
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/>'
)


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def sheet_xml(rows: list[list[str]], dimension: str | None = None, body: str = "") -> str:
    """A sheet of inline-string cells (`rows`), then `body` appended inside sheetData."""
    out = []
    for r, cells in enumerate(rows, start=1):
        cs = "".join(
            f'<c r="{column_letters(c)}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
            for c, v in enumerate(cells, start=1)
            if v != ""
        )
        out.append(f'<row r="{r}">{cs}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">{dim}'
        f"<sheetData>{''.join(out)}{body}</sheetData></worksheet>"
    )


def shared_strings_xml(strings: list[str]) -> bytes:
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    return f'<sst xmlns="{MAIN_NS}" count="{len(strings)}">{items}</sst>'.encode()


def build_xlsx(
    path: Path,
    sheet: str | bytes,
    extra: dict[str, bytes] | None = None,
    shared: bytes | None = None,
) -> Path:
    """A minimal workbook with one sheet (and `extra` parts, `shared` strings), deflated."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        rels = _WORKBOOK_RELS.format(shared=_SHARED_REL if shared is not None else "")
        book.writestr("xl/_rels/workbook.xml.rels", rels)
        if shared is not None:
            book.writestr("xl/sharedStrings.xml", shared)
        book.writestr(SHEET, sheet)
        for name, data in (extra or {}).items():
            book.writestr(name, data)
    return path


def rewrite_part(path: Path, part: str, edit: Callable[[bytes], bytes]) -> None:
    """Replace one part of the workbook at `path` by `edit(its bytes)`."""
    with zipfile.ZipFile(path) as book:
        parts = {i.filename: book.read(i) for i in book.infolist()}
    parts[part] = edit(parts[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, data in parts.items():
            book.writestr(name, data)


def set_dimension(ref: str) -> Callable[[bytes], bytes]:
    def edit(xml: bytes) -> bytes:
        out, n = re.subn(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>'.encode(), xml)
        assert n == 1, "the sheet declares no dimension"
        return out

    return edit
