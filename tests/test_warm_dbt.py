"""`barometre run`'s warm dbt process (barometre.transform.warm_dbt; docs/performance.md,
"Session 9: a warm dbt process"): the shim hands the build over to it, or runs the real
dbt when it cannot; exit codes and signals go through; the process serves one build, ends
with its parent and hands its parse state over as a build would have left it.

The process here is the real server with dbt's parse and command replaced (fast); the
real one runs in tests/test_pipeline.py (slow)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from barometre.common.settings import get_settings
from barometre.transform.dbt_shim import ENV_REAL_DBT, ENV_SOCKET
from barometre.transform.partial_parse import PARTIAL_PARSE
from barometre.transform.warm_dbt import (
    WarmDbt,
    announce,
    remove_abandoned,
    shim_executable,
    start_warm_dbt,
    take,
    withdraw,
)

SERVER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    import barometre.transform.warm_dbt_server as server

    def parse(folder, project, profiles):
        {parse}
        Path(folder, "partial_parse.msgpack").write_bytes(b"parsed")
        return type("Manifest", (), {{"env_vars": {{}}}})()

    def run_command(manifest, args):
        {run}

    server.parse, server.run_command = parse, run_command
    code = server.main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)
    """
)


def _fake_real_dbt(tmp_path: Path) -> Path:
    """Stands for the real dbt: says it ran, with its arguments, and exits with 3."""
    script = tmp_path / "dbt"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nprint('real dbt', *sys.argv[1:], flush=True)\n"
        "sys.exit(3)\n"
    )
    script.chmod(0o755)
    return script


def _warm(
    tmp_path: Path, *, parse: str = "pass", run: str = "return 0", cold: bool = True
) -> WarmDbt:
    """The real server with dbt's parse and command replaced by `parse` and `run`."""
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (project / "dbt_project.yml").write_text("name: p\n")
    folder = tmp_path / "target" / "warm-dbt-1-x"
    folder.mkdir(parents=True)
    sockets = tmp_path / "sockets"
    sockets.mkdir()
    code = SERVER.format(parse=parse, run=run)
    process = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-c",
            code,
            str(sockets / "s"),
            str(folder),
            str(project),
            str(project),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    return WarmDbt(process, folder, sockets, cold=cold, dbt_executable=_fake_real_dbt(tmp_path))


