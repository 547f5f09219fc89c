"""One reader of seed files (issue 12): `ingest.reference.read_seed` (and `seed_rows` over
it) is what ingestion, new-edition's stubs, the seed advice and the seed lines of dbt
failures read seeds with; a missing seed is told the same way by all of them."""

from __future__ import annotations

import ast
import csv
import inspect
from pathlib import Path

import pytest

from barometre.common.settings import PROJECT_ROOT
from barometre.ingest.errors import IngestError
from barometre.ingest.new_edition import create_edition
from barometre.ingest.reference import read_seed, seed_columns, seed_rows
from barometre.ingest.reference_advice import declared_editions
from barometre.serve.cli import main
from barometre.serve.cli import new_edition as new_edition_cli
from barometre.validate import dbt_failures
from tests.factories import SEEDS
from tests.project_copy import seeds_copy, temp_settings

ORCHESTRATION = PROJECT_ROOT / "orchestration"
# Not seed readers: a published reference table under data/reference/ (calibration), the
# header line of a CSV export (read_csv).
NOT_SEED_READERS = {"barometre_dev/sample/calibration.py", "barometre/ingest/read_csv.py"}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_read_seed_gives_header_rows_and_the_line_each_row_starts_on(tmp_path: Path) -> None:
    _write(
        tmp_path / "notes.csv",
        'code,note\nA,plain\nB,"two\nlines"\nC,"a ""quoted"" word"\n',
    )
    seed = read_seed(tmp_path, "notes.csv")
    assert seed.path == tmp_path / "notes.csv"
    assert seed.header == ("code", "note")
    assert seed.rows == (
        {"code": "A", "note": "plain"},
        {"code": "B", "note": "two\nlines"},
        {"code": "C", "note": 'a "quoted" word'},
    )
    assert seed.lines == (2, 3, 5)  # B's cell spans lines 3-4
    assert seed_rows(tmp_path, "notes.csv") == list(seed.rows)

    header_only = read_seed(_write(tmp_path / "empty.csv", "alias,siren\n").parent, "empty.csv")
    assert (header_only.header, header_only.rows, header_only.lines) == (
        ("alias", "siren"),
        (),
        (),
    )


def test_read_seed_reads_odd_files_as_csv_dictreader_does(tmp_path: Path) -> None:
    """read_seed builds its rows without csv.DictReader's per-row layer: the same rows,
    whatever the file holds (blank lines, short and long rows, a repeated column name)."""
    odd = (
        "a,b,a,c\r\n"  # 'a' twice: the last cell wins
        "1,2,3,4\r\n"
        "\r\n"  # a blank line: skipped
        "5,6\r\n"  # short: the missing cells are None
        '7,8,9,10,11,"twelve\nlines"\n'  # long: the extra cells under None
        ",,,\n"
        "13,14,15,16"  # no end of line
    )
    for name, text in (("odd.csv", odd), ("empty.csv", ""), ("blank_header.csv", "\n1,2\n")):
        path = _write(tmp_path / name, text)
        with path.open(encoding="utf-8", newline="") as handle:
            expected = csv.DictReader(handle)
            rows = tuple(expected)
            header = tuple(expected.fieldnames or ())
        seed = read_seed(tmp_path, name)
        assert (seed.header, seed.rows) == (header, rows), name
    assert read_seed(tmp_path, "odd.csv").lines == (2, 4, 5, 7, 8)


def test_seed_columns_are_the_rows_cells_one_list_per_column(tmp_path: Path) -> None:
    _write(tmp_path / "refs.csv", 'siren,extra,name\n1,x,"Un, deux"\n\n2,y,Trois\n')
    assert seed_columns(tmp_path, "refs.csv", ("name", "siren")) == [
        ["Un, deux", "Trois"],
        ["1", "2"],
    ]
    with pytest.raises(IngestError, match="no column type_code") as err:
        seed_columns(tmp_path, "refs.csv", ("siren", "type_code"))
    assert err.value.file == str(tmp_path / "refs.csv")
    _write(tmp_path / "short.csv", "siren,name\n1,Un\n\n2\n")
    with pytest.raises(IngestError, match="column 'name' is missing") as err:
        seed_columns(tmp_path, "short.csv", ("siren", "name"))
    assert err.value.row == 4  # the file's line, blank lines counted


