"""The main job end to end: `barometre run` on the bundled sample, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import duckdb
import pytest

from barometre.common.settings import PROJECT_ROOT
from tests.factories import Response, seed_questions, write_limesurvey

BAROMETRE = str(Path(sys.executable).with_name("barometre"))


SILENCE_LIMIT = 600.0
"""A run that prints nothing for this long is stuck: the test fails. A run that keeps
printing progress (ingestions, dbt's node counts) may take longer on a loaded machine."""
TOTAL_LIMIT = 3 * 3600.0
"""A backstop for a run that prints forever."""


def barometre(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """`barometre ARGS` to completion, failing it if it stays silent SILENCE_LIMIT seconds
    (a hang), however long it takes while it progresses (a loaded machine)."""
    proc = subprocess.Popen(
        [BAROMETRE, *args],
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out: list[str] = []
    err: list[str] = []
    last = [time.monotonic()]

    def read(stream: IO[str], into: list[str]) -> None:
        for line in stream:
            into.append(line)
            last[0] = time.monotonic()

    readers = [
        threading.Thread(target=read, args=(proc.stdout, out), daemon=True),
        threading.Thread(target=read, args=(proc.stderr, err), daemon=True),
    ]
    for reader in readers:
        reader.start()
    began = time.monotonic()
    while proc.poll() is None:
        now = time.monotonic()
        if now - last[0] > SILENCE_LIMIT or now - began > TOTAL_LIMIT:
            proc.kill()
            proc.wait()
            pytest.fail(
                f"`barometre {' '.join(args)}` printed nothing for {now - last[0]:.0f} s "
                f"(after {now - began:.0f} s):\n" + "".join(out + err)[-3000:]
            )
        time.sleep(1)
    for reader in readers:
        reader.join()
    return subprocess.CompletedProcess(proc.args, proc.returncode, "".join(out), "".join(err))


@pytest.mark.slow
def test_main_job_loads_both_editions_and_builds_dbt(tmp_path: Path) -> None:
    env = {
        "BAROMETRE_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "BAROMETRE_REPORT_DIR": str(tmp_path / "report"),
        # Never the project's own published copy: tests touch only their temp folders.
        "BAROMETRE_PUBLISHED_DIR": str(tmp_path / "published"),
    }
    # Started from another directory on purpose: no path depends on the working directory.
    result = barometre("run", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # The transform job refreshed the HTML report from the new publication.
    assert (tmp_path / "report" / "2021" / "index.html").is_file()
    assert "2018" in result.stdout and "2021" in result.stdout
    assert str(tmp_path / "w.duckdb") in result.stdout
    assert "barometre ui" in result.stdout
    # dbt's long output goes to the run log; the terminal shows its summaries.
    assert "dbt: Done. PASS=" in result.stdout and "START sql" not in result.stdout
    [log] = (tmp_path / "logs").glob("run-*.log")
    assert "START sql incremental model core.fct_answers" in log.read_text(encoding="utf-8")

    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    counts = dict(
        con.execute(
            "SELECT edition_code, count(DISTINCT respondent_id) FROM core.fct_answers GROUP BY 1"
        ).fetchall()
    )
    answers = dict(
        con.execute("SELECT edition_code, count(*) FROM core.fct_answers GROUP BY 1").fetchall()
    )
    con.close()
    assert counts == {"2018": 39, "2021": 34}
    assert answers == {
        "2018": 39 * len(seed_questions("2018")),
        "2021": 34 * len(seed_questions("2021")),
    }
    # The runs are in the Dagster instance the UI reads, each ingestion tagged with the
    # content it loaded (so the sensor's first tick does not load it again).
    from dagster import DagsterInstance, RunsFilter

    from barometre.ingest.fingerprint import edition_state
    from barometre.ingest.runs import CONTENT_TAG

    with DagsterInstance.from_config(str(tmp_path / "dagster")) as instance:
        runs = instance.get_runs(RunsFilter(job_name="ingest_edition"))
        tagged = {r.tags["dagster/partition"]: r.tags.get(CONTENT_TAG) for r in runs}
        # A cold run: its dbt build ran in the run's warm dbt process (parsed meanwhile).
        [transform] = instance.get_runs(RunsFilter(job_name="transform"))
        messages = [e.user_message for e in instance.all_logs(transform.run_id)]
    assert any("the build ran in this run's warm dbt process" in m for m in messages), messages
    assert not list((PROJECT_ROOT / "dbt_project" / "target").glob("warm-dbt-*"))
    assert tagged == {
        e: edition_state(PROJECT_ROOT / "data" / "raw" / e).fingerprint for e in ("2018", "2021")
    }

    # Run again, nothing changed: no edition is loaded again, dbt still builds and publishes.
    again = barometre("run", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    for edition in ("2018", "2021"):
        assert f"[ingest] edition {edition}: unchanged since its load" in again.stdout
    assert "[dbt] build and publish: ok" in again.stdout
    # A warm run too (the warehouse's parse state checked by dbt in the warm process).
    with DagsterInstance.from_config(str(tmp_path / "dagster")) as instance:
        last = instance.get_runs(RunsFilter(job_name="transform"), limit=1)[0]
        messages = [e.user_message for e in instance.all_logs(last.run_id)]
    assert any("the build ran in this run's warm dbt process" in m for m in messages), messages


@pytest.mark.slow
def test_failed_edition_is_reported_without_traceback(tmp_path: Path) -> None:
    data = tmp_path / "raw"
    write_limesurvey(data / "2021", [Response("Bordeaux Métropole", "METRO", answer="A7")])
    env = {
        "BAROMETRE_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "BAROMETRE_DATA_DIR": str(data),
    }
    result = barometre("run", "--edition", "2021", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "answer not known to the manifest" in result.stderr
    assert "What to do" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_validate_reports_rows_and_exit_status(tmp_path: Path) -> None:
    folder = write_limesurvey(
        tmp_path / "raw" / "2021",
        [Response("Bordeaux Métropole", "METRO"), Response("Nowhere-sur-Mer", "COM")],
    )
    env = {"BAROMETRE_WAREHOUSE": str(tmp_path / "w.duckdb")}
    refused = barometre("validate", str(folder), env=env, cwd=tmp_path)
    assert refused.returncode == 1
    assert (
        "row 3, column 'Collectivité', value 'Nowhere-sur-Mer': [unknown_collectivity]"
        in refused.stdout
    )
    assert "NOT LOADABLE" in refused.stderr
    accepted = barometre("validate", str(folder), "--max-bad-share", "0.5", env=env, cwd=tmp_path)
    assert accepted.returncode == 0, accepted.stderr
    assert "would load 1 respondents" in accepted.stdout
    assert not (tmp_path / "w.duckdb").exists()


def test_validate_bundled_sample_is_loadable() -> None:
    for edition in ("2018", "2021"):
        result = barometre(
            "validate", str(PROJECT_ROOT / "data" / "raw" / edition), env={}, cwd=PROJECT_ROOT
        )
        assert result.returncode == 0, result.stdout + result.stderr
