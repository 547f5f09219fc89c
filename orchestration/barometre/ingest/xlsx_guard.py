"""Guard an XLSX before any reader touches it, and count its rows independently.

An XLSX is a zip of XML parts: a hostile one can declare a huge sheet, inflate to
gigabytes, or carry a DTD with entity expansion. Everything here is checked from the
zip's central directory (before inflating), then by one streaming pass over the
sheet's XML, which stops at the first limit passed: `scan_sheet` inflates the sheet for
it, or the streaming reader feeds it the chunks it inflates (`SheetGuard`), each chunk
before any of its rows is read. That pass counts the sheet's
non-empty rows with its own byte-level scan, independent of the reader, so that a
reader that skips rows (a stale `<dimension>`, a bug) shows as a mismatch.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from barometre.ingest.errors import IngestError
from barometre.ingest.limits import (
    MAX_COLUMNS,
    MAX_LINE_BYTES,
    MAX_ROWS,
    XLSX_MAX_CELLS,
    XLSX_MAX_COMPRESSION_RATIO,
    XLSX_MAX_MEMBERS,
    XLSX_MAX_SHARED_STRINGS_BYTES,
    XLSX_MAX_UNCOMPRESSED_BYTES,
    Limit,
)

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_CHUNK = 1 << 20
_RATIO_FLOOR = 1 << 20  # a part (or workbook) smaller than this is not held to the ratio

_NOT_A_WORKBOOK = "open it in a spreadsheet tool and save it as .xlsx"
# Byte patterns of the row scan. A sheet may prefix its elements (`<x:row>`): the
# prefix of the root element is used for every tag of the sheet.
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
_P = rb"(?:[A-Za-z_][\w.-]*:)?"
_ROW_START = re.compile(rb"<" + _P + rb"row[\s>/]")
_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"'](\d+)")
_CELL_COLUMN = re.compile(rb"\sr\s*=\s*[\"']([A-Z]{1,4})\d")
_DIMENSION = re.compile(rb"<" + _P + rb"dimension\s+ref\s*=\s*[\"']([A-Z0-9:$]+)[\"']")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)")


@dataclass(frozen=True)
class SheetScan:
    """What the guard learnt of the sheet: where it is, its size, its independent row count."""

    name: str
    part: str
    rows_counted: int
    """non-empty rows after the header block"""
    max_row: int
    max_column: int
    has_formulas: bool
    """a cell holds a formula or an error value (`#N/A`)"""
    shared_strings: str | None = None
    """the workbook's shared strings part, if any"""
    styles: str | None = None
    """the workbook's styles part, if any"""


def column_number(letters: bytes | str) -> int:
    """`A` → 1, `XFD` → 16384."""
    number = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        number = number * 26 + ord(ch) - 64
    return number


def _check(limit: Limit, number: int, what: str, **where: Any) -> None:
    """Refuse when `number` passes `limit`, saying what was measured."""
    if number > limit.value():
        raise limit.refusal(f"{number} ({what})", **where)


def _refuse_unreadable(path: Path, what: str) -> IngestError:
    return IngestError(
        f"the file is not a readable XLSX workbook ({what})", file=path, hint=_NOT_A_WORKBOOK
    )


def _check_archive(path: Path, book: zipfile.ZipFile) -> None:
    """Limits read from the central directory: nothing has been inflated yet."""
    members = book.infolist()
    XLSX_MAX_MEMBERS.check(len(members), file=path)
    total = sum(m.file_size for m in members)
    XLSX_MAX_UNCOMPRESSED_BYTES.check(total, file=path)
    ratio_limit = XLSX_MAX_COMPRESSION_RATIO.value()
    packed = max(1, sum(m.compress_size for m in members))
    whole = [(total / packed, "the workbook")] if total > _RATIO_FLOOR else []
    worst = [
        (m.file_size / max(1, m.compress_size), m.filename)
        for m in members
        if m.file_size > _RATIO_FLOOR
    ]
    for ratio, name in sorted([*whole, *worst], reverse=True)[:1]:
        if ratio > ratio_limit:
            raise XLSX_MAX_COMPRESSION_RATIO.refusal(f"{ratio:.0f} ({name})", file=path)


