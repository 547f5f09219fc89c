"""The edition manifest: all the ingester needs to know of one edition, as a typed model.

`Manifest` (pydantic) is the one definition of `manifest.yml`: ingestion, the Dagster
sensor (ingest/fingerprint.py) and the `new-edition` templates all read it through
`load_manifest`/`parse_manifest`, the sample generator writes its manifests through
`Manifest.to_yaml`, and docs/manifest.schema.json is generated from it
(`python -m barometre.ingest.manifest_schema`). Format: docs/adding-an-edition.md.

Everything in the file is untrusted: it is read by a bounded YAML loader (safe_yaml.py),
any wrong type gives one line naming the key, `files:` entries must stay inside the
edition folder, and regular expressions are compiled by RE2 (linear-time matching).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any, Literal, TypeGuard

import re2
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from barometre.ingest.errors import IngestError
from barometre.ingest.limits import HEADER_ROWS, PATTERN_CHARS
from barometre.ingest.read_export import ReadSpec
from barometre.ingest.safe_yaml import load_yaml

MANIFEST_NAME = "manifest.yml"
SCHEMA_HINT = "fix manifest.yml; its format is in docs/adding-an-edition.md"
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "latin-1": "latin-1",
    "iso-8859-1": "latin-1",
    "latin1": "latin-1",
}
DEFAULT_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _tokens(value: Any) -> Any:
    """A list of cell texts: YAML `null` (an empty cell) is the empty text."""
    if isinstance(value, list):
        return ["" if v is None else v for v in value]
    return value


Lower = BeforeValidator(_lower)
Tokens = Annotated[list[str], BeforeValidator(_tokens)]
Levels = dict[str, int]


class _Part(BaseModel):
    """Common settings of every part: unknown keys are errors, values are not changed."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class RespondentColumns(_Part):
    """Which export column (by its name in the names row) carries what."""

    response_id: str = Field(min_length=1, description="the response's id")
    collectivity: str = Field(min_length=1, description="the collectivity's name")
    type: str | None = Field(None, description="the collectivity's type, when the export has it")
    started_at: str | None = Field(None, description="when the response was started")
    submitted_at: str = Field(
        min_length=1,
        description="when it was submitted; the default completeness rule: not empty",
    )


class AnswerGroup(_Part):
    """An encoding for some question columns, overriding `answers.encoding` for them."""

    columns: list[str] | None = Field(None, description="the columns' names (names row)")
    pattern: str | None = Field(
        None, description="RE2 regular expression matched at the start of the column name"
    )
    encoding: Annotated[Literal["codes", "labels"], Lower]
    codes: Levels = Field(default_factory=dict, description="code → level, for encoding codes")
    labels: Levels | None = Field(
        None, description="label → level, for encoding labels (default: the seeds' labels)"
    )

    @model_validator(mode="after")
    def _one_selector(self) -> AnswerGroup:
        if (self.columns is None) == (self.pattern is None):
            raise ValueError("give either `columns:` or `pattern:` (exactly one)")
        if self.encoding == "codes" and not self.codes:
            raise ValueError("encoding is 'codes' but `codes:` is empty")
        return self


class Answers(_Part):
    """How answer cells read: a code or a label per level, and the special tokens."""

    encoding: Annotated[Literal["codes", "labels"], Lower] = Field(
        description="codes: the `codes` table; labels: `labels`, default the seeds' labels"
    )
    codes: Levels = Field(default_factory=dict, description="code → level")
    labels: Levels | None = Field(
        None, description="label → level (default: label_fr of seeds/scale_levels.csv)"
    )
    not_concerned: Tokens = Field(default_factory=list, description="'not concerned' tokens")
    no_answer: Tokens = Field(default_factory=lambda: [""], description="'no answer' tokens")
    groups: list[AnswerGroup] = Field(
        default_factory=list,
        description="column groups with their own encoding; the first group that matches wins",
    )

    @model_validator(mode="after")
    def _codes_given(self) -> Answers:
        if self.encoding == "codes" and not self.codes:
            raise ValueError("encoding is 'codes' but `codes:` is empty")
        return self


class Questions(_Part):
    """How the remaining columns map to question codes of seeds/questions.csv."""

    by: Annotated[Literal["code", "wording", "map"], Lower] = Field(
        description="code: `pattern`; wording: the wording row against wording_fr; map: `map`"
    )
    pattern: str | None = Field(
        None,
        description="by code: RE2 regular expression with named groups `theme` and `order`, "
        "matched at the start of each column name",
    )
    map: dict[str, str] | None = Field(
        None, description="by map: column name → question_code of seeds/questions.csv"
    )

    @model_validator(mode="after")
    def _what_by_needs(self) -> Questions:
        if self.by == "code" and not self.pattern:
            raise ValueError("`by: code` needs `pattern:`")
        if self.by == "map" and not self.map:
            raise ValueError("`by: map` needs `map:` (column name → question code)")
        return self


