"""Stream the rows of a guarded XLSX sheet in bounded memory, whatever the sheet's size.

The sheet's XML is inflated 1 MiB at a time and cut where a row starts; each block of
whole rows is read, and its rows yielded, before the next block is inflated. A block
whose rows all have the plain form tools write is read by one regular expression (in
C, no element built); any other is parsed by ElementTree's C parser inside a copy of
the sheet's own root tag, so its namespace prefixes hold. Memory is one block, its
rows and the shared strings table,
which the format makes whole (a cell names a string by its index): its size is bounded
beforehand by BAROMETRE_LIMIT_XLSX_SHARED_STRINGS_BYTES (held as Python strings, about
2–3× that in memory at worst).

Values are the ones python-calamine gave (text as written, numbers as floats, booleans),
rendered by `cell_text` as before: rows read by the regular expression come as text
already (`TextRow`), rows the XML parser read as values the caller renders. A cell
this reader does not interpret exactly (a number formatted as a date or time, an ISO
date cell, an unknown type) raises `NeedsExactReader`; so does a formula or error
value, which the guard detects first. The caller then reads the sheet with openpyxl's
streaming reader instead.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, fromstring

from defusedxml import ElementTree as SafeET

from barometre.ingest.errors import IngestError
from barometre.ingest.limits import MAX_COLUMNS
from barometre.ingest.xlsx_guard import SheetParts, SheetScan, column_number

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_T = f"{_MAIN}t"
_CHUNK = 1 << 20
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
_P = rb"(?:[A-Za-z_][\w.-]*:)?"
_SHEET_DATA_END = re.compile(rb"</" + _P + rb"sheetData\s*>")
# Built-in number formats that show a date, a time or a duration (ECMA-376 18.8.30).
_DATE_FORMAT_IDS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# The plain forms of rows and cells that tools write, read by one regular expression over
# a block of rows (in C) instead of building XML elements; a block with anything else
# (other attributes, single quotes, comments, an unknown entity) goes through the XML
# parser. This decides only which way is faster, never what a cell holds.
_TOKEN = re.compile(
    rb'<c r="([A-Z]{1,3})\d+"([^>/]*)(?:(/)>|>(?:<v(>[^<]*)</v>'
    rb'|<is><t(?: xml:space="preserve")?(>[^<]*)</t></is>)?</c>)'
    rb"|<row([^>]*)>|(</row>)"
)
# A row's attributes as the plain form writes them (checked per row, not in the
# expression run per cell); `/` at the end: an empty row.
_ROW_ATTRIBUTES = re.compile(rb'((?:\s+[\w:]+="[^"<]*")*)\s*(/?)')
# A cell's attributes after `r`, as the plain form writes them (read once per distinct
# attribute text): the style, then or before the type.
_CELL_ATTRIBUTES = re.compile(rb'(?: s="(\d+)")?(?: t="([a-zA-Z]+)")?(?: s="(\d+)")?')
_ROW_NUMBER = re.compile(rb'\sr="(\d+)"')
_ENTITY = re.compile(rb"&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));")
_ENTITIES = {b"amp": "&", b"lt": "<", b"gt": ">", b"quot": '"', b"apos": "'"}


# OOXML's own escape of characters XML cannot hold (`_x000D_` is a carriage return,
# `_x005F_` an underscore), which calamine resolves in every string; not surrogates.
_OOXML = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _ooxml_char(m: re.Match[str]) -> str:
    code = int(m.group(1), 16)
    return m.group(0) if 0xD800 <= code <= 0xDFFF else chr(code)


def _strings(text: str) -> str:
    """A string cell's text with OOXML's `_xHHHH_` escapes resolved."""
    return _OOXML.sub(_ooxml_char, text) if "_x" in text else text


def cell_text(value: object) -> str:
    """A cell as text, as the project has always stored it (numbers as openpyxl gives them)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))  # a whole number: openpyxl reads `<v>1001</v>` as int 1001
    return str(value)  # datetime, date, time, timedelta, bool, int, float: as pandas did


