"""DuckDB connections for ingestion and its checks, with bounded memory.

DuckDB may use at most `BAROMETRE_INGEST_MEMORY_MB`; beyond that it spills to a
temporary folder of its own (created owner-only, removed on close), so a large export
slows down instead of exhausting the machine. The spill holds what the connection holds,
personal columns of the export included: it never outlives the connection.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from barometre.ingest.limits import INGEST_MEMORY


@contextmanager
def bounded_connection(refusing_for: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory connection limited to `INGEST_MEMORY`, spilling to a private folder.

    When DuckDB gives up for lack of memory or spill space inside the block, the error
    becomes the limit's refusal, naming `refusing_for` (the edition folder).
    """
    spill = Path(tempfile.mkdtemp(prefix="barometre-ingest-"))  # mode 0700
    con = duckdb.connect(
        config={
            "memory_limit": f"{INGEST_MEMORY.value()}MiB",
            "temp_directory": str(spill),
        }
    )
    try:
        yield con
    except duckdb.Error as exc:
        if not out_of_memory(exc):
            raise
        raise INGEST_MEMORY.refusal(
            "a load needing more (DuckDB ran out of memory, or of disk space to spill to)",
            file=refusing_for,
            hint="free disk space in the temporary folder (TMPDIR), or split the export",
        ) from None
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def out_of_memory(exc: duckdb.Error) -> bool:
    """Whether DuckDB gave up for lack of memory (or of spill space)."""
    return isinstance(exc, duckdb.OutOfMemoryException) or "out of memory" in str(exc).lower()
