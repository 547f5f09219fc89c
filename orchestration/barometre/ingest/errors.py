"""The one error type ingestion raises: a message a person can act on, never a traceback."""

from __future__ import annotations

from pathlib import Path


class IngestError(Exception):
    """A problem that stops the load of one edition.

    Carries where (file, row, column), what is wrong, and what to do about it, so
    the CLI and Dagster can print it as is.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: Path | str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.value = value
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        where = [f"file {self.file}"] if self.file else []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.value is not None:
            where.append(f"value {self.value!r}")
        text = self.problem
        if where:
            text = f"{', '.join(where)}: {text}"
        if self.hint:
            text = f"{text}\n  What to do: {self.hint}"
        return text

    def redacted(self, file: str | None, value: str | None) -> IngestError:
        """The same error naming `file` and showing `value` instead (for stored messages)."""
        return IngestError(
            self.problem,
            file=file,
            row=self.row,
            column=self.column,
            value=value,
            hint=self.hint,
        )
