"""CSV exports: header block by Python's csv module (bounded), records by DuckDB's read_csv.

The data rows are counted a second time, independently of DuckDB, by a streaming
scan of the bytes (record ends are the line breaks outside quotes), so that a reader
that skipped or invented rows shows as a reconciliation mismatch.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np

from barometre.ingest.bounded import out_of_memory
from barometre.ingest.errors import IngestError
from barometre.ingest.limits import MAX_FIELD_CHARS, MAX_HEADER_BYTES, MAX_LINE_BYTES
from barometre.ingest.read_export import ExportTable, ReadSpec, finish, header_of, positional_name

_CHUNK = 1 << 20  # bytes per step: a few MiB of numpy arrays at most
_ENCODING_HINT = "set `encoding:` in manifest.yml to the file's encoding (utf-8, latin-1)"


def _header_block(path: Path, spec: ReadSpec) -> list[list[str]]:
    """The first `header_rows` records, read within MAX_HEADER_BYTES and MAX_FIELD_CHARS."""
    limit = MAX_HEADER_BYTES.value()
    with path.open("rb") as handle:
        head = handle.read(limit + 1)
    cut = len(head) > limit
    encoding = "utf-8-sig" if spec.encoding == "utf-8" else spec.encoding
    decoder = codecs.getincrementaldecoder(encoding)()
    raw_lines = head[:limit].splitlines(keepends=True)
    consumed: list[str] = []

    def feed() -> Iterator[str]:  # decode line by line: only the header block must be readable here
        for number, raw in enumerate(raw_lines, start=1):
            try:
                line = decoder.decode(raw, final=not cut and number == len(raw_lines))
            except UnicodeDecodeError as exc:
                raise IngestError(
                    f"the file is not readable as {spec.encoding} (byte {exc.start} of line "
                    f"{number})",
                    file=path,
                    row=number,
                    hint=_ENCODING_HINT,
                ) from None
            consumed.append(line)
            yield line

    previous = csv.field_size_limit(MAX_FIELD_CHARS.value())
    reader = csv.reader(feed(), delimiter=spec.delimiter)
    block: list[list[str]] = []
    try:
        for record in reader:
            block.append(record)
            if len(block) == spec.header_rows:
                break
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise MAX_FIELD_CHARS.refusal(
                f"a longer field in header record {len(block) + 1} "
                f"(a line of {len(consumed[-1]) if consumed else 0} characters)",
                file=path,
                row=reader.line_num,
                hint="check that the file is the survey tool's export and `header_rows:`",
            ) from None
        raise IngestError(
            f"the header block is not readable as CSV ({exc})",
            file=path,
            row=reader.line_num,
            hint="check the first lines in a text editor, and `delimiter:` in manifest.yml",
        ) from None
    finally:
        csv.field_size_limit(previous)
    complete = consumed and consumed[-1].endswith(("\n", "\r"))
    if cut and (len(block) < spec.header_rows or not complete):
        raise MAX_HEADER_BYTES.refusal(
            f"more than {limit} bytes before the end of header record {len(block) or 1}",
            file=path,
            row=1,
            hint="check that the file is the survey tool's export and `header_rows:`",
        )
    return block


def count_records(path: Path, header_rows: int) -> int:
    """Non-blank CSV records after the header block, counted from the raw bytes.

    A record ends at a line feed preceded by an even number of quotes (RFC 4180
    quoting, where a literal quote is doubled); ASCII quotes and line feeds are the
    same bytes in UTF-8 and Latin-1. Streamed in chunks: memory stays flat.
    """
    records = blank = 0
    parity = 0  # quotes seen so far, modulo 2
    length = 0  # bytes of the current record, line ends excluded
    last_was_record_end = True
    with path.open("rb") as handle:
        first = True
        while chunk := handle.read(_CHUNK):
            if first and chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[len(codecs.BOM_UTF8) :]
            first = False
            data = np.frombuffer(chunk, dtype=np.uint8)
            inside = (np.cumsum(data == 34, dtype=np.int32) + parity) & 1
            ends = np.flatnonzero((data == 10) & (inside == 0))
            parity = int(inside[-1]) if len(inside) else parity
            if len(ends) == 0:
                length += int(np.count_nonzero((data != 10) & (data != 13)))
                last_was_record_end = False
                continue
            # Bytes of each record ending in this chunk, not counting CR/LF.
            content = np.cumsum((data != 10) & (data != 13), dtype=np.int32)
            at_end = content[ends]
            sizes = np.diff(np.concatenate(([0], at_end)))
            sizes[0] += length
            records += len(ends)
            blank += int(np.count_nonzero(sizes == 0))
            if header_rows:  # header records are never data, blank or not
                take = min(header_rows, len(ends))
                records -= take
                blank -= int(np.count_nonzero(sizes[:take] == 0))
                header_rows -= take
            length = int(content[-1] - at_end[-1])
            last_was_record_end = ends[-1] == len(data) - 1
    if not last_was_record_end and length > 0:  # last record without a final line break
        if header_rows:
            header_rows -= 1
        else:
            records += 1
    return records - blank


def read_csv(con: duckdb.DuckDBPyConnection, path: Path, spec: ReadSpec, table: str) -> ExportTable:
    header = header_of(path, _header_block(path, spec), spec)
    columns = {positional_name(i): "VARCHAR" for i in range(len(header[0]))}
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT CAST(row_number() OVER () + ? AS INTEGER) AS source_row, *
            FROM read_csv(?, header = false, skip = ?, delim = ?, quote = '"', escape = '"',
                          columns = ?, auto_detect = false, strict_mode = true,
                          allow_quoted_nulls = false, null_padding = false, encoding = ?,
                          max_line_size = ?)
            """,
            [
                spec.header_rows,
                str(path),
                spec.header_rows,
                spec.delimiter,
                columns,
                spec.encoding,
                MAX_LINE_BYTES.value(),
            ],
        )
    except duckdb.Error as exc:
        if out_of_memory(exc):  # not the file's fault: the memory limit's refusal
            raise
        raise _csv_error(path, spec, exc) from None
    return finish(con, path, table, header, count_records(path, spec.header_rows))


def _line_of(text: str) -> int | None:
    for marker in ("Line: ", "line "):
        if marker in text:
            digits = "".join(ch for ch in text.split(marker, 1)[1][:12] if ch.isdigit())
            return int(digits) if digits else None
    return None


def _csv_error(path: Path, spec: ReadSpec, exc: duckdb.Error) -> IngestError:
    text = str(exc)
    line = _line_of(text)
    lower = text.lower()
    if "maximum line size" in lower or "max_line_size" in lower:
        size = re.search(r"Actual Size:\s*(\d+)", text)
        return MAX_LINE_BYTES.refusal(
            f"a line of {size.group(1)} bytes" if size else "a longer line",
            file=path,
            row=line,
            hint="check the line in a text editor (an unclosed quote makes one huge line)",
        )
    if "unicode" in lower or "encoding" in lower:
        return IngestError(
            f"the file is not readable as {spec.encoding}",
            file=path,
            row=line,
            hint=_ENCODING_HINT,
        )
    if "quote" in lower or "unterminated" in lower:
        return IngestError(
            "a quoted field is never closed: the file looks truncated",
            file=path,
            row=line,
            hint="export the survey again; the last line was cut",
        )
    return IngestError(
        "a row does not have as many fields as the header (truncated line, stray "
        "delimiter or wrong delimiter)",
        file=path,
        row=line,
        hint=f"check the line in a text editor; the manifest's delimiter is "
        f"{spec.delimiter!r}. Parser said: {text.splitlines()[0][:200]}",
    )