def test_a_missing_seed_is_an_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="seed file is missing") as err:
        read_seed(tmp_path, "editions.csv")
    assert err.value.file == str(tmp_path / "editions.csv")
    assert "restore it from git" in str(err.value)


def test_no_module_but_the_seed_reader_parses_csv_rows() -> None:
    """csv.reader and csv.DictReader appear in the module of read_seed, and elsewhere only
    where what is read is not a seed."""
    reader = Path(inspect.getsourcefile(read_seed) or "").resolve()
    offenders = []
    for path in sorted(ORCHESTRATION.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        uses = any(
            isinstance(node, ast.Attribute) and node.attr in ("DictReader", "reader")
            for node in ast.walk(tree)
        )
        relative = path.relative_to(ORCHESTRATION).as_posix()
        if uses and path.resolve() != reader and relative not in NOT_SEED_READERS:
            offenders.append(relative)
    assert offenders == []


def test_declared_editions_are_the_editions_seed_in_order(tmp_path: Path) -> None:
    assert declared_editions(SEEDS) == [r["edition_code"] for r in seed_rows(SEEDS, "editions.csv")]
    assert declared_editions(SEEDS)[:2] == ["2018", "2021"]
    with pytest.raises(IngestError, match="seed file is missing"):
        declared_editions(tmp_path)


def test_new_edition_stubs_keep_the_seeds_headers(tmp_path: Path) -> None:
    written = create_edition(tmp_path / "raw", SEEDS, "2031", "limesurvey_csv")
    stubs = {p.stem: p for p in written if p.parent.name == "seed_stubs"}
    for name in ("editions", "questions", "collectivity_aliases"):
        assert read_seed(stubs[name].parent, stubs[name].name).header == (
            read_seed(SEEDS, f"{name}.csv").header
        )
    assert read_seed(stubs["collectivity_aliases"].parent, "collectivity_aliases.csv").rows == ()


def test_new_edition_with_a_missing_seed_says_which_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = seeds_copy(tmp_path)
    (seeds / "question_crosswalk.csv").unlink()
    with pytest.raises(IngestError, match="seed file is missing"):
        create_edition(tmp_path / "raw", seeds, "2031", "limesurvey_csv")
    assert not (tmp_path / "raw" / "2031").exists()

    monkeypatch.setattr(new_edition_cli, "get_settings", lambda: temp_settings(tmp_path, seeds))
    assert main(["new-edition", "2031", "--layout", "limesurvey_csv"]) == 1
    err = capsys.readouterr().err
    assert "question_crosswalk.csv" in err and "seed file is missing" in err
    assert "Traceback" not in err


def test_dbt_failures_name_the_seed_line_of_a_failing_row(tmp_path: Path) -> None:
    _write(
        tmp_path / "themes.csv",
        'edition_code,theme_code,label_fr\n2018,T01,"Une\nthématique"\n2018,T02,Autre\n',
    )
    failure = dbt_failures.TestFailure(
        name="unique_themes_theme_code",
        status="fail",
        node="themes",
        node_type="seed",
        rule="theme_code is unique",
        fix="keep one row per theme_code",
        failures=1,
        columns=["THEME_CODE", "unknown"],
        rows=[("T02", "x")],
    )
    text = dbt_failures.render([failure], tmp_path)
    assert "seeds/themes.csv: [unique_themes_theme_code] 1 failing row(s)" in text
    assert "  - line 4: THEME_CODE=T02, unknown=x" in text
    # No seed folder, or a seed file that is not there: the rows without their line.
    assert "  - THEME_CODE=T02" in dbt_failures.render([failure], None)
    assert "  - THEME_CODE=T02" in dbt_failures.render([failure], tmp_path / "nowhere")