class TextRow(list):
    """A row's cells already rendered as text by `cell_text` (gaps as ""): the plain path's."""


def _inline_text(t: bytes) -> str:
    """An inline string's text from the regular expression's group (`>` then the text)."""
    cell = _unescape(t[1:]) if b"&" in t else t[1:].decode()
    return _strings(cell) if "_x" in cell else cell


class _NotPlain(Exception):
    """A block the regular expressions do not read exactly: parse it as XML."""


def _xml_char(code: int) -> str:
    if code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD:
        return chr(code)
    if 0x10000 <= code <= 0x10FFFF:
        return chr(code)
    raise _NotPlain


def _unescape(text: bytes) -> str:
    """Character data as the XML parser gives it: the five entities and character
    references replaced; anything else is left to the parser."""
    if b"&" not in text:
        return text.decode()

    parts: list[str] = []
    position = 0
    for m in _ENTITY.finditer(text):
        name, decimal, hexa = m.groups()
        entity = _ENTITIES[name] if name else _xml_char(int(decimal or hexa, 10 if decimal else 16))
        parts += [text[position : m.start()].decode(), entity]
        position = m.end()
    parts.append(text[position:].decode())
    if text.count(b"&") != len(parts) // 2:
        raise _NotPlain  # an `&` that is not one of the entities above
    return "".join(parts)


class NeedsExactReader(Exception):
    """A cell this reader does not render exactly: read the sheet with openpyxl instead."""


def _is_date_format(code: str) -> bool:
    """Whether a custom number format may show a date or time (conservative: when in
    doubt, yes, which only sends the sheet to the exact reader)."""
    plain = re.sub(r'"[^"]*"|\\.|_.|\*.|\[(?![hHmMsS]+\])[^\]]*\]', "", code.split(";")[0])
    return bool(re.search(r"[dDmMyYhHsSeE]|\[[hHmMsS]+\]", plain))


def _date_styles(book: zipfile.ZipFile, part: str | None) -> frozenset[int]:
    """Indices of the cell styles (`s=`) whose number format is a date, time or duration."""
    if part is None or part not in book.NameToInfo:
        return frozenset()
    root = SafeET.fromstring(book.read(part), forbid_dtd=True)
    custom = {
        int(f.get("numFmtId", "-1")): f.get("formatCode", "") for f in root.iter(f"{_MAIN}numFmt")
    }
    cell_xfs = root.find(f"{_MAIN}cellXfs")
    styles = set()
    for index, xf in enumerate([] if cell_xfs is None else cell_xfs.findall(f"{_MAIN}xf")):
        number_format = int(xf.get("numFmtId", "0"))
        if number_format in custom:
            if _is_date_format(custom[number_format]):
                styles.add(index)
        elif number_format in _DATE_FORMAT_IDS:
            styles.add(index)
    return frozenset(styles)


def _text_of(item: Element) -> str:
    """Text of a shared string or inline string: `<t>`, or its rich-text runs' `<t>`s,
    without the phonetic guides (`<rPh>`), as calamine reads them."""
    if len(item) == 1 and item[0].tag == _T:  # the usual case: one plain `<t>`
        return _strings(item[0].text or "")
    parts = []
    for child in item:
        if child.tag == f"{_MAIN}t":
            parts.append(child.text or "")
        elif child.tag == f"{_MAIN}r":
            parts.extend(t.text or "" for t in child.iter(f"{_MAIN}t"))
    return _strings("".join(parts))


def _shared_strings(book: zipfile.ZipFile, part: str | None) -> list[str]:
    """The shared strings table, parsed incrementally (its size is bounded by the guard)."""
    if part is None or part not in book.NameToInfo:
        return []
    strings: list[str] = []
    with book.open(part) as stream:
        events = SafeET.iterparse(stream, events=("start", "end"), forbid_dtd=True)
        root = None
        for event, element in events:
            if root is None:
                root = element
            elif event == "end" and element.tag == f"{_MAIN}si":
                strings.append(_text_of(element))
                root.clear()  # keep nothing of what was read
    return strings