class Completeness(_Part):
    """Which responses are complete: one rule on one column (others are quarantined)."""

    column: str = Field(min_length=1, description="the column the rule reads")
    equals: Tokens | None = Field(
        None, description="complete when the cell is one of these (case ignored)"
    )
    at_least: float | None = Field(
        None, description="complete when the cell is a number at least this"
    )
    not_empty: Literal[True] | None = Field(None, description="complete when the cell is filled")

    @model_validator(mode="after")
    def _one_rule(self) -> Completeness:
        given = [k for k in ("equals", "at_least", "not_empty") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of `equals:`, `at_least:`, `not_empty: true`")
        return self

    def describe(self) -> str:
        """The rule in words, for quarantine reasons."""
        if self.equals is not None:
            return f"{self.column} is one of {self.equals}"
        if self.at_least is not None:
            return f"{self.column} is a number at least {self.at_least:g}"
        return f"{self.column} is not empty"


def _file_entry(name: str) -> str:
    """A `files:` entry: a name or sub-path inside the edition folder, nothing else."""
    if name.strip() == "" or "\0" in name:
        raise ValueError("an empty file name")
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or "\\" in name:
        raise ValueError(
            f"{_found(name)} is not inside the edition folder: give the file name (or a "
            "sub-path) relative to the folder"
        )
    if ".." in posix.parts:
        raise ValueError(f"{_found(name)} leaves the edition folder ('..'): refused")
    return name


class Manifest(_Part):
    """A parsed, checked manifest.yml (docs/adding-an-edition.md)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,
        title="barometre edition manifest (manifest.yml)",
    )

    edition: str = Field(min_length=1, description="the folder name; a row of seeds/editions.csv")
    layout: str = Field("", description="free label recorded with every row (default: the format)")
    files: list[Annotated[str, AfterValidator(_file_entry)]] = Field(
        min_length=1, description="export files in the edition folder, all in this layout"
    )
    format: Annotated[Literal["csv", "xlsx"], Lower]
    encoding: Annotated[
        Literal["utf-8", "utf8", "utf-8-sig", "latin-1", "iso-8859-1", "latin1"],
        Lower,
        AfterValidator(ENCODINGS.__getitem__),
    ] = Field("utf-8", description="csv only; utf-8 also reads a BOM")
    delimiter: str = Field(
        ",",
        description="csv only: one character",
        json_schema_extra={"minLength": 1, "maxLength": 1},
    )
    sheet: str | None = Field(None, description="xlsx only: sheet name, default the first")
    header_rows: int = Field(1, ge=1, description="rows before the data (all skipped)")
    names_row: int = Field(1, ge=1, description="the header row that names the columns")
    wording_row: int | None = Field(
        None, ge=1, description="the header row holding question wordings (default names_row)"
    )
    timestamp_format: str = Field(
        DEFAULT_TIMESTAMP_FORMAT, min_length=1, description="strptime format of date columns"
    )
    respondent_columns: RespondentColumns = Field(alias="respondent")
    metadata_columns: Tokens = Field(
        default_factory=list, description="expected in the file, kept out of the warehouse"
    )
    personal_columns: Tokens = Field(
        default_factory=list, description="personal data: never read further"
    )
    completeness: Completeness | None = Field(
        None, description="which responses are complete (default: respondent.submitted_at filled)"
    )
    answers: Answers
    questions: Questions
    duplicates: Literal["latest_complete"] = "latest_complete"

    _path: Path = PrivateAttr(default=Path(MANIFEST_NAME))
    _question_pattern: SafePattern | None = PrivateAttr(default=None)
    _group_patterns: tuple[SafePattern | None, ...] = PrivateAttr(default=())

    @model_validator(mode="before")
    @classmethod
    def _layout_defaults_to_format(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and raw.get("layout") in (None, "") and "format" in raw:
            return {**raw, "layout": str(raw["format"]).lower()}
        return raw

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1 or value in {'"', "\n", "\r"}:
            raise ValueError(
                f"must be exactly one character other than a quote, found {_found(value)}"
            )
        return value

    @model_validator(mode="after")
    def _rows_in_header(self) -> Manifest:
        for key in ("names_row", "wording_row"):
            row = getattr(self, key)
            if row is not None and row > self.header_rows:
                raise ValueError(f"{key} {row} is not one of the {self.header_rows} header rows")
        return self

    # -- what the ingester reads ---------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    @property
    def folder(self) -> Path:
        return self._path.parent

    @property
    def respondent(self) -> dict[str, str]:
        """respondent field → column name, for the fields the export has."""
        return {k: v for k, v in self.respondent_columns.model_dump().items() if v}

    @property
    def answer_encoding(self) -> str:
        return self.answers.encoding

    @property
    def answer_codes(self) -> dict[str, int]:
        return dict(self.answers.codes)

    @property
    def not_concerned(self) -> tuple[str, ...]:
        return tuple(self.answers.not_concerned)

    @property
    def no_answer(self) -> tuple[str, ...]:
        return tuple(self.answers.no_answer)

    @property
    def question_mapping(self) -> str:
        return self.questions.by

    @property
    def question_pattern(self) -> SafePattern | None:
        return self._question_pattern

    @property
    def completeness_rule(self) -> Completeness:
        """The rule in force: the manifest's, else `submitted_at` not empty."""
        return self.completeness or Completeness(
            column=self.respondent_columns.submitted_at, not_empty=True
        )

    def read_spec(self) -> ReadSpec:
        return ReadSpec(
            format=self.format,
            encoding=self.encoding,
            delimiter=self.delimiter,
            sheet=self.sheet,
            header_rows=self.header_rows,
            names_row=self.names_row,
            wording_row=self.wording_row,
        )

    def group_of(self, column: str) -> int | None:
        """Index in `answers.groups` of the first group `column` belongs to, else None."""
        for index, (group, pattern) in enumerate(
            zip(self.answers.groups, self._group_patterns, strict=True)
        ):
            if group.columns is not None and column in group.columns:
                return index
            if pattern is not None and pattern.match(column):
                return index
        return None

    def resolve_file(self, name: str) -> Path:
        """The path of a `files:` entry, refused when it resolves outside the folder.

        Nothing at the target is read, hashed or shown: only the entry as written.
        """
        refusal = IngestError(
            f"files: entry {_found(name)} resolves outside the edition folder (through a symbolic "
            "link or '..'): refused, nothing was read",
            file=self.path,
            hint="copy the export itself into the edition folder and list its name",
        )
        candidate = self.folder / _file_entry(name)
        try:
            inside = candidate.resolve().is_relative_to(self.folder.resolve())
        except (OSError, RuntimeError):  # a symlink loop
            raise refusal from None
        if not inside:
            raise refusal
        return candidate

    def file_paths(self) -> list[Path]:
        return [self.resolve_file(name) for name in self.files]

    # -- what writers of manifests use ----------------------------------------------------

    def to_yaml(self, comment: str = "") -> str:
        """This manifest as manifest.yml text: the keys it was given (aliases as written in
        the file, values as the model holds them), `comment` as leading `#` lines.
        `parse_manifest` reads it back to an equal model."""
        data = self.model_dump(mode="json", by_alias=True, exclude_unset=True)
        lines = [f"# {line}" if line else "#" for line in comment.splitlines()]
        text = yaml.dump(
            data, Dumper=_IndentedDumper, sort_keys=False, allow_unicode=True, width=100
        )
        return "\n".join([*lines, text]) if lines else text


class _IndentedDumper(yaml.SafeDumper):
    """Safe YAML with list items indented under their key, as docs/adding-an-edition.md
    writes them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


class SafePattern:
    """A manifest regular expression compiled by RE2: matching takes linear time."""

    def __init__(self, key: str, text: str, path: Path) -> None:
        PATTERN_CHARS.check(
            len(text),
            file=path,
            column=None,
            hint=f"shorten `{key}`",
        )
        options = re2.Options()
        options.log_errors = False  # the error is reported below, in one line
        try:
            self._compiled = re2.compile(text, options)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
            raise IngestError(
                f"{key} is not a usable regular expression ({reason})",
                file=path,
                hint=f"fix `{key}`; patterns use RE2 syntax (no backreferences or "
                "lookarounds), so that matching always takes linear time",
            ) from None
        self.text = text
        self.groupindex = dict(self._compiled.groupindex)

    def match(self, text: str) -> Any:
        return self._compiled.match(text)


# -- reading and error messages ------------------------------------------------------------


def _type_name(value: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "a text",
        int: "a number",
        float: "a number",
        bool: "a boolean",
        type(None): "nothing (null)",
    }.get(type(value), type(value).__name__)


def _found(value: Any) -> str:
    if isinstance(value, dict | list):
        return _type_name(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _key(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _model_at(loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The model class a location points into (to list the keys allowed there)."""
    model: type[BaseModel] = Manifest
    for part in loc:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        annotation = field.annotation
        inner = [annotation, *getattr(annotation, "__args__", ())]
        nxt = next((t for t in inner if _is_model(t)), None)
        if nxt is None:
            for t in inner:
                for arg in getattr(t, "__args__", ()):
                    if _is_model(arg):
                        nxt = arg
        if nxt is None:
            return None
        model = nxt
    return model


def _is_model(annotation: object) -> TypeGuard[type[BaseModel]]:
    """Whether a type annotation (or one of its arguments) is a model class."""
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _problem(error: Any) -> str:
    loc, kind, value = error["loc"], error["type"], error.get("input")
    key = _key(loc)
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = ", ".join(f.alias or n for n, f in parent.model_fields.items()) if parent else ""
        return f"unknown key `{key}`" + (f" (allowed there: {allowed})" if allowed else "")
    if kind == "missing":
        return f"`{key}` is required"
    if kind == "model_type" and not loc:
        return f"manifest.yml must be a mapping of keys to values, found {_type_name(value)}"
    expected = {
        "dict_type": "a mapping (key: value)",
        "model_type": "a mapping (key: value)",
        "list_type": "a list",
        "string_type": "a text",
        "int_type": "a whole number",
        "int_parsing": "a whole number",
        "int_from_float": "a whole number",
        "float_type": "a number",
        "float_parsing": "a number",
        "bool_type": "true or false",
        "bool_parsing": "true or false",
    }.get(kind)
    if expected:
        return f"`{key}` must be {expected}, found {_found(value)}"
    if kind == "literal_error":
        return f"`{key}` must be {error['ctx']['expected']}, found {_found(value)}"
    if kind == "value_error":
        return f"`{key or 'manifest.yml'}`: {error['ctx']['error']}"
    message = error["msg"][0].lower() + error["msg"][1:]
    return f"`{key}`: {message}, found {_found(value)}"


def _validation_failure(path: Path, exc: ValidationError) -> IngestError:
    errors = exc.errors(include_url=False)
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return IngestError(_problem(errors[0]) + more, file=path, hint=SCHEMA_HINT)


def parse_manifest(raw: Any, path: Path) -> Manifest:
    """Check a manifest's content (already parsed YAML) and compile its patterns.

    Raises IngestError with one line naming the key. Touches no file but none.
    """
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        raise _validation_failure(path, exc) from None
    HEADER_ROWS.check(
        manifest.header_rows,
        file=path,
        hint="set `header_rows:` to the number of rows above the first response",
    )
    manifest._path = path
    if manifest.questions.by == "code":
        pattern = SafePattern("questions.pattern", manifest.questions.pattern or "", path)
        if not {"theme", "order"} <= set(pattern.groupindex):
            raise IngestError(
                "questions.pattern needs the named groups (?P<theme>…) and (?P<order>…)",
                file=path,
                hint=SCHEMA_HINT,
            )
        manifest._question_pattern = pattern
    manifest._group_patterns = tuple(
        SafePattern(f"answers.groups[{i}].pattern", g.pattern, path) if g.pattern else None
        for i, g in enumerate(manifest.answers.groups)
    )
    return manifest


def read_manifest(edition_dir: Path) -> Manifest:
    """Read and check `<edition_dir>/manifest.yml` (types, limits, patterns); no export read."""
    path = edition_dir / MANIFEST_NAME
    if not path.is_file():
        raise IngestError(
            "no manifest.yml in the edition folder",
            file=path,
            hint="every data/raw/<edition>/ folder needs a manifest.yml "
            "(docs/adding-an-edition.md; `barometre new-edition` writes a template)",
        )
    try:
        inside = path.resolve().is_relative_to(edition_dir.resolve())
    except (OSError, RuntimeError):
        inside = False
    if not inside:
        raise IngestError(
            "manifest.yml is a link to a file outside the edition folder: refused, "
            "nothing was read",
            file=path,
            hint="put the manifest itself in the edition folder",
        )
    return parse_manifest(load_yaml(path), path)


def load_manifest(edition_dir: Path) -> Manifest:
    """Read and check `<edition_dir>/manifest.yml` and that its export files are there."""
    manifest = read_manifest(edition_dir)
    if manifest.edition != edition_dir.name:
        raise IngestError(
            f"edition {manifest.edition!r} does not match the folder name {edition_dir.name!r}",
            file=manifest.path,
            hint="set `edition:` to the folder name",
        )
    for path in manifest.file_paths():
        if not path.is_file():
            exists = path.exists() or path.is_symlink()
            raise IngestError(
                "export file listed in manifest.yml is not a regular file"
                if exists
                else "export file listed in manifest.yml is missing",
                file=path,
                hint="put the export in the edition folder or fix `files:`",
            )
    return manifest


def listed_export_paths(edition_dir: Path) -> list[Path] | None:
    """The export files a manifest lists, confined to the folder; None when the manifest
    cannot be used (the run then says why, in the ingestion's own words)."""
    try:
        return read_manifest(edition_dir).file_paths()
    except IngestError:
        return None
