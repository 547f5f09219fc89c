"""Resource limits on untrusted input: the one home of every limit (docs/validation.md).

Each limit is a named setting (an environment variable) with a sane default. A refusal
says which limit, the value found and what to do, in the project's usual error form.
Modules that enforce a limit import its `Limit` from here; they never hard-code one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from barometre.ingest.errors import IngestError


@dataclass(frozen=True)
class Limit:
    """One bound on an input, settable through the environment variable `env`."""

    env: str
    default: int
    unit: str
    """what the number counts, in words ("bytes", "rows", "aliases", …)"""
    bounds: str
    """what the limit protects, for the docs and the refusal message"""

    def value(self) -> int:
        """The limit in force: the environment's value, else the default."""
        raw = os.environ.get(self.env)
        if raw is None or raw.strip() == "":
            return self.default
        try:
            number = int(float(raw))
        except ValueError:
            raise IngestError(
                f"setting {self.env}={raw!r} is not a number",
                hint=f"set {self.env} to a whole number of {self.unit}, or unset it "
                f"(default {self.default})",
            ) from None
        if number <= 0:
            raise IngestError(
                f"setting {self.env}={raw!r} must be positive",
                hint=f"set {self.env} to a whole number of {self.unit} (default {self.default})",
            )
        return number

    def refusal(
        self,
        found: int | str,
        *,
        file: Path | str | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> IngestError:
        """The error to raise when `found` exceeds the limit (nothing is read further)."""
        advice = hint or "check that the file is the survey tool's export"
        return IngestError(
            f"refused: {self.bounds} is limited to {self.value()} {self.unit} "
            f"({self.env}); found {found}",
            file=file,
            row=row,
            column=column,
            hint=f"{advice}; if the input is legitimate, raise {self.env}",
        )

    def check(
        self,
        found: int,
        *,
        file: Path | str | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        """Raise the refusal when `found` is above the limit."""
        if found > self.value():
            raise self.refusal(found, file=file, row=row, column=column, hint=hint)


ALL_LIMITS: list[Limit] = []
"""Every limit, in the order docs/validation.md lists them (modules append theirs)."""


def register(limit: Limit) -> Limit:
    """Declare a limit (at import of the module that defines it here)."""
    ALL_LIMITS.append(limit)
    return limit


# Limits are declared below, one block per kind of input. Keep them here, together.


# --- Working memory of ingestion and of its verification (DuckDB and the row contract) ---

INGEST_MEMORY = register(
    Limit(
        "BAROMETRE_INGEST_MEMORY_MB",
        512,
        "MiB",
        "the memory DuckDB may use to ingest or verify one edition (beyond it, it spills "
        "to a private temporary folder)",
    )
)
CONTRACT_BATCH = register(
    Limit(
        "BAROMETRE_CONTRACT_BATCH_ROWS",
        50_000,
        "rows",
        "the number of distinct value combinations handed to pandera at once by the row contract",
    )
)

# -- manifest.yml (ingest/safe_yaml.py, ingest/manifest.py) ------------------------------
MANIFEST_BYTES = register(
    Limit("BAROMETRE_LIMIT_MANIFEST_BYTES", 262_144, "bytes", "the size of manifest.yml")
)
YAML_ALIASES = register(
    Limit(
        "BAROMETRE_LIMIT_YAML_ALIASES",
        50,
        "aliases",
        "the number of YAML aliases (*name) in manifest.yml",
    )
)
YAML_NODES = register(
    Limit(
        "BAROMETRE_LIMIT_YAML_NODES",
        100_000,
        "values",
        "the number of values in manifest.yml once its aliases are expanded",
    )
)
YAML_DEPTH = register(
    Limit("BAROMETRE_LIMIT_YAML_DEPTH", 20, "levels", "the nesting depth of manifest.yml")
)
HEADER_ROWS = register(
    Limit(
        "BAROMETRE_LIMIT_HEADER_ROWS",
        10,
        "rows",
        "the header block of an export (manifest `header_rows`)",
    )
)
PATTERN_CHARS = register(
    Limit(
        "BAROMETRE_LIMIT_PATTERN_CHARS",
        1_000,
        "characters",
        "a regular expression of manifest.yml (`questions.pattern`, `answers.groups[].pattern`)",
    )
)

# Export files (ingest/read_export.py, read_csv.py, read_xlsx.py, xlsx_guard.py).
MAX_HEADER_ROWS = HEADER_ROWS  # one limit: the manifest model and the readers check it
MAX_HEADER_BYTES = register(
    Limit("BAROMETRE_LIMIT_HEADER_BYTES", 1_048_576, "bytes", "the header block of a CSV export")
)
MAX_FIELD_CHARS = register(
    Limit("BAROMETRE_LIMIT_FIELD_CHARS", 65_536, "characters", "one header cell of an export")
)
MAX_LINE_BYTES = register(
    Limit(
        "BAROMETRE_LIMIT_LINE_BYTES",
        1_048_576,
        "bytes",
        "one record of an export (a CSV line, or the XML of one sheet row)",
    )
)
MAX_ROWS = register(
    Limit("BAROMETRE_LIMIT_ROWS", 2_000_000, "rows", "the rows of one export (declared or read)")
)
MAX_COLUMNS = register(
    Limit(
        "BAROMETRE_LIMIT_COLUMNS", 4_096, "columns", "the columns of one export (declared or read)"
    )
)
XLSX_MAX_CELLS = register(
    Limit(
        "BAROMETRE_LIMIT_XLSX_CELLS",
        8_000_000,
        "cells",
        "the cells of one XLSX sheet (rows × columns: what a read has to go through)",
    )
)
XLSX_MAX_UNCOMPRESSED_BYTES = register(
    Limit(
        "BAROMETRE_LIMIT_XLSX_UNCOMPRESSED_BYTES",
        1_073_741_824,
        "bytes",
        "the uncompressed size of an XLSX workbook",
    )
)
XLSX_MAX_COMPRESSION_RATIO = register(
    Limit(
        "BAROMETRE_LIMIT_XLSX_COMPRESSION_RATIO",
        100,
        "× (uncompressed / compressed)",
        "the compression ratio of an XLSX workbook and of each of its parts over 1 MiB",
    )
)
XLSX_MAX_MEMBERS = register(
    Limit(
        "BAROMETRE_LIMIT_XLSX_MEMBERS",
        1_000,
        "parts",
        "the parts (zip members) of an XLSX workbook",
    )
)
XLSX_MAX_SHARED_STRINGS_BYTES = register(
    Limit(
        "BAROMETRE_LIMIT_XLSX_SHARED_STRINGS_BYTES",
        134_217_728,
        "bytes",
        "the uncompressed size of an XLSX workbook's shared strings",
    )
)
ANSWER_TEXTS = register(
    Limit(
        "BAROMETRE_LIMIT_ANSWER_TEXTS",
        10_000,
        "texts",
        "the distinct texts found in the question columns of an edition (codes, labels, "
        "not-concerned and no-answer tokens: a few dozen in a real export)",
    )
)