class Cells:
    """Turns the `<c>` elements of a row into the values calamine gave."""

    def __init__(self, path: Path, shared: list[str], date_styles: frozenset[int]) -> None:
        self.path, self.shared, self.date_styles = path, shared, date_styles
        self.columns: dict[str, int] = {}
        self.byte_columns: dict[bytes, int] = {}
        self.cell_attributes: dict[bytes, tuple[bytes, str | None]] = {}
        self.column_limit = MAX_COLUMNS.value()
        self.v, self.is_, self.f = f"{_MAIN}v", f"{_MAIN}is", f"{_MAIN}f"

    def column(self, ref: str, row: int) -> int:
        """0-based column of a cell reference (`AB12` → 27)."""
        letters = ref.rstrip("0123456789")
        index = self.columns.get(letters)
        if index is None:
            number = column_number(letters) if letters.isalpha() and letters.isupper() else 0
            if not 1 <= number <= self.column_limit:
                raise IngestError(
                    f"a cell has an unreadable or out-of-range reference {ref[:20]!r}",
                    file=self.path,
                    row=row,
                    hint="open it in a spreadsheet tool and save it as .xlsx again",
                )
            index = self.columns[letters] = number - 1
        return index

    def value(self, kind: str | None, style: str | None, text: str | None) -> object:
        """The value of a cell that is not an inline string, from its `<v>` text."""
        if kind == "s":
            if not text:
                return None
            index = int(text)
            if index < 0:
                raise IndexError(index)
            return self.shared[index]
        if kind is None or kind == "n":
            if not text:
                return None
            if (style is not None and int(style) in self.date_styles) or not _NUMBER.fullmatch(
                text
            ):
                raise NeedsExactReader
            return float(text)
        if kind == "str":
            return None if text is None else _strings(text)
        if kind == "b" and text in ("0", "1"):
            return text == "1"
        raise NeedsExactReader  # `e` (errors), `d` (ISO dates), anything else

    def attributes(self, text: bytes) -> tuple[bytes, str | None]:
        """(type, style) of a cell's attribute text; _NotPlain unless of the plain form."""
        m = _CELL_ATTRIBUTES.fullmatch(text)
        if m is None:
            raise _NotPlain
        kind: bytes = m.group(2) or b""
        style: bytes | None = m.group(1) or m.group(3)  # None when neither is written
        parsed = self.cell_attributes[text] = (kind, None if style is None else style.decode())
        return parsed

    def plain_block(self, block: bytes) -> list[tuple[int | None, list | Element]]:
        """(row number or None, cells) of each row of a block of whole rows of the
        plain form; raise _NotPlain when some markup is not of that form."""
        rows: list[tuple[int | None, list | Element]] = []
        columns, value, shared = self.byte_columns, self.value, self.shared
        known_attributes, attributes = self.cell_attributes, self.attributes
        cells: TextRow | None = None
        at: int | None = None
        # Every `<` of the block must belong to a token read here (text and attribute
        # values cannot hold one): then no element of another form was skipped. A
        # cell's groups `v` and `t` hold the text after `<v` or `<t…` (`>` first), so
        # present-but-empty differs from absent.
        markup = 0
        # Tools repeat answers: each distinct text or value of the block is read once
        # (per block, so bounded by the block).
        texts: dict[bytes, str] = {b"": ""}
        values: dict[bytes, dict[bytes, str]] = {}
        for letters, attribute_text, shut, v, t, row_tag, end in _TOKEN.findall(block):
            if letters:
                if cells is None:
                    raise _NotPlain  # a cell outside a row
                index = columns.get(letters)
                if index is None:
                    index = columns[letters] = self.column(letters.decode(), at or 0)
                kind, style = known_attributes.get(attribute_text) or attributes(attribute_text)
                markup += 6 if t else 4 if v else 1 if shut else 2
                if kind == b"inlineStr":
                    cell = texts.get(t)
                    if cell is None:
                        cell = texts[t] = _inline_text(t)
                elif kind == b"s" and v[1:].isdigit():
                    cell = shared[int(v[1:])]
                else:
                    known = values.get(attribute_text)
                    if known is None:
                        known = values[attribute_text] = {}
                    cell = known.get(v)
                    if cell is None:
                        text = v[1:]
                        cell = known[v] = cell_text(
                            value(kind.decode() or None, style, _unescape(text) if text else None)
                        )
                if index == len(cells):
                    cells.append(cell)
                else:
                    if index > len(cells):
                        cells.extend([""] * (index + 1 - len(cells)))
                    cells[index] = cell
            elif end:
                markup += 1
                if cells is None:
                    raise _NotPlain
                rows.append((at, cells))
                cells = None
            else:
                markup += 1
                row_attributes = _ROW_ATTRIBUTES.fullmatch(row_tag)
                if cells is not None or row_attributes is None:
                    raise _NotPlain  # a row inside a row, or attributes of another form
                number = _ROW_NUMBER.search(row_attributes.group(1))
                at = int(number.group(1)) if number else None
                if row_attributes.group(2):
                    rows.append((at, TextRow()))
                else:
                    cells = TextRow()
        if cells is not None or markup != block.count(b"<") or b"\r" in block:
            raise _NotPlain  # (a carriage return: the parser normalises line ends)
        return rows

    def row(self, element: Element, number: int) -> list:
        """The cells of a parsed `<row>` element."""
        cells: list = []
        columns, v_tag, is_tag = self.columns, self.v, self.is_
        for c in element:
            ref = c.get("r")
            known = None if ref is None else columns.get(ref.rstrip("0123456789"))
            if ref is None:
                index = len(cells)
            elif known is None:
                index = self.column(ref, number)
            else:
                index = known
            if index >= len(cells):
                cells.extend([None] * (index + 1 - len(cells)))
            kind = c.get("t")
            if c.find(self.f) is not None:
                raise NeedsExactReader  # a formula is data: openpyxl gives its text
            if kind == "inlineStr":
                inline = c.find(is_tag)
                cells[index] = "" if inline is None else _text_of(inline)
                continue
            v = c.find(v_tag)
            cells[index] = self.value(kind, c.get("s"), None if v is None else v.text)
        return cells