def _shim(
    warm: WarmDbt | None, tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen:
    variables = {**os.environ, **(env or {})}
    if warm is not None:
        variables.update(warm.environment())
    else:
        variables[ENV_REAL_DBT] = str(_fake_real_dbt(tmp_path))
    return subprocess.Popen(
        [str(shim_executable()), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=variables,
        text=True,
    )


def _ready(warm: WarmDbt, tmp_path: Path) -> None:
    assert warm.wait_parsed(tmp_path / "cache" / "key.msgpack", timeout=60) is not None


def test_the_shim_runs_the_real_dbt_without_a_warm_process(tmp_path: Path) -> None:
    shim = _shim(None, tmp_path, "build", "--select", "x")
    out, _ = shim.communicate(timeout=30)
    assert (shim.returncode, out) == (3, "real dbt build --select x\n")
    gone = _shim(None, tmp_path, "build", env={ENV_SOCKET: str(tmp_path / "no-such-socket")})
    assert gone.communicate(timeout=30)[0] == "real dbt build\n" and gone.returncode == 3


def test_the_build_runs_in_the_warm_process_once(tmp_path: Path) -> None:
    """dbt's output goes to the shim's stdout, its exit code is the shim's; the process
    then ends, and a second command finds no warm process: the real dbt runs."""
    run = "print('built', *args, os.getcwd() == os.environ['EXPECTED_CWD']); return 1"
    warm = _warm(tmp_path, run=run)
    try:
        _ready(warm, tmp_path)
        shim = _shim(warm, tmp_path, "build", "--full-refresh", env={"EXPECTED_CWD": os.getcwd()})
        out, _ = shim.communicate(timeout=30)
        assert (shim.returncode, out) == (1, "built build --full-refresh True\n")
        assert warm.outcome() == "served"
        assert warm.process.wait(timeout=10) == 0
        again = _shim(warm, tmp_path, "build")
        assert again.communicate(timeout=30)[0] == "real dbt build\n"
    finally:
        warm.close()


@pytest.mark.parametrize(
    "args, env, why",
    [
        (["build", "--vars", "{a: 1}"], {}, "arguments that change the parse"),
        (["docs", "generate"], {}, "not a build command"),
        (["build"], {"BAROMETRE_WAREHOUSE": "/elsewhere.duckdb"}, "environment changed"),
    ],
)
def test_a_build_the_parse_does_not_fit_runs_the_real_dbt(
    tmp_path: Path, args: list[str], env: dict[str, str], why: str
) -> None:
    warm = _warm(tmp_path, run="print('warm'); return 0")
    try:
        _ready(warm, tmp_path)
        shim = _shim(warm, tmp_path, *args, env=env)
        out, _ = shim.communicate(timeout=30)
        assert (shim.returncode, out) == (3, f"real dbt {' '.join(args)}\n")
        outcome = warm.outcome()
        assert outcome is not None and outcome.startswith("refused") and why in outcome
    finally:
        warm.close()


def test_a_project_changed_since_the_parse_runs_the_real_dbt(tmp_path: Path) -> None:
    warm = _warm(tmp_path, run="print('warm'); return 0")
    try:
        _ready(warm, tmp_path)
        (tmp_path / "project" / "models.sql").write_text("select 1")
        assert _shim(warm, tmp_path, "build").communicate(timeout=30)[0] == "real dbt build\n"
        assert "files changed" in (warm.outcome() or "")
    finally:
        warm.close()


SLEEPING_BUILD = textwrap.dedent(
    """
    print('started', flush=True)
    try:
        time.sleep(60)
    except KeyboardInterrupt:
        print('interrupted', flush=True)
        return 2
    return 0
    """
).replace("\n", "\n        ")
"""A build that waits to be interrupted (exit 2 then, as dbt), for `_warm(run=…)`."""


@pytest.mark.parametrize("number, code", [(signal.SIGINT, 2), (signal.SIGTERM, -signal.SIGTERM)])
def test_a_signal_to_the_shim_reaches_the_build(tmp_path: Path, number: int, code: int) -> None:
    """dagster-dbt's SIGINT (and Ctrl-C) interrupts dbt in the warm process as it would
    the real dbt (exit 2); SIGTERM kills it, and the shim dies of it in turn."""
    run = SLEEPING_BUILD
    warm = _warm(tmp_path, run=run)
    try:
        _ready(warm, tmp_path)
        shim = _shim(warm, tmp_path, "build")
        assert shim.stdout is not None
        assert shim.stdout.readline() == "started\n"
        shim.send_signal(number)
        out, _ = shim.communicate(timeout=30)
        assert shim.returncode == code
        if number == signal.SIGINT:
            assert out == "interrupted\n"
        assert warm.process.wait(timeout=10) is not None
    finally:
        warm.close()


def test_the_warm_process_ends_with_its_parent_pipe(tmp_path: Path) -> None:
    warm = _warm(tmp_path)
    _ready(warm, tmp_path)
    assert warm.process.stdin is not None
    warm.process.stdin.close()  # as when `barometre run` ends, or is killed
    assert warm.process.wait(timeout=10) == 0
    assert not (tmp_path / "sockets" / "s").exists()
    warm.close()
    assert not warm.folder.exists() and not warm.socket_dir.exists()


def test_a_build_interrupted_by_the_end_of_the_run(tmp_path: Path) -> None:
    """Its parent gone during a build: the build is interrupted, as by Ctrl-C."""
    run = SLEEPING_BUILD
    warm = _warm(tmp_path, run=run)
    _ready(warm, tmp_path)
    shim = _shim(warm, tmp_path, "build")
    assert shim.stdout is not None and shim.stdout.readline() == "started\n"
    assert warm.process.stdin is not None
    warm.process.stdin.close()
    out, _ = shim.communicate(timeout=30)
    assert (shim.returncode, out) == (2, "interrupted\n")
    warm.close()


def test_the_parse_state_is_handed_over(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "key.msgpack"
    warm = _warm(tmp_path)
    try:
        parsed = warm.wait_parsed(cache, timeout=60)
        assert parsed is not None and parsed.waited >= 0
        assert cache.read_bytes() == b"parsed"
    finally:
        warm.close()


def test_a_full_parse_never_replaces_a_state_saved_meanwhile(tmp_path: Path) -> None:
    cache = tmp_path / "key.msgpack"
    cache.write_bytes(b"saved by another run")
    warm = _warm(tmp_path, cold=True)
    try:
        assert warm.wait_parsed(cache, timeout=60) is not None
        assert cache.read_bytes() == b"saved by another run"
    finally:
        warm.close()


def test_a_failed_parse_hands_nothing_over(tmp_path: Path) -> None:
    cache = tmp_path / "key.msgpack"
    warm = _warm(tmp_path, parse="raise RuntimeError('bad yaml')")
    assert warm.wait_parsed(cache, timeout=60) is None
    assert not cache.exists()
    assert warm.process.poll() is not None  # stopped, and its folder removed
    assert not warm.folder.exists()


def test_a_late_parse_is_dropped(tmp_path: Path) -> None:
    warm = _warm(tmp_path, parse="time.sleep(60)")
    started = time.monotonic()
    assert warm.wait_parsed(tmp_path / "key.msgpack", timeout=0.5) is None
    assert time.monotonic() - started < 20
    assert warm.process.poll() is not None


def test_the_dbt_step_takes_the_announced_process_once(tmp_path: Path) -> None:
    cache = tmp_path / "key.msgpack"
    assert take(cache) is None  # nothing announced: dbt runs as before
    warm = _warm(tmp_path)
    try:
        announce(cache, warm)
        taken = take(cache)
        assert taken is not None and taken[0] is warm and taken[1].waited >= 0
        assert take(cache) is None  # taken once
    finally:
        warm.close()
        withdraw()


def test_only_a_duckdb_run_starts_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    cache = tmp_path / "key.msgpack"
    assert start_warm_dbt(dataclasses.replace(settings, target="postgres"), cache) is None
    monkeypatch.setenv("BAROMETRE_WARM_DBT", "off")
    assert start_warm_dbt(settings, cache) is None


def test_a_run_that_ends_before_dbt_leaves_no_process_running(monkeypatch) -> None:
    """`barometre run` stops its warm process whatever ends it before dbt (here: the
    instance cannot be opened), and no later step of this process takes it."""
    from barometre.serve.cli import run

    closed: list[bool] = []

    class Started:
        def close(self) -> None:
            closed.append(True)

    def no_instance(_settings: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(run, "start_warm_dbt", lambda _settings, _cache: Started())
    monkeypatch.setattr(run, "prepare_instance", no_instance)
    cache = Path("announced-by-an-earlier-step-of-this-run")
    announce(cache, Started())  # type: ignore[arg-type]
    with pytest.raises(OSError, match="disk full"):
        run._run(get_settings(), ["2018"], ["2018"], watch=None)  # type: ignore[arg-type]
    assert closed == [True]
    assert take(cache) is None  # withdrawn


def test_the_folders_of_killed_runs_are_removed(tmp_path: Path) -> None:
    """A run killed by SIGKILL leaves its folder; the next one removes it, never those
    of a live run (nor the older background parse's)."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    abandoned = tmp_path / f"warm-dbt-{dead.pid}-abc123"
    older = tmp_path / f"preparse-{dead.pid}-abc123"
    live = tmp_path / f"warm-dbt-{os.getpid()}-def456"
    other = tmp_path / "partial_parse"
    for folder in (abandoned, older, live, other):
        folder.mkdir()
        (folder / PARTIAL_PARSE).write_bytes(b"x")
    remove_abandoned(tmp_path)
    assert not abandoned.exists() and not older.exists()
    assert live.exists() and other.exists()


@pytest.mark.slow
def test_the_dbt_step_takes_the_handed_over_state_as_its_own(tmp_path: Path, monkeypatch) -> None:
    """A real warm process's parse (dbt's own parse of the project, from dbtRunner), handed
    over, is the state dbt accepts when it runs as the dbt step runs it (dagster-dbt's
    environment, another target folder): when the warm process cannot take the build,
    the real dbt then skips parsing ("no changes found")."""
    from barometre.transform.dbt_assets import partial_parse_cache

    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("BAROMETRE_WAREHOUSE", str(warehouse))
    settings = dataclasses.replace(get_settings(), warehouse=warehouse)
    cache = partial_parse_cache(warehouse, "duckdb")
    cache.unlink(missing_ok=True)
    warm = start_warm_dbt(settings, cache)
    assert warm is not None
    try:
        assert warm.wait_parsed(cache) is not None
        assert not warehouse.exists()  # the parse never opened the warehouse
        step = tmp_path / "step-target"
        step.mkdir()
        shutil.copy(cache, step / PARTIAL_PARSE)  # as the dbt step restores it
        project = str(settings.dbt_project_dir)
        env = {  # what dagster-dbt sets for the step's dbt (DbtCliResource.cli)
            **os.environ,
            "DAGSTER_DBT_CLI": "true",
            "PYTHONUNBUFFERED": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_LOG_FORMAT": "json",
            "DBT_TARGET_PATH": str(step),
            "DBT_LOG_PATH": str(step),
            "DBT_PROFILES_DIR": str(settings.dbt_profiles_dir),
            "DBT_PROJECT_DIR": project,
        }
        done = subprocess.run(
            [str(settings.dbt_executable), "parse", "--log-format-file", "debug"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-2000:]
        log = (step / "dbt.log").read_text()
        assert "no changes found, skipping parsing" in log
        assert "Unable to do partial parsing" not in log
    finally:
        warm.close()
        cache.unlink(missing_ok=True)


RELEASE = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    import barometre.transform.warm_dbt_server as server

    project, folder = Path(sys.argv[1]), Path(sys.argv[2])

    def duckdb_files():
        found = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                found.append(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                pass
        return sorted(Path(f).name for f in found if ".duckdb" in f)

    manifest = server.parse(folder, project, project)
    args = ["build", "--select", "stg_raw__answers", "--project-dir", str(project),
            "--profiles-dir", str(project), "--target-path", str(folder / "build")]
    sys.argv = ["dbt", *args]
    code = server.run_command(manifest, args)
    print(code, duckdb_files())
    server.release_connections()
    print(duckdb_files())
    """
)


@pytest.mark.slow
def test_the_warehouse_is_closed_before_the_exit_code_is_sent(
    sample_warehouse: Path, tmp_path: Path
) -> None:
    """dbt-duckdb keeps its database open after an invocation (closed at exit, which the
    warm process skips): it is closed, its WAL folded in, before the shim is told the
    build ended (the next step opens the warehouse at once)."""
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(sample_warehouse, warehouse)
    settings = get_settings()
    done = subprocess.run(
        [sys.executable, "-c", RELEASE, str(settings.dbt_project_dir), str(tmp_path / "t")],
        env={**os.environ, "BAROMETRE_WAREHOUSE": str(warehouse)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    after_build, after_release = done.stdout.strip().splitlines()[-2:]
    assert after_build.startswith("0 ") and "w.duckdb" in after_build  # what is fixed
    assert after_release == "[]"
    assert not (tmp_path / "w.duckdb.wal").exists()


def test_the_states_of_warehouses_unused_for_a_month_are_forgotten(tmp_path: Path) -> None:
    """One parse state per warehouse path: those no build saved for 30 days go (tests,
    benchmarks and deleted warehouses would otherwise leave ~2 MB each forever)."""
    from barometre.transform.partial_parse import forget_unused, save_partial_parse

    folder = tmp_path / "partial_parse"
    folder.mkdir()
    old, recent = folder / "old.msgpack", folder / "recent.msgpack"
    for state in (old, recent):
        state.write_bytes(b"state")
    month_ago = time.time() - 31 * 86400
    os.utime(old, (month_ago, month_ago))
    other = folder / "notes.txt"
    other.write_text("not a state")
    os.utime(other, (month_ago, month_ago))
    step = tmp_path / "step"
    step.mkdir()
    (step / PARTIAL_PARSE).write_bytes(b"new state")
    assert save_partial_parse(step, folder / "this.msgpack")  # saving prunes the rest
    assert sorted(p.name for p in folder.iterdir()) == [
        "notes.txt",
        "recent.msgpack",
        "this.msgpack",
    ]
    assert forget_unused(folder) == []


def test_an_oversized_request_is_refused_unread(tmp_path: Path) -> None:
    """The warm process reads a bounded request (MAX_REQUEST_BYTES) and refuses a larger
    one without reading it: the shim's side then runs the real dbt."""
    import socket
    import struct

    from barometre.transform.dbt_shim import REFUSED
    from barometre.transform.warm_dbt_server import MAX_REQUEST_BYTES

    warm = _warm(tmp_path, run="print('warm'); return 0")
    try:
        _ready(warm, tmp_path)
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.settimeout(30)
        client.connect(warm.environment()[ENV_SOCKET])
        with client, open(os.devnull, "wb") as sink:
            socket.send_fds(client, [b"F"], [sink.fileno(), sink.fileno()])
            client.sendall(struct.pack("!I", MAX_REQUEST_BYTES + 1))
            answer = client.recv(4096)
        assert answer.startswith(REFUSED) and b"over the limit" in answer, answer
        outcome = warm.outcome()
        assert outcome is not None and outcome.startswith("refused"), outcome
    finally:
        warm.close()
