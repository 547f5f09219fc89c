"""The edition manifest: all the ingester needs to know of one edition.

Format: docs/adding-an-edition.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from barometre.ingest.errors import IngestError

MANIFEST_NAME = "manifest.yml"
FORMATS = ("csv", "xlsx")
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "latin-1": "latin-1",
    "iso-8859-1": "latin-1",
    "latin1": "latin-1",
}
ANSWER_ENCODINGS = ("codes", "labels")
QUESTION_MAPPINGS = ("code", "wording")
DUPLICATE_RULES = ("latest_complete",)
RESPONDENT_FIELDS = ("response_id", "collectivity", "type", "started_at", "submitted_at")
REQUIRED_RESPONDENT_FIELDS = ("response_id", "collectivity", "submitted_at")


@dataclass(frozen=True)
class Manifest:
    """A parsed, checked manifest.yml."""

    path: Path
    edition: str
    layout: str
    files: tuple[str, ...]
    format: str
    encoding: str
    delimiter: str
    header_rows: int
    sheet: str | None
    timestamp_format: str
    respondent: dict[str, str]
    metadata_columns: tuple[str, ...]
    personal_columns: tuple[str, ...]
    answer_encoding: str
    answer_codes: dict[str, int]
    not_concerned: tuple[str, ...]
    no_answer: tuple[str, ...]
    question_mapping: str
    question_pattern: re.Pattern[str] | None
    duplicates: str = "latest_complete"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def file_paths(self) -> list[Path]:
        return [self.folder / name for name in self.files]


def _fail(path: Path, problem: str, hint: str | None = None) -> IngestError:
    return IngestError(
        problem,
        file=path,
        hint=hint or "fix manifest.yml; its format is in docs/adding-an-edition.md",
    )


def _str_list(path: Path, raw: dict[str, Any], key: str) -> tuple[str, ...]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise _fail(path, f"'{key}' must be a list")
    return tuple("" if v is None else str(v) for v in value)


def load_manifest(edition_dir: Path) -> Manifest:
    """Read and check `<edition_dir>/manifest.yml`; raise IngestError on anything off."""
    path = edition_dir / MANIFEST_NAME
    if not path.is_file():
        raise IngestError(
            "no manifest.yml in the edition folder",
            file=path,
            hint="every data/raw/<edition>/ folder needs a manifest.yml "
            "(docs/adding-an-edition.md; `barometre new-edition` writes a template)",
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _fail(
            path,
            f"manifest.yml is not valid YAML ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]})",
        ) from None
    if not isinstance(raw, dict):
        raise _fail(path, "manifest.yml must be a mapping of keys to values")

    edition = str(raw.get("edition", "")).strip()
    if edition != edition_dir.name:
        raise _fail(
            path,
            f"edition {edition!r} does not match the folder name {edition_dir.name!r}",
            "set `edition:` to the folder name",
        )

    fmt = str(raw.get("format", "")).lower()
    if fmt not in FORMATS:
        raise _fail(path, f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    files = _str_list(path, raw, "files")
    if not files:
        raise _fail(path, "'files' lists no export file")
    for name in files:
        if not (edition_dir / name).is_file():
            raise IngestError(
                "export file listed in manifest.yml is missing",
                file=edition_dir / name,
                hint="put the export in the edition folder or fix `files:`",
            )

    encoding_name = str(raw.get("encoding", "utf-8")).lower()
    if encoding_name not in ENCODINGS:
        raise _fail(
            path,
            f"encoding {encoding_name!r} is not supported "
            f"(use one of {', '.join(sorted(ENCODINGS))})",
        )
    header_rows = raw.get("header_rows", 1)
    if header_rows not in (1, 2):
        raise _fail(path, "header_rows must be 1 or 2")

    respondent = raw.get("respondent") or {}
    if not isinstance(respondent, dict):
        raise _fail(path, "'respondent' must map fields to column names")
    unknown = sorted(set(respondent) - set(RESPONDENT_FIELDS))
    if unknown:
        raise _fail(
            path, f"unknown respondent field(s) {unknown}; allowed: {', '.join(RESPONDENT_FIELDS)}"
        )
    missing = [f for f in REQUIRED_RESPONDENT_FIELDS if not respondent.get(f)]
    if missing:
        raise _fail(path, f"respondent field(s) {missing} are required")

    answers = raw.get("answers") or {}
    answer_encoding = str(answers.get("encoding", "")).lower()
    if answer_encoding not in ANSWER_ENCODINGS:
        raise _fail(
            path,
            f"answers.encoding {answer_encoding!r} is not one of {', '.join(ANSWER_ENCODINGS)}",
        )
    codes = answers.get("codes") or {}
    if answer_encoding == "codes" and not codes:
        raise _fail(path, "answers.encoding is 'codes' but answers.codes is empty")
    try:
        answer_codes = {str(k): int(v) for k, v in codes.items()}
    except (TypeError, ValueError):
        raise _fail(path, "answers.codes must map each code to a whole level") from None

    questions = raw.get("questions") or {}
    mapping = str(questions.get("by", "")).lower()
    if mapping not in QUESTION_MAPPINGS:
        raise _fail(path, f"questions.by {mapping!r} is not one of {', '.join(QUESTION_MAPPINGS)}")
    pattern = None
    if mapping == "code":
        try:
            pattern = re.compile(str(questions.get("pattern", "")))
        except re.error as exc:
            raise _fail(
                path, f"questions.pattern is not a valid regular expression ({exc})"
            ) from None
        if not {"theme", "order"} <= set(pattern.groupindex):
            raise _fail(
                path, "questions.pattern needs the named groups (?P<theme>…) and (?P<order>…)"
            )

    duplicates = str(raw.get("duplicates", "latest_complete"))
    if duplicates not in DUPLICATE_RULES:
        raise _fail(
            path, f"duplicates rule {duplicates!r} is not one of {', '.join(DUPLICATE_RULES)}"
        )

    return Manifest(
        path=path,
        edition=edition,
        layout=str(raw.get("layout", fmt)),
        files=files,
        format=fmt,
        encoding=ENCODINGS[encoding_name],
        delimiter=str(raw.get("delimiter", ",")),
        header_rows=int(header_rows),
        sheet=raw.get("sheet"),
        timestamp_format=str(raw.get("timestamp_format", "%Y-%m-%d %H:%M:%S")),
        respondent={k: str(v) for k, v in respondent.items() if v},
        metadata_columns=_str_list(path, raw, "metadata_columns"),
        personal_columns=_str_list(path, raw, "personal_columns"),
        answer_encoding=answer_encoding,
        answer_codes=answer_codes,
        not_concerned=tuple(str(t) for t in answers.get("not_concerned") or []),
        no_answer=tuple("" if t is None else str(t) for t in answers.get("no_answer") or [""]),
        question_mapping=mapping,
        question_pattern=pattern,
        duplicates=duplicates,
    )