def sheet_cells(path: Path, book: zipfile.ZipFile, sheet: SheetParts | SheetScan) -> Cells:
    """What turns the sheet's cells into values: its shared strings and date styles."""
    return Cells(
        path, _shared_strings(book, sheet.shared_strings), _date_styles(book, sheet.styles)
    )


def stream_rows(path: Path, scan: SheetScan) -> Iterator[tuple[int, list]]:
    """(sheet row number, cell values) of every `<row>` of the sheet, in file order."""
    with zipfile.ZipFile(path) as book:
        yield from _rows(path, book, scan, sheet_cells(path, book, scan))


@dataclass(frozen=True)
class Framing:
    """The sheet's own root tag around a block, for the XML parser; `plain`: its rows
    are unprefixed (`<row`), the only form the regular expressions read."""

    opening: bytes
    closing: bytes
    plain: bool


def sheet_blocks(
    book: zipfile.ZipFile,
    sheet: SheetParts | SheetScan,
    guard: Callable[[bytes], None] | None = None,
) -> Iterator[tuple[Framing, bytes]]:
    """The sheet's rows as blocks of whole rows (about _CHUNK bytes of XML each), in order.

    `guard` (a SheetGuard's `feed`) is given every inflated chunk before any of its rows
    is cut, then the rest of the part to its end once the rows are done: the guard's pass
    without a second inflate. Without it, the guard must have passed the sheet before.
    """
    framing: Framing | None = None
    row_tag = b""
    buffer = b""
    ended = False
    with book.open(sheet.part) as stream:

        def read() -> bytes:
            chunk = stream.read(_CHUNK)
            if guard is not None:
                guard(chunk)
            return chunk

        while not ended:
            chunk = read()
            buffer += chunk
            if framing is None:
                root = _ROOT.search(buffer)
                first = -1
                if root:
                    prefix = root.group(1) or b""
                    row_tag = b"<" + prefix + b"row"
                    first = _first_row(buffer, row_tag, root.end())
                if first < 0 and chunk and not _SHEET_DATA_END.search(buffer):
                    continue  # the guard bounds how far the first row can be
                if root is None or first < 0:
                    break  # no row
                tag_end = buffer.index(b">", root.start())
                opening = buffer[root.start() : tag_end + 1].rstrip(b"/>") + b">"
                closing = b"</" + (root.group(1) or b"") + b"worksheet>"
                framing = Framing(opening, closing, row_tag == b"<row")
                buffer = buffer[first:]
            # (the literal first: a regular expression tries at every `</` of the block)
            end = _SHEET_DATA_END.search(buffer) if b"sheetData" in buffer else None
            if end or not chunk:
                block, ended = buffer[: end.start()] if end else buffer, True
            else:
                cut = buffer.rfind(row_tag)
                block, buffer = buffer[:cut], buffer[cut:]
            if block:
                yield framing, block
        if guard is not None:
            while chunk:  # the guard reads the part to its end (rows after sheetData…)
                chunk = read()


