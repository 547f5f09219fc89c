"""Hostile manifest.yml: bounded parsing, one-line errors, files confined to the edition folder,
regular expressions that cannot hang (issue 8 §2-3)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml

from barometre.ingest.columns import plan_columns
from barometre.ingest.errors import IngestError
from barometre.ingest.fingerprint import edition_state
from barometre.ingest.load import load_edition
from barometre.ingest.manifest import load_manifest
from barometre.ingest.reference import load_reference
from barometre.serve.cli import main
from tests.factories import LIMESURVEY_MANIFEST, SEEDS, Response, write_limesurvey

SECRET = "root:x:0:0:SECRET-LINE-OF-THE-TARGET"


def edition(tmp_path: Path, **overrides: object) -> Path:
    return write_limesurvey(
        tmp_path / "raw" / "2021", [Response("Bordeaux Métropole", "METRO")], overrides
    )


def refused(folder: Path) -> IngestError:
    with pytest.raises(IngestError) as caught:
        load_edition(folder, folder.parent.parent / "w.duckdb", SEEDS, dry_run=True)
    err = caught.value
    assert "\n" not in err.problem, "the problem is one line"
    assert err.hint, "every refusal says what to do"
    assert not (folder.parent.parent / "w.duckdb").exists()
    return err


def write_manifest(folder: Path, text: str) -> None:
    (folder / "manifest.yml").write_text(text, encoding="utf-8")


# -- bounded YAML ---------------------------------------------------------------------------


def billion_laughs() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_in_milliseconds(tmp_path: Path) -> None:
    folder = edition(tmp_path)
    text = billion_laughs()
    assert len(text.encode()) < 1024  # a 1 KB file that would expand to 9^10 values
    write_manifest(folder, text)
    start = time.perf_counter()
    err = refused(folder)
    assert time.perf_counter() - start < 2.0
    assert "BAROMETRE_LIMIT_YAML_NODES" in err.problem
    assert err.file.endswith("manifest.yml")


def test_too_many_aliases_are_refused(tmp_path: Path) -> None:
    folder = edition(tmp_path)
    write_manifest(folder, "a: &x 1\nb: [" + ", ".join(["*x"] * 60) + "]\n")
    assert "BAROMETRE_LIMIT_YAML_ALIASES" in refused(folder).problem


def test_deep_nesting_is_refused_without_recursion_error(tmp_path: Path) -> None:
    folder = edition(tmp_path)
    write_manifest(folder, "edition: " + "[" * 20_000 + "]" * 20_000 + "\n")
    assert "BAROMETRE_LIMIT_YAML_DEPTH" in refused(folder).problem


def test_oversized_manifest_is_refused_before_reading_it_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = edition(tmp_path)
    path = folder / "manifest.yml"
    path.write_text(path.read_text(encoding="utf-8") + "#" * 300_000 + "\n", encoding="utf-8")
    err = refused(folder)
    assert "BAROMETRE_LIMIT_MANIFEST_BYTES" in err.problem
    assert f"found {path.stat().st_size}" in err.problem
    monkeypatch.setenv("BAROMETRE_LIMIT_MANIFEST_BYTES", str(path.stat().st_size))
    assert load_manifest(folder).edition == "2021"


# -- wrong types: one line naming the key ----------------------------------------------------

WRONG = [
    ({"delimiter": ";;"}, "`delimiter`: must be exactly one character other than a quote"),
    ({"delimiter": ""}, "`delimiter`: must be exactly one character"),
    (
        {"answers": {**LIMESURVEY_MANIFEST["answers"], "codes": ["A1", "A2"]}},
        "`answers.codes` must be a mapping (key: value), found a list",
    ),
    ({"respondent": ["id"]}, "`respondent` must be a mapping (key: value), found a list"),
    (
        {"respondent": {**LIMESURVEY_MANIFEST["respondent"], "response_id": {"a": {"b": "c"}}}},
        "`respondent.response_id` must be a text, found a mapping",
    ),
    ({"files": "export.csv"}, "`files` must be a list, found 'export.csv'"),
    ({"header_rows": "two"}, "`header_rows` must be a whole number, found 'two'"),
    ({"format": "txt"}, "`format` must be 'csv' or 'xlsx', found 'txt'"),
    (
        {"answers": {**LIMESURVEY_MANIFEST["answers"], "cods": {}}},
        "unknown key `answers.cods` (allowed there: encoding, codes, labels,",
    ),
    ({"respondant": {}}, "unknown key `respondant`"),
    ({"names_row": 2}, "names_row 2 is not one of the 1 header rows"),
    ({"questions": {"by": "map"}}, "`by: map` needs `map:`"),
    (
        {"completeness": {"column": "submitdate", "equals": ["1"], "at_least": 1}},
        "give exactly one of `equals:`, `at_least:`, `not_empty: true`",
    ),
    ({"encoding": "utf-16"}, "`encoding` must be 'utf-8', 'utf8', 'utf-8-sig'"),
]


@pytest.mark.parametrize(("override", "expected"), WRONG, ids=[str(w[0])[:40] for w in WRONG])
def test_wrong_types_give_one_line_naming_the_key(
    tmp_path: Path, override: dict, expected: str
) -> None:
    err = refused(edition(tmp_path, **override))
    assert expected in err.problem, err.render()
    assert err.file.endswith("manifest.yml")


@pytest.mark.parametrize("text", ["- a\n- b\n", "", "just text\n", "a: [1\n"])
def test_not_a_mapping_or_not_yaml(tmp_path: Path, text: str) -> None:
    folder = edition(tmp_path)
    write_manifest(folder, text)
    err = refused(folder)
    assert "mapping" in err.problem or "not valid YAML" in err.problem


def test_header_rows_above_the_limit_name_the_limit(tmp_path: Path) -> None:
    err = refused(edition(tmp_path, header_rows=500))
    assert "BAROMETRE_LIMIT_HEADER_ROWS" in err.problem and "found 500" in err.problem


def test_cli_validate_prints_the_line_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = edition(tmp_path, answers={"encoding": "codes", "codes": [1, 2]})
    assert main(["validate", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "`answers.codes` must be a mapping" in err and "Traceback" not in err


# -- confinement: nothing outside the edition folder is read, hashed or shown ---------------


def outside_secret(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text(SECRET + "\n", encoding="utf-8")
    return secret


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("../../outside/passwd", "leaves the edition folder ('..')"),
        ("sub/../../x.csv", "leaves the edition folder ('..')"),
        ("/etc/passwd", "is not inside the edition folder"),
        ("..\\..\\outside\\passwd", "is not inside the edition folder"),
        ("C:/Windows/win.ini", "is not inside the edition folder"),
    ],
)
def test_files_entries_that_leave_the_folder_are_refused(
    tmp_path: Path, entry: str, expected: str
) -> None:
    outside_secret(tmp_path)
    err = refused(edition(tmp_path, files=[entry]))
    assert "`files[0]`" in err.problem and expected in err.problem
    assert "SECRET" not in err.render()


def test_a_symlink_to_outside_is_refused_without_reading_the_target(tmp_path: Path) -> None:
    secret = outside_secret(tmp_path)
    folder = edition(tmp_path, files=["export.csv", "linked.csv"])
    (folder / "linked.csv").symlink_to(secret)
    err = refused(folder)
    assert "files: entry 'linked.csv' resolves outside the edition folder" in err.problem
    assert "SECRET" not in err.render() and str(secret) not in err.render()


def test_a_symlink_to_a_fifo_outside_is_refused_without_opening_it(tmp_path: Path) -> None:
    # Opening a FIFO blocks: returning at all proves the target was never opened.
    fifo = tmp_path / "outside" / "fifo"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    folder = edition(tmp_path, files=["export.csv"])
    (folder / "export.csv").unlink()
    (folder / "export.csv").symlink_to(fifo)
    assert "resolves outside the edition folder" in refused(folder).problem
    state = edition_state(folder)
    assert state.fingerprint is not None  # the manifest alone: the run will say why


def test_a_symlinked_manifest_to_outside_is_refused(tmp_path: Path) -> None:
    secret = outside_secret(tmp_path)
    folder = edition(tmp_path)
    (folder / "manifest.yml").unlink()
    (folder / "manifest.yml").symlink_to(secret)
    err = refused(folder)
    assert "outside the edition folder" in err.problem and "SECRET" not in err.render()


def test_the_sensor_never_hashes_a_file_outside_the_folder(tmp_path: Path) -> None:
    secret = outside_secret(tmp_path)
    folder = edition(tmp_path, files=["export.csv", "linked.csv"])
    (folder / "linked.csv").symlink_to(secret)
    before = edition_state(folder).fingerprint
    secret.write_text("changed\n", encoding="utf-8")
    assert edition_state(folder).fingerprint == before
    write_manifest(folder, yaml.safe_dump({**LIMESURVEY_MANIFEST, "files": ["../x"]}))
    assert edition_state(folder).fingerprint is not None


def test_sub_paths_inside_the_folder_are_accepted(tmp_path: Path) -> None:
    folder = edition(tmp_path, files=["exports/export.csv"])
    (folder / "exports").mkdir()
    (folder / "export.csv").rename(folder / "exports" / "export.csv")
    assert load_edition(folder, tmp_path / "w.duckdb", SEEDS, dry_run=True).respondents == 1
    assert edition_state(folder).fingerprint is not None


# -- regular expressions --------------------------------------------------------------------

CATASTROPHIC = r"^(?P<theme>(a|aa)+)(?P<order>(a|aa)+)\d$"


def test_a_catastrophic_pattern_matches_in_linear_time(tmp_path: Path) -> None:
    # With Python's backtracking engine this takes longer than the age of the universe.
    folder = edition(tmp_path, questions={"by": "code", "pattern": CATASTROPHIC})
    manifest = load_manifest(folder)
    header = "a" * 50_000 + "!"
    start = time.perf_counter()
    with pytest.raises(IngestError, match="matches no question"):
        plan_columns(
            folder / "export.csv",
            (
                *manifest.respondent.values(),
                *manifest.metadata_columns,
                *manifest.personal_columns,
                header,
            ),
            manifest,
            load_reference(SEEDS, "2021"),
        )
    assert time.perf_counter() - start < 1.0


def test_a_too_long_pattern_names_the_limit(tmp_path: Path) -> None:
    pattern = "^(?P<theme>T\\d{2})(?P<order>\\d+)" + "x?" * 600
    err = refused(edition(tmp_path, questions={"by": "code", "pattern": pattern}))
    assert "BAROMETRE_LIMIT_PATTERN_CHARS" in err.problem and f"found {len(pattern)}" in err.problem


@pytest.mark.parametrize(
    "pattern", [r"^(?P<theme>T\d{2})\1(?P<order>\d+)", r"(?=x)(?P<theme>a)(?P<order>b)", "["]
)
def test_patterns_outside_re2_are_refused_in_one_line(tmp_path: Path, pattern: str) -> None:
    err = refused(edition(tmp_path, questions={"by": "code", "pattern": pattern}))
    assert "questions.pattern is not a usable regular expression" in err.problem
    assert "RE2" in err.hint


def test_a_pattern_without_the_named_groups_is_refused(tmp_path: Path) -> None:
    err = refused(edition(tmp_path, questions={"by": "code", "pattern": "^T"}))
    assert "named groups" in err.problem