def _read_small_xml(path: Path, book: zipfile.ZipFile, name: str) -> Element:
    """Parse a small part (workbook, relationships) with defusedxml: no DTD, no entities."""
    try:
        return SafeET.fromstring(book.read(name), forbid_dtd=True)
    except KeyError:
        raise _refuse_unreadable(path, f"part {name} is missing") from None
    except DefusedXmlException as exc:
        raise IngestError(
            f"refused: part {name} of the workbook declares a DTD or entities "
            f"({exc.__class__.__name__}), which a survey export never does",
            file=path,
            hint="open it in a spreadsheet tool and save it as .xlsx again",
        ) from None
    except SafeET.ParseError as exc:
        raise _refuse_unreadable(path, f"part {name}: {exc}") from None


def _relationships(path: Path, book: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Id → (type, target part) of `part`'s relationships."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", name + ".rels")
    root = _read_small_xml(path, book, rels_name)
    out = {}
    for rel in root.iter(f"{_REL}Relationship"):
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        out[rel.get("Id", "")] = (rel.get("Type", ""), posixpath.normpath(target))
    return out


def _locate_sheet(
    path: Path, book: zipfile.ZipFile, sheet: str | None
) -> tuple[str, str, str | None, str | None]:
    """(sheet name, sheet part, shared strings part, styles part) of the wanted sheet
    (else the first)."""
    office = [
        t for kind, t in _relationships(path, book, "").values() if kind.endswith("/officeDocument")
    ]
    workbook = office[0] if office else "xl/workbook.xml"
    root = _read_small_xml(path, book, workbook)
    rels = _relationships(path, book, workbook)
    sheets = [(s.get("name", ""), s.get(f"{_DOC_REL}id", "")) for s in root.iter(f"{_MAIN}sheet")]
    if not sheets:
        raise _refuse_unreadable(path, "no sheet")
    chosen = [s for s in sheets if s[0] == sheet] if sheet else sheets[:1]
    if not chosen:
        raise IngestError(
            f"no sheet named {sheet!r}",
            file=path,
            hint=f"sheets are {[s[0] for s in sheets]}; fix `sheet:`",
        )
    name, rel_id = chosen[0]
    if rel_id not in rels or rels[rel_id][1] not in book.NameToInfo:
        raise _refuse_unreadable(path, f"the part of sheet {name!r} is missing")
    shared = [t for kind, t in rels.values() if kind.endswith("/sharedStrings")]
    styles = [t for kind, t in rels.values() if kind.endswith("/styles")]
    return name, rels[rel_id][1], shared[0] if shared else None, styles[0] if styles else None


def _refuse_dtd(path: Path, part: str) -> IngestError:
    return IngestError(
        f"refused: part {part} of the workbook declares a DTD or entities, which a survey "
        "export never does (entity expansion can exhaust memory)",
        file=path,
        hint="open it in a spreadsheet tool and save it as .xlsx again",
    )


def _scan_for_dtd(path: Path, book: zipfile.ZipFile, part: str) -> None:
    """Refuse a part declaring a DTD or entities; streamed, so memory stays flat."""
    tail = b""
    with book.open(part) as stream:
        while chunk := stream.read(_CHUNK):
            if _DTD.search(tail + chunk):
                raise _refuse_dtd(path, part)
            tail = chunk[-16:]


def _check_dimension(path: Path, head: bytes) -> None:
    """The declared `<dimension ref=…>` within the limits (it is never trusted for reading)."""
    found = _DIMENSION.search(head)
    if not found:
        return
    ref = found.group(1).decode().replace("$", "")
    last = ref.split(":")[-1]
    letters = "".join(ch for ch in last if ch.isalpha())
    digits = "".join(ch for ch in last if ch.isdigit())
    where = f"declared dimension {ref}"
    if letters:
        _check(MAX_COLUMNS, column_number(letters), where, file=path)
    if digits:
        _check(MAX_ROWS, int(digits), where, file=path)


@dataclass(frozen=True)
class SheetParts:
    """Where the wanted sheet is: its name, its part, and the parts a reader needs beside it."""

    name: str
    part: str
    shared_strings: str | None
    styles: str | None


def check_workbook(path: Path, sheet: str | None) -> SheetParts:
    """Every check but the sheet's own pass: the central directory's limits, the sheet
    located, the shared strings' size, no DTD in the other parts (nothing of the sheet
    inflated yet). The sheet's pass follows, by `scan_sheet` or fed to a `SheetGuard`
    as the reader inflates it."""
    with _open(path) as book, _unreadable_as_refusal(path):
        _check_archive(path, book)
        name, part, shared, styles = _locate_sheet(path, book, sheet)
        if shared and shared in book.NameToInfo:
            XLSX_MAX_SHARED_STRINGS_BYTES.check(book.getinfo(shared).file_size, file=path)
        for member in book.infolist():  # the parts a reader parses besides the sheet
            name_ = member.filename
            if name_.endswith((".xml", ".rels")) and not name_.startswith("xl/worksheets/"):
                _scan_for_dtd(path, book, name_)
        return SheetParts(name, part, shared, styles)


def scan_sheet(path: Path, sheet: str | None, header_rows: int) -> SheetScan:
    """Check the workbook against every limit and count the sheet's non-empty data rows."""
    parts = check_workbook(path, sheet)
    guard = SheetGuard(path, parts, header_rows)
    with _open(path) as book, _unreadable_as_refusal(path), book.open(parts.part) as stream:
        while chunk := stream.read(_CHUNK):
            guard.feed(chunk)
        guard.feed(b"")
    return guard.scan()


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _refuse_unreadable(path, exc.__class__.__name__) from None


@contextmanager
def _unreadable_as_refusal(path: Path) -> Iterator[None]:
    try:
        yield
    except (
        UNREADABLE
    ) as exc:  # a CRC error, a truncated or corrupt part, an unsupported compression
        raise _refuse_unreadable(path, exc.__class__.__name__) from None


UNREADABLE = (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError)
"""What reading a broken zip raises: the file is refused as unreadable."""


class _RowCounter:
    """Count a sheet's rows from its XML bytes, fed in blocks of whole rows."""

    def __init__(self, path: Path, prefix: bytes, header_rows: int, formulas: bool) -> None:
        self.path, self.header_rows = path, header_rows
        self.row_tag = b"<" + prefix + b"row"
        self.cell_tag = b"<" + prefix + b"c"
        p = re.escape(prefix)
        # a value, inline text or formula with content: the row holds data
        self.value = re.compile(rb"<" + p + rb"(?:v|t|f)(?:\s[^>]*)?>[^<]")
        # a formula, or an error value (`#N/A`): cells only openpyxl gives as written
        self.formula = re.compile(rb"<" + p + rb"f[\s>/]|<" + p + rb"c\s[^>]*\bt=[\"']e[\"']")
        self.formula_hints = (b"<" + prefix + b"f", b't="e"', b"t='e'")
        self.row_limit = MAX_ROWS.value() + header_rows
        self.cell_limit = XLSX_MAX_CELLS.value()
        self.counted = self.max_row = self.max_column = 0
        self.formulas = False
        self.find_formulas = formulas

    def feed(self, block: bytes) -> None:
        """`block` holds whole rows; what precedes its first row start is no row."""
        if self.find_formulas and not self.formulas and any(m in block for m in self.formula_hints):
            self.formulas = bool(self.formula.search(block))  # literal first: cheap
        segments = block.split(self.row_tag)
        for segment in segments[1:]:
            if segment[:1] not in (b" ", b">", b"/", b"\t", b"\n", b"\r"):
                continue  # `<rowBreaks>` and the like: not a row
            self._row(segment)

    def _row(self, segment: bytes) -> None:
        tag_end = segment.find(b">")
        number = _ROW_NUMBER.search(segment, 0, tag_end)
        self.max_row = int(number.group(1)) if number else self.max_row + 1
        if self.max_row > self.row_limit:
            raise MAX_ROWS.refusal(f"row {self.max_row}", file=self.path, row=self.max_row)
        last = max(segment.rfind(self.cell_tag + b" "), segment.rfind(self.cell_tag + b">"))
        if last < 0:
            return  # no cell
        column = _CELL_COLUMN.search(segment, last, segment.find(b">", last))
        width = column_number(column.group(1)) if column else segment.count(self.cell_tag)
        if width > self.max_column:
            self.max_column = width
            _check(MAX_COLUMNS, width, "columns read", file=self.path, row=self.max_row)
        if self.max_row * self.max_column > self.cell_limit:
            raise XLSX_MAX_CELLS.refusal(
                f"{self.max_row} rows × {self.max_column} columns",
                file=self.path,
                row=self.max_row,
            )
        if self.max_row > self.header_rows and self.value.search(segment, tag_end):
            self.counted += 1


class SheetGuard:
    """The sheet's pass, fed the sheet's XML as it is inflated (by `scan_sheet`, or by the
    reader reading the same bytes: one inflate): refuses a DTD or entity, checks the
    declared dimension, a row's length, and counts the rows, the widest row and rows ×
    columns against the limits, stopping at the first limit passed. `refused` is set
    before a refusal is raised. `formulas`: also look for formulas and error values (the
    streaming reader, fed the same bytes, finds them itself in the cells it reads: a
    third of this pass's time is saved)."""

    def __init__(
        self, path: Path, parts: SheetParts, header_rows: int, formulas: bool = True
    ) -> None:
        self.path, self.parts, self.header_rows = path, parts, header_rows
        self.find_formulas = formulas
        self.line_limit = MAX_LINE_BYTES.value()
        self.counter: _RowCounter | None = None
        self.buffer = b""
        self.refused = False

    def feed(self, chunk: bytes) -> None:
        """The next bytes of the sheet's XML; b"" at its end."""
        try:
            self._feed(chunk)
        except IngestError:
            self.refused = True
            raise

    def _feed(self, chunk: bytes) -> None:
        path, part = self.path, self.parts.part
        # The DTD pattern may straddle two chunks: search the tail kept with the new bytes.
        searched = self.buffer[-16:] + chunk if self.counter is not None else self.buffer + chunk
        self.buffer += chunk
        if _DTD.search(searched):
            raise _refuse_dtd(path, part)
        if self.counter is None:
            first_row = _ROW_START.search(self.buffer)
            if not (first_row or not chunk):
                if len(self.buffer) > self.line_limit:
                    raise MAX_LINE_BYTES.refusal(
                        f"no sheet row within the first {len(self.buffer)} bytes of XML", file=path
                    )
                return
            _check_dimension(path, self.buffer[: first_row.start() if first_row else None])
            root = _ROOT.search(self.buffer)
            prefix = (root.group(1) or b"") if root else b""
            self.counter = _RowCounter(path, prefix, self.header_rows, self.find_formulas)
        # Rows end where the next begins: feed up to the last row start, keep the rest.
        counter = self.counter
        cut = len(self.buffer) if not chunk else self.buffer.rfind(counter.row_tag)
        if cut > 0:
            counter.feed(self.buffer[:cut])
            self.buffer = self.buffer[cut:]
        if len(self.buffer) > self.line_limit:  # what is left is (the start of) one row
            raise MAX_LINE_BYTES.refusal(
                f"a sheet row of more than {len(self.buffer)} bytes of XML",
                file=path,
                row=counter.max_row + 1,
            )

    @property
    def formulas(self) -> bool:
        """Whether a formula or an error value was seen so far."""
        return self.counter is not None and self.counter.formulas

    def scan(self) -> SheetScan:
        """What the pass learnt (after the last bytes were fed)."""
        c = self.counter
        assert c is not None  # fed to the end, the first-row check ran
        p = self.parts
        return SheetScan(
            p.name,
            p.part,
            c.counted,
            c.max_row,
            c.max_column,
            c.formulas,
            shared_strings=p.shared_strings,
            styles=p.styles,
        )