def block_rows(
    block: bytes, framing: Framing, cells: Cells
) -> list[tuple[int | None, list | Element]]:
    """(row number or None, cells or the parsed row) of each row of a block of whole rows."""
    return _block_rows(block, framing.opening, framing.closing, framing.plain, cells)


def out_of_order(path: Path, at: int, number: int) -> IngestError:
    return IngestError(
        f"sheet row {at} comes after row {number}: rows are out of order",
        file=path,
        row=at,
        hint="open it in a spreadsheet tool and save it as .xlsx again",
    )


def _rows(
    path: Path, book: zipfile.ZipFile, scan: SheetScan, cells: Cells
) -> Iterator[tuple[int, list]]:
    number = 0
    for framing, block in sheet_blocks(book, scan):
        for at, row in _block_rows(block, framing.opening, framing.closing, framing.plain, cells):
            if at is None:
                at = number + 1
            if at <= number:
                raise out_of_order(path, at, number)
            number = at
            yield number, row if isinstance(row, list) else cells.row(row, number)


def _parsed(xml: bytes) -> Element:
    # expat in C (defusedxml's parser runs Python per element: 10× slower). The XML sits
    # in our own root tag, where no DTD can be declared, and the guard refused any DTD
    # or entity declaration in the part beforehand.
    return fromstring(xml)


def _block_rows(
    block: bytes, opening: bytes, closing: bytes, plain: bool, cells: Cells
) -> list[tuple[int | None, list | Element]]:
    """(row number or None, cells or the parsed row) of each row of a block of whole rows:
    by regular expressions when every row has the plain form, else by the XML parser
    (also for a prefixed namespace, comments, CDATA or processing instructions)."""
    if plain and b"<!" not in block and b"<?" not in block:
        try:
            return cells.plain_block(block)
        except _NotPlain:
            pass
    rows: list[tuple[int | None, list | Element]] = []
    for row in _parsed(opening + block + closing):
        r = row.get("r")
        rows.append(((int(r) if r else None), row))
    return rows


def _first_row(buffer: bytes, row_tag: bytes, start: int) -> int:
    """Offset of the first `<row` start tag (not `<rowBreaks`…) after `start`, or -1."""
    at = buffer.find(row_tag, start)
    while at >= 0 and buffer[at + len(row_tag) : at + len(row_tag) + 1] not in (
        b" ",
        b">",
        b"/",
        b"\t",
        b"\n",
        b"\r",
    ):
        at = buffer.find(row_tag, at + 1)
    return at
