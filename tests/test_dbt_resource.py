"""The dbt resource's reading of dbt's output (barometre.transform.dbt_resource.DrainedPipe):
dbt never waits for Dagster to store the events of its earlier lines, every line reaches
Dagster in order, and leaving early never blocks."""

from __future__ import annotations

import subprocess
import sys
import time

from barometre.transform.dbt_resource import BarometreDbtCliResource, DrainedPipe

LINES = 5_000
"""~500 KiB of output: far more than a pipe holds (64 KiB)."""

WRITER = (
    f"import sys\nfor i in range({LINES}):\n"
    "    sys.stdout.write(f'line {i:05d} ' + 'x' * 90 + '\\n')\n"
)


def _child() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER], stdout=subprocess.PIPE)


def test_the_child_finishes_before_its_lines_are_read_and_none_is_lost() -> None:
    process = _child()
    pipe = DrainedPipe(process.stdout)
    # a plain pipe would hold the child at its 64 KiB until someone reads
    assert process.wait(timeout=60) == 0
    with pipe:
        lines = list(pipe)
    assert len(lines) == LINES
    assert [int(line.split()[1]) for line in lines] == list(range(LINES))
    assert lines[0].endswith(b"x\n")


def test_leaving_early_never_blocks_the_child_or_the_reader() -> None:
    process = _child()
    pipe = DrainedPipe(process.stdout)
    with pipe:
        first = next(iter(pipe))
    assert first.startswith(b"line 00000")
    assert pipe.closed and list(pipe) == []
    assert process.wait(timeout=60) == 0  # its other lines were read and dropped


def test_the_resource_hands_dagster_dbt_the_drained_pipe(monkeypatch) -> None:
    from dagster_dbt import DbtCliResource

    from barometre.common.settings import get_settings

    started: list[DrainedPipe] = []

    class Invocation:
        def __init__(self) -> None:
            self.process = _child()

    monkeypatch.setattr(DbtCliResource, "cli", lambda self, args, **kwargs: Invocation())
    settings = get_settings()
    resource = BarometreDbtCliResource(
        project_dir=str(settings.dbt_project_dir), dbt_executable=str(settings.dbt_executable)
    )
    invocation = resource.cli(["build"])
    started.append(invocation.process.stdout)
    assert isinstance(started[0], DrainedPipe)
    began = time.monotonic()
    assert invocation.process.wait(timeout=60) == 0
    assert len(list(started[0])) == LINES
    assert time.monotonic() - began < 60


def test_dbt_writes_its_log_file_as_a_bare_build_does(monkeypatch) -> None:
    """dagster-dbt's JSON log lines on stdout, but dbt.log in dbt's own text format: the
    flag is added once, and a caller's own choice is kept."""
    from dagster_dbt import DbtCliResource

    from barometre.common.settings import get_settings

    seen: list[list[str]] = []

    class Invocation:
        def __init__(self) -> None:
            self.process = subprocess.Popen([sys.executable, "-c", "pass"], stdout=None)

    def cli(self, args, **kwargs):
        seen.append(list(args))
        return Invocation()

    monkeypatch.setattr(DbtCliResource, "cli", cli)
    settings = get_settings()
    resource = BarometreDbtCliResource(
        project_dir=str(settings.dbt_project_dir), dbt_executable=str(settings.dbt_executable)
    )
    resource.cli(["build", "--exclude-resource-type", "unit_test"]).process.wait(timeout=60)
    resource.cli(["build", "--log-format-file", "json"]).process.wait(timeout=60)
    assert seen == [
        ["build", "--exclude-resource-type", "unit_test", "--log-format-file", "debug"],
        ["build", "--log-format-file", "json"],
    ]
