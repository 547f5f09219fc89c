"""Operations that fail cleanly: a second writer, a full disk, a damaged publication,
Ctrl-C; and no personal data at rest (quarantine values, file names, file modes).

Every case asserts the exact outcome: the message (one line, no traceback), the exit
status, and that the published data did not change. Temp dirs and env settings only."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from barometre.common.settings import PROJECT_ROOT
from barometre.publish.publication import check_publication, current_version, publish
from barometre.serve import cli
from tests.factories import Response, write_limesurvey
from tests.test_publish import make_working

HOLD = r"""
import sys, time
from pathlib import Path
from barometre.common.writer_lock import writer_lock

with writer_lock(Path(sys.argv[1]), "barometre run --edition 2021"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    paths = {
        "data": tmp_path / "raw",
        "warehouse": tmp_path / "wh" / "barometre.duckdb",
        "published": tmp_path / "wh" / "published",
        "dagster": tmp_path / "dagster",
    }
    monkeypatch.setenv("BAROMETRE_DATA_DIR", str(paths["data"]))
    monkeypatch.setenv("BAROMETRE_WAREHOUSE", str(paths["warehouse"]))
    monkeypatch.setenv("BAROMETRE_PUBLISHED_DIR", str(paths["published"]))
    monkeypatch.setenv("DAGSTER_HOME", str(paths["dagster"]))
    monkeypatch.setenv("BAROMETRE_WRITER_WAIT_SECONDS", "0.5")
    paths["warehouse"].parent.mkdir(parents=True)
    make_working(paths["warehouse"])
    return paths


def _snapshot(published: Path) -> tuple:
    return os.readlink(published / "current"), (published / "published.json").read_bytes()


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def holder(env: dict[str, Path]):
    """Another process holding the writer lock of the working warehouse."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(env["warehouse"]), "60"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


# --------------------------------------------------------------------------- one writer


def test_second_writer_refuses_in_one_line_naming_the_holder(env, holder, capsys) -> None:
    write_limesurvey(env["data"] / "2021", [Response("Bordeaux Métropole", "METRO")])
    before = _snapshot(publish(env["warehouse"], env["published"]).published_dir)
    for command in (["run"], ["publish"]):
        started = time.monotonic()
        assert cli.main(command) == 1
        assert time.monotonic() - started >= 0.5  # waited BAROMETRE_WRITER_WAIT_SECONDS
        captured = capsys.readouterr()
        line = _one_error_line(captured.err)
        assert f"is being written by pid {holder.pid} (barometre run --edition 2021), since " in (
            line
        )
        assert "waited 0 s (BAROMETRE_WRITER_WAIT_SECONDS)" in line or "waited 1 s" in line
        assert "waiting (up to 0 s) for pid" in captured.out
    assert _snapshot(env["published"]) == before
    # status does not open the file meanwhile (a reader would break the writer).
    assert cli.main(["status"]) == 0
    assert f"being written by pid {holder.pid}" in capsys.readouterr().out


def test_dagster_steps_take_the_lock_and_fail_cleanly(env, holder) -> None:
    from dagster import materialize

    from barometre.common.resources import WarehouseResource
    from barometre.publish.asset import published_warehouse

    result = materialize(
        [published_warehouse],
        resources={"warehouse": WarehouseResource(warehouse=str(env["warehouse"]))},
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    description = failure.step_failure_data.user_failure_data.description
    assert f"being written by pid {holder.pid} (barometre run --edition 2021)" in description
    assert current_version(env["published"]) is None


def test_lock_is_reentrant_and_released(env) -> None:
    from barometre.common.writer_lock import WarehouseBusy, read_holder, writer_lock

    with writer_lock(env["warehouse"], "outer"), writer_lock(env["warehouse"], "inner"):
        assert read_holder(env["warehouse"]).command == "outer"
    # Released: another process takes it at once.
    proc = subprocess.run(
        [sys.executable, "-c", HOLD, str(env["warehouse"]), "0"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "held"
    assert WarehouseBusy.__doc__


def test_an_inner_holder_closed_after_the_outer_one_is_harmless(env) -> None:
    # Ctrl-C leaves an asset body suspended inside the run's lock; the garbage collector
    # closes it after `barometre run` released the lock (the CI failure of session 2).
    import contextlib

    from barometre.common.writer_lock import writer_lock

    outer = contextlib.ExitStack()
    outer.enter_context(writer_lock(env["warehouse"], "outer"))
    inner = writer_lock(env["warehouse"], "inner")
    inner.__enter__()
    outer.close()
    inner.__exit__(None, None, None)
    with writer_lock(env["warehouse"], "again"):  # taken afresh, not as a re-entry
        assert (
            subprocess.run(
                [sys.executable, "-c", HOLD, str(env["warehouse"]), "0"], capture_output=True
            ).returncode
            != 0
        )


def test_run_summary_is_derived_from_the_load_log() -> None:
    from barometre.serve.cli.run import _ingest_outcome

    old = (("export.csv", "aa", "2025-01-01 10:00:00"),)
    new = (("export.csv", "bb", "2025-02-01 10:00:00"),)
    assert _ingest_outcome("2021", True, old, new, "")[0] == "loaded"
    kind, line = _ingest_outcome("2021", False, old, new, "row_contract failed")
    assert kind == "replaced_but_failed"
    assert "raw rows WERE replaced (load of 2025-02-01 10:00:00)" in line
    kind, line = _ingest_outcome("2021", False, old, old, "bad export")
    assert kind == "kept" and "its previous load of 2025-01-01 10:00:00 is kept" in line
    kind, line = _ingest_outcome("2021", False, (), (), "bad export")
    assert kind == "kept" and "it had never been loaded" in line
    # The lock file could not be read: nobody claims the previous load is kept.
    assert _ingest_outcome("2021", False, old, None, "x")[0] == "replaced_but_failed"


# --------------------------------------------------------------------------- disk full


class _FullDisk:
    """A log file on a full disk: the first write fails with ENOSPC."""

    def __init__(self) -> None:
        self._fd = os.open(os.devnull, os.O_WRONLY)

    def fileno(self) -> int:
        return self._fd

    def write(self, _text: str) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def test_full_disk_stops_the_log_not_the_run(tmp_path: Path, monkeypatch, capfd) -> None:
    from barometre.common import run_log

    monkeypatch.setattr(run_log, "_open_log", lambda _path: _FullDisk())
    log = run_log.new_log_path(tmp_path / "logs")
    with run_log.captured(log):
        print("1 of 2 START sql table model core.x")
        print("Done. PASS=2 WARN=0 ERROR=0 SKIP=0 TOTAL=2")
        os.write(2, b"dagster noise on fd 2\n")
    captured = capfd.readouterr()
    assert captured.out == "  dbt: Done. PASS=2 WARN=0 ERROR=0 SKIP=0 TOTAL=2\n"
    assert captured.err == (
        f"warning: the run log stops here: disk full while writing {log}: free space on "
        "that disk (or point the setting at another one), then run the command again. "
        "The run goes on; its progress stays on this terminal.\n"
    )


def test_full_disk_while_publishing_changes_nothing(env, monkeypatch, capsys) -> None:
    from barometre.publish import publication as publishing

    before = _snapshot(publish(env["warehouse"], env["published"]).published_dir)

    def full(path: Path, _data) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(publishing, "_write_json", full)
    assert cli.main(["publish"]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "publishing failed: disk full while writing " in line and "published.json" in line
    assert "the previous publication (version " in line and "is unchanged" in line
    assert _snapshot(env["published"]) == before
    monkeypatch.undo()
    # Space freed: the next publish is fine.
    os.environ.update(
        BAROMETRE_WAREHOUSE=str(env["warehouse"]), BAROMETRE_PUBLISHED_DIR=str(env["published"])
    )
    assert cli.main(["publish"]) == 0
    assert check_publication(env["published"])[1] is None


def test_os_errors_reach_the_user_as_one_line(env, monkeypatch, capsys) -> None:
    from barometre.serve import status

    def full(_warehouse) -> str:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/data/warehouse/x.duckdb")

    monkeypatch.setattr(status, "warehouse_summary", full)
    assert cli.main(["status"]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith("error: disk full while writing /data/warehouse/x.duckdb: free")


# --------------------------------------------------------------------------- damaged


def _truncate(published: Path) -> None:
    target = (published / "current" / "published.json").resolve()
    target.chmod(0o644)
    target.write_text('{"version": "2025', encoding="utf-8")


def _garbage(published: Path) -> None:
    target = (published / "current" / "published.json").resolve()
    target.chmod(0o644)
    target.write_bytes(b"\x00\xff not json")


def _dangle(published: Path) -> None:
    (published / "current").unlink()
    (published / "current").symlink_to("versions/20000101T000000.000000Z")


def _corrupt_db(published: Path) -> None:
    target = (published / "barometre.duckdb").resolve()
    target.chmod(0o644)
    size = target.stat().st_size
    with target.open("r+b") as handle:
        handle.seek(4096)
        handle.write(os.urandom(size - 4096))


def _truncate_db(published: Path) -> None:
    target = (published / "barometre.duckdb").resolve()
    target.chmod(0o644)
    os.truncate(target, 10)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_truncate, "published.json cannot be read (JSONDecodeError"),
        (_garbage, "published.json cannot be read (UnicodeDecodeError"),
        (_dangle, "points to versions/20000101T000000.000000Z, where published.json is missing"),
        (_corrupt_db, "barometre.duckdb cannot be read ("),
        (_truncate_db, "barometre.duckdb cannot be read ("),
    ],
)
def test_damaged_publication_is_reported_then_repaired(
    env, tmp_path: Path, capsys, damage, expected
) -> None:
    publish(env["warehouse"], env["published"])
    damage(env["published"])

    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    (line,) = [x for x in out.splitlines() if x.startswith("Published for BI")]
    assert line.startswith("Published for BI: DAMAGED: the published state is damaged: ")
    assert expected in line and "the next `barometre publish`" in line

    assert cli.main(["export", "--out", str(tmp_path / "out")]) == 1
    error = _one_error_line(capsys.readouterr().err)
    assert error.startswith("error: nothing exported: the published state is damaged: ")
    assert not (tmp_path / "out").exists()

    from barometre.common.settings import get_settings
    from barometre.serve.cli.publication import unchanged_publication_note

    assert "the published state is damaged" in unchanged_publication_note(get_settings())

    assert cli.main(["publish"]) == 0  # repairs
    capsys.readouterr()
    current, problem = check_publication(env["published"])
    assert problem is None and current is not None
    assert cli.main(["export", "--out", str(tmp_path / "out")]) == 0
    assert cli.main(["status"]) == 0
    assert "DAMAGED" not in capsys.readouterr().out


def test_current_replaced_by_a_folder_is_repaired(env) -> None:
    publish(env["warehouse"], env["published"])
    (env["published"] / "current").unlink()
    (env["published"] / "current").mkdir()
    assert "damaged" in check_publication(env["published"])[1]
    version = publish(env["warehouse"], env["published"])
    assert check_publication(env["published"]) == (version, None)


# --------------------------------------------------------------------------- personal data


def test_quarantine_stores_personal_cells_masked(tmp_path: Path, capsys) -> None:
    from barometre.ingest.load import load_edition

    folder = write_limesurvey(
        tmp_path / "raw" / "2021",
        [
            Response("Bordeaux Métropole", "METRO"),
            Response("Nantes Métropole", "METRO"),
            Response("jean.dupont@example.fr", "METRO"),
            Response("Ville de Paris", "COM", submitted="06 12 34 56 78"),
            Response("Métropole Européenne de Lille", "METRO", submitted="192.168.10.12"),
            Response("Bordeaux Métropolle", "METRO"),
        ],
    )
    warehouse = tmp_path / "w.duckdb"
    load_edition(folder, warehouse, PROJECT_ROOT / "seeds", max_bad_share=1.0)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        stored = con.execute(
            "SELECT source_file, source_row, column_name, value, check_name "
            "FROM raw.quarantine ORDER BY source_row"
        ).fetchall()
        text = " ".join(
            str(v) for row in con.execute("SELECT * FROM raw.quarantine").fetchall() for v in row
        )
    finally:
        con.close()
    # Rows count the header: the third response is row 4.
    values = {(row[1], row[2]): row[3] for row in stored}
    assert values == {
        (4, "Collectivité"): "email:sha256:" + _sha8("jean.dupont@example.fr"),
        (5, "submitdate"): "phone:sha256:" + _sha8("06 12 34 56 78"),
        (6, "submitdate"): "ip:sha256:" + _sha8("192.168.10.12"),
        (7, "Collectivité"): "Bordeaux Métropolle",  # not personal: kept, it is what to fix
    }
    assert all(row[0] == "export.csv" and row[2] and row[4] for row in stored)
    for clear in ("jean.dupont", "example.fr", "06 12 34", "192.168"):
        assert clear not in text

    # validate shows the same masked values.
    assert cli.main(["validate", str(folder), "--max-bad-share", "1"]) == 0
    out = capsys.readouterr().out
    assert "email:sha256:" in out and "jean.dupont" not in out and "06 12 34" not in out


def _sha8(value: str) -> str:
    import hashlib

    return hashlib.sha256(value.encode()).hexdigest()[:8]


def test_personal_patterns_spare_ordinary_cells() -> None:
    from barometre.ingest.personal import mask_value

    for ordinary in (
        "200093201",
        "2021-01-15 10:22:33",
        "01.02.2021 10:15",
        "10:22:33",
        "A7",
        "Métropole Européenne de Lille",
        "+01:00",
        "",
    ):
        assert mask_value(ordinary) == ordinary
    for personal, kind in (
        ("+33 6 12 34 56 78", "phone"),
        ("0612345678", "phone"),
        ("+44 20 7946 0958", "phone"),
        ("fe80::1", "ip"),
        ("contact: a.b@c.org", "email"),
    ):
        assert mask_value(personal).startswith(f"{kind}:sha256:")
    # Linear time (RE2): a long hostile cell is answered at once.
    started = time.monotonic()
    mask_value("a" * 200_000 + "@" + "b." * 50_000)
    assert time.monotonic() - started < 5


def _ingest_export_named_after_a_person(
    tmp_path: Path, response: Response
) -> tuple[bool, str, Path]:
    """Ingest one response from `jean-dupont-export.csv` through the Dagster asset:
    (success, the run's whole event log as text, the warehouse)."""
    from dagster import DagsterInstance, materialize

    from barometre.common.resources import WarehouseResource
    from barometre.ingest.assets import raw_edition

    folder = write_limesurvey(tmp_path / "raw" / "2021", [response])
    (folder / "export.csv").rename(folder / "jean-dupont-export.csv")
    manifest = folder / "manifest.yml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("export.csv", "jean-dupont-export.csv"),
        encoding="utf-8",
    )
    warehouse = tmp_path / "w.duckdb"
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("edition", ["2021"])
        result = materialize(
            [raw_edition],
            partition_key="2021",
            instance=instance,
            raise_on_error=False,
            resources={
                "warehouse": WarehouseResource(
                    data_dir=str(tmp_path / "raw"), warehouse=str(warehouse)
                )
            },
        )
        # the run's whole event log, metadata and failure messages included
        stored = " ".join(str(entry) for entry in instance.all_logs(result.run_id))
    return result.success, stored, warehouse


def test_file_names_stay_in_the_working_file(tmp_path: Path) -> None:
    success, stored, warehouse = _ingest_export_named_after_a_person(
        tmp_path, Response("Bordeaux Métropole", "METRO")
    )
    assert success
    assert "jean-dupont" not in stored and "2021/file-1" in stored
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE SCHEMA marts; CREATE TABLE marts.m AS SELECT 1 AS x")
    con.close()
    version = publish(warehouse, tmp_path / "published")
    text = (tmp_path / "published" / "published.json").read_text(encoding="utf-8")
    assert "jean-dupont" not in text
    (source,) = version.sources
    assert source["file"] == "2021/file-1" and len(source["content_sha256"]) == 64


def test_working_files_are_owner_only_published_ones_readable(env, tmp_path) -> None:
    from barometre.common.run_log import captured, new_log_path
    from barometre.common.writer_lock import lock_path, spill_folder, writer_lock
    from barometre.serve.cli.instance import ensure_instance_config

    old = os.umask(0o022)
    try:
        env["warehouse"].chmod(0o644)
        with writer_lock(env["warehouse"], "test", keep_dir_searchable=True):
            pass
        log = new_log_path(env["warehouse"].parent / "logs")
        with captured(log):
            print("x")
        ensure_instance_config(env["dagster"])
        os.umask(0o077)  # what `barometre run` sets: publishing must still open up its files
        version = publish(env["warehouse"], env["published"])
    finally:
        os.umask(old)

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(env["warehouse"]) == 0o600
    assert mode(lock_path(env["warehouse"])) == 0o600
    assert mode(spill_folder(env["warehouse"])) == 0o700  # before DuckDB makes it 0755
    assert mode(env["warehouse"].parent) == 0o711  # the published folder lives inside
    assert mode(log.parent) == 0o700 and mode(log) == 0o600
    assert mode(env["dagster"]) == 0o700 and mode(env["dagster"] / "dagster.yaml") == 0o600
    assert mode(env["published"]) == 0o755 and mode(env["published"] / "versions") == 0o755
    assert mode(version.directory) == 0o755 and mode(version.directory / "parquet") == 0o755
    assert mode(version.path.resolve()) == 0o444
    with writer_lock(tmp_path / "elsewhere" / "w.duckdb", "test"):
        assert mode(tmp_path / "elsewhere") == 0o700


# --------------------------------------------------------------------------- Ctrl-C


def _start_run(env, tmp_path: Path) -> tuple[subprocess.Popen, Path, object]:
    """`barometre run` on the bundled sample (fresh warehouse, a publication in place),
    in a session of its own; its output file and the publication's snapshot before."""
    shutil.copytree(PROJECT_ROOT / "data" / "raw", env["data"])
    env["warehouse"].unlink()
    publish(make_working(tmp_path / "other.duckdb"), env["published"])
    before = _snapshot(env["published"])
    out = tmp_path / "run.out"
    with out.open("w") as handle:
        run = subprocess.Popen(
            [str(Path(sys.executable).with_name("barometre")), "run"],
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C signals the whole foreground group
            env={**os.environ, "BAROMETRE_WRITER_WAIT_SECONDS": "5"},
        )
    return run, out, before


def _the_one_interrupt_line(out: Path) -> str:
    """The run's output: no traceback, and one error line, the interruption's."""
    text = out.read_text()
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: interrupted (Ctrl-C)"), text
    return errors[0]


@pytest.mark.slow
def test_ctrl_c_during_a_run_prints_one_line_and_keeps_the_warehouse_whole(
    env, tmp_path: Path
) -> None:
    run, out, before = _start_run(env, tmp_path)
    deadline = time.monotonic() + 240
    while "[ingest] edition 2021…" not in out.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    os.killpg(run.pid, signal.SIGINT)
    assert run.wait(timeout=120) == 130
    _the_one_interrupt_line(out)
    assert _snapshot(env["published"]) == before
    # Consistent: every loaded edition reconciles, no half-loaded one.
    from barometre.ingest.verify import verify_reconciliation

    con = duckdb.connect(str(env["warehouse"]), read_only=True)
    editions = [
        e for (e,) in con.execute("SELECT DISTINCT edition_code FROM raw.load_log").fetchall()
    ]
    con.close()
    assert "2018" in editions
    for edition in editions:
        assert verify_reconciliation(env["warehouse"], edition).passed


def _warm_processes(run_pid: int) -> list[int]:
    """The warm dbt process of the `barometre run` `run_pid` (its folder names the run)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"warm_dbt_server" in cmdline and f"warm-dbt-{run_pid}-".encode() in cmdline:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_ctrl_c_during_the_dbt_build_stops_dbt_and_the_warm_process(env, tmp_path: Path) -> None:
    """The build runs in the run's warm dbt process (barometre.transform.warm_dbt): Ctrl-C
    reaches dbt there through the shim, the run ends with one line, and nothing of dbt
    is left running or on disk."""
    run, out, before = _start_run(env, tmp_path)
    logs = env["warehouse"].parent / "logs"
    deadline = time.monotonic() + 300
    started = False
    while not started and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
        started = any("START sql" in log.read_text() for log in logs.glob("run-*.log"))
    assert started, out.read_text()
    warm = _warm_processes(run.pid)
    assert warm, "the build should run in the warm dbt process"
    os.killpg(run.pid, signal.SIGINT)
    assert run.wait(timeout=120) == 130
    error = _the_one_interrupt_line(out)
    assert "during dbt build or publish" in error
    assert _snapshot(env["published"]) == before
    assert _warm_processes(run.pid) == []
    target = PROJECT_ROOT / "dbt_project" / "target"
    assert not list(target.glob(f"warm-dbt-{run.pid}-*"))


def test_a_failed_ingestion_stores_no_file_name_nor_personal_value(tmp_path: Path) -> None:
    # An unknown answer token refuses the whole edition: its message names file and value.
    success, stored, _ = _ingest_export_named_after_a_person(
        tmp_path,
        Response("Bordeaux Métropole", "METRO", overrides={"T01[SQ001]": "jean@dupont.fr"}),
    )
    assert not success
    assert "answer not known to the manifest" in stored
    assert "2021/file-1" in stored and "email:sha256:" in stored
    assert "jean-dupont" not in stored and "jean@dupont.fr" not in stored
    assert "barometre validate" in stored


def test_an_interrupt_swallowed_by_dagster_is_still_seen() -> None:
    # Dagster's capture_interrupts() only sets a flag, and clears it on leaving: a Ctrl-C
    # landing there would be lost and `barometre run` would go on to the next phase.
    from dagster._utils.interrupts import capture_interrupts

    from barometre.common.interrupt_watch import InterruptWatch

    with InterruptWatch() as watch:
        assert not watch.received()
        with capture_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert watch.received() and watch.received()  # sticky
    with InterruptWatch() as fresh:
        assert not fresh.received()
