"""Large sheets read by worker processes beside the reading process: the same table, the
same errors, bounded blocks in flight, and a clear error (never a hang) when a worker dies.

The sheets here are small; `PARALLEL_FROM` is lowered so that they take the workers' path.
"""

from __future__ import annotations

import hashlib

import duckdb
import pytest

from barometre.ingest import read_xlsx, xlsx_workers
from barometre.ingest.errors import IngestError
from barometre.ingest.read_export import read_export
from tests.hostile.xlsx_craft import MAIN_NS, build_xlsx, shared_strings_xml
from tests.test_xlsx_stream import SHARED, SPEC, _expected, _sheet, _table


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Workers for any sheet; the test sets BAROMETRE_XLSX_WORKERS."""
    monkeypatch.setattr(xlsx_workers, "PARALLEL_FROM", 0)
    return monkeypatch


@pytest.fixture
def outcomes(parallel: pytest.MonkeyPatch) -> list[xlsx_workers.Outcome]:
    """Every block after the header goes to a worker; what the workers answered."""
    parallel.setattr(xlsx_workers, "IN_FLIGHT", 10_000)
    seen: list[xlsx_workers.Outcome] = []
    outcome = xlsx_workers.Worker.outcome

    def recorded(self):
        seen.append(outcome(self))
        return seen[-1]

    parallel.setattr(xlsx_workers.Worker, "outcome", recorded)
    return seen


def _read(path, workers: int, monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple], int]:
    monkeypatch.setenv(xlsx_workers.ENV_WORKERS, str(workers))
    con = duckdb.connect()
    table = read_export(con, path, SPEC, "t")
    physical = con.execute("SELECT * FROM t").fetchall()  # the spool's order
    assert physical == sorted(physical)
    return _table(con), table.rows_read


@pytest.mark.parametrize("prefix", ["", "x"])  # "x": every block through the XML parser
@pytest.mark.parametrize("workers", [1, 2])
def test_a_sheet_read_with_workers_is_the_sheet_read_alone(
    tmp_path, parallel: pytest.MonkeyPatch, prefix: str, workers: int
) -> None:
    rows = 6_000  # ~3.5 MiB of XML: several blocks, every form of cell in each
    path = build_xlsx(
        tmp_path / "big.xlsx", _sheet(rows, prefix), shared=shared_strings_xml(SHARED)
    )
    submitted: list[int] = []
    submit = xlsx_workers.Worker.submit

    def counted(self, seq, block):
        submitted.append(seq)
        submit(self, seq, block)
        assert len(self.in_flight) <= xlsx_workers.IN_FLIGHT  # bounded: a few blocks each

    parallel.setattr(xlsx_workers.Worker, "submit", counted)
    alone = _read(path, 0, parallel)
    assert submitted == []
    assert _read(path, workers, parallel) == alone == (_expected(rows), rows)
    assert submitted  # some blocks went to a worker (the others were read here)


def _text(r: int) -> str:
    # varied text, so the zip's compression ratio stays low
    return "".join(hashlib.sha256(f"{r}-{i}".encode()).hexdigest() for i in range(8))


def _numberless_sheet(rows: int) -> bytes:
    """Rows that do not say their number (`<row>`), so a block's first row depends on the
    block before."""
    body = [
        '<row><c t="inlineStr"><is><t>id</t></is></c><c t="inlineStr"><is><t>v</t></is></c></row>'
    ]
    body += [
        f'<row><c><v>{r}</v></c><c t="inlineStr"><is><t>{_text(r)}</t></is></c></row>'
        for r in range(2, rows + 2)
    ]
    return (
        f'<worksheet xmlns="{MAIN_NS}"><sheetData>{"".join(body)}</sheetData></worksheet>'.encode()
    )


def test_rows_without_numbers_keep_their_numbers(
    tmp_path, parallel: pytest.MonkeyPatch, outcomes: list[xlsx_workers.Outcome]
) -> None:
    rows = 5_000  # ~2.7 MiB: blocks whose first row's number only the block before knows
    path = build_xlsx(tmp_path / "n.xlsx", _numberless_sheet(rows))
    alone = _read(path, 0, parallel)
    assert alone[0][:2] == [(2, "2", _text(2)), (3, "3", _text(3))]
    assert alone[0][-1][0] == rows + 1
    assert _read(path, 1, parallel) == alone
    assert outcomes and all(o.unnumbered for o in outcomes)  # each read again here, in order


def _sheet_with(late_row: str, rows: int = 6_000) -> bytes:
    """The many-blocks sheet with `late_row` put after the last row (a worker's block)."""
    return _sheet(rows).replace(b"</sheetData>", late_row.encode() + b"</sheetData>")


@pytest.mark.parametrize(
    ("late_row", "problem", "row"),
    [
        (
            '<row r="7"><c r="A7"><v>7</v></c></row>',
            "sheet row 7 comes after row 6001: rows are out of order",
            7,
        ),
        (
            '<row r="6002"><c r="A6002"><v>1</v></c><c r="ZZ6002"><v>1</v></c></row>',
            "a row has a value beyond the last header column (16)",
            6002,
        ),
    ],
)
def test_an_error_in_a_workers_block_is_the_same_error(
    tmp_path,
    parallel: pytest.MonkeyPatch,
    outcomes: list[xlsx_workers.Outcome],
    late_row: str,
    problem: str,
    row: int,
) -> None:
    path = build_xlsx(tmp_path / "e.xlsx", _sheet_with(late_row), shared=shared_strings_xml(SHARED))
    errors = []
    for workers in (0, 1):
        parallel.setenv(xlsx_workers.ENV_WORKERS, str(workers))
        with pytest.raises(IngestError) as caught:
            read_export(duckdb.connect(), path, SPEC, "t")
        errors.append(caught.value)
    assert [(e.problem, e.row) for e in errors] == [(problem, row)] * 2
    assert str(errors[0]) == str(errors[1])
    assert outcomes[-1].error is not None or late_row.startswith('<row r="7"')


def test_a_cell_only_openpyxl_renders_in_a_workers_block_takes_the_exact_reader(
    tmp_path, parallel: pytest.MonkeyPatch, outcomes: list[xlsx_workers.Outcome]
) -> None:
    """An ISO date cell (`t="d"`) met by a worker sends the whole sheet to openpyxl, as in
    one process."""
    rows = 5_000
    body = [
        '<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>v</t></is></c></row>'
    ]
    body += [
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c>'
        f'<c r="B{r}" t="inlineStr"><is><t>{_text(r)}</t></is></c></row>'
        for r in range(2, rows + 2)
    ]
    body.append(
        f'<row r="{rows + 2}"><c r="A{rows + 2}" t="d"><v>2021-03-04T00:00:00</v></c></row>'
    )
    sheet = f'<worksheet xmlns="{MAIN_NS}"><sheetData>{"".join(body)}</sheetData></worksheet>'
    path = build_xlsx(tmp_path / "d.xlsx", sheet.encode())
    read_alone = _read(path, 0, parallel)
    assert read_alone[0][-1] == (rows + 2, "2021-03-04 00:00:00", "")
    assert _read(path, 1, parallel) == read_alone
    assert outcomes[-1].exact  # a worker met the cell


def test_a_worker_that_dies_is_a_clear_error_not_a_hang(
    tmp_path, parallel: pytest.MonkeyPatch
) -> None:
    path = build_xlsx(tmp_path / "k.xlsx", _sheet(6_000), shared=shared_strings_xml(SHARED))
    submit = xlsx_workers.Worker.submit

    def killed(self, seq, block):
        submit(self, seq, block)
        self.process.kill()  # as the OOM killer or an operator would

    parallel.setattr(xlsx_workers.Worker, "submit", killed)
    parallel.setenv(xlsx_workers.ENV_WORKERS, "1")
    with pytest.raises(IngestError) as caught:
        read_export(duckdb.connect(), path, SPEC, "t")
    assert caught.value.problem.startswith("the XLSX reader's worker process stopped (exit code")
    assert "BAROMETRE_XLSX_WORKERS=0" in (caught.value.hint or "")


def test_workers_are_stopped_after_an_error(tmp_path, parallel: pytest.MonkeyPatch) -> None:
    path = build_xlsx(
        tmp_path / "e.xlsx",
        _sheet_with('<row r="7"><c r="A7"><v>7</v></c></row>'),
        shared=shared_strings_xml(SHARED),
    )
    started: list[xlsx_workers.Worker] = []
    init = xlsx_workers.Worker.__init__

    def tracked(self, *args):
        init(self, *args)
        started.append(self)

    parallel.setattr(xlsx_workers.Worker, "__init__", tracked)
    parallel.setenv(xlsx_workers.ENV_WORKERS, "2")
    with pytest.raises(IngestError):
        read_export(duckdb.connect(), path, SPEC, "t")
    assert len(started) == 2 and all(w.process.poll() is not None for w in started)


@pytest.mark.parametrize("value", ["-1", "two", "9"])
def test_an_unusable_worker_setting_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(xlsx_workers.ENV_WORKERS, value)
    with pytest.raises(IngestError, match="BAROMETRE_XLSX_WORKERS"):
        xlsx_workers.worker_count()


def test_small_sheets_one_cpu_and_busy_cores_use_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(xlsx_workers.ENV_WORKERS, raising=False)
    monkeypatch.setattr(xlsx_workers.os, "sched_getaffinity", lambda _: {0})
    assert xlsx_workers.worker_count() == 0
    monkeypatch.setattr(xlsx_workers.os, "sched_getaffinity", lambda _: {0, 1})
    monkeypatch.setattr(xlsx_workers.os, "getloadavg", lambda: (0.4, 0.0, 0.0))
    assert xlsx_workers.worker_count() == 1
    monkeypatch.setattr(xlsx_workers.os, "getloadavg", lambda: (1.5, 0.0, 0.0))
    assert xlsx_workers.worker_count() == 1
    monkeypatch.setattr(xlsx_workers.os, "getloadavg", lambda: (2.5, 0.0, 0.0))
    assert xlsx_workers.worker_count() == 0  # every core busy: a worker would only add work
    monkeypatch.setattr(xlsx_workers.os, "sched_getaffinity", lambda _: set(range(8)))
    assert xlsx_workers.worker_count() == 2  # 2.5 of 8 cores busy
    assert xlsx_workers.PARALLEL_FROM >= 4 << 20  # the sample and the tests' sheets: one process
    assert read_xlsx.worker_count is xlsx_workers.worker_count


def test_a_worker_that_cannot_start_leaves_the_read_to_one_process(
    tmp_path, parallel: pytest.MonkeyPatch
) -> None:
    path = build_xlsx(tmp_path / "s.xlsx", _sheet(3_000), shared=shared_strings_xml(SHARED))
    alone = _read(path, 0, parallel)
    parallel.setattr(xlsx_workers.sys, "executable", str(tmp_path / "no-such-python"))
    assert _read(path, 2, parallel) == alone
