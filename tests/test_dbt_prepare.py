"""The dbt manifest is prepared by dagster-dbt's own preparation: at install time (`make
setup`, `barometre prepare`) and on code load under `dagster dev` only, never when the
code location loads elsewhere. The preparation itself (dbt parse) is dagster-dbt's; these
tests check when it is asked for, with it replaced by a recorder."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster_dbt import DbtProject
from dagster_dbt.dbt_project import DagsterDbtProjectPreparer
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from barometre.common.settings import PROJECT_ROOT, get_settings
from barometre.serve import cli


@pytest.fixture(autouse=True)
def _process_state() -> Iterator[None]:
    """`barometre prepare` sets the umask and exports the settings: undo both after."""
    environ, umask = dict(os.environ), os.umask(0o022)
    os.umask(umask)
    yield
    os.umask(umask)
    os.environ.clear()
    os.environ.update(environ)


@pytest.fixture
def prepared(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []

    def record(self: DagsterDbtProjectPreparer, project: DbtProject) -> None:
        calls.append(project.project_dir)

    monkeypatch.setattr(DagsterDbtProjectPreparer, "prepare", record)
    return calls


def test_loading_the_code_never_prepares_outside_dagster_dev(
    prepared: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import barometre.transform.dbt_project

    monkeypatch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
    importlib.reload(barometre.transform.dbt_project)
    assert prepared == []
    monkeypatch.setenv("DAGSTER_IS_DEV_CLI", "1")
    importlib.reload(barometre.transform.dbt_project)
    assert prepared == [get_settings().dbt_project_dir]


def test_prepare_verb_runs_dagster_dbt_preparation(
    prepared: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["prepare"]) == 0
    assert prepared == [get_settings().dbt_project_dir]
    assert "dbt manifest ready" in capsys.readouterr().out


def test_prepare_verb_tells_a_parse_failure_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(self: DagsterDbtProjectPreparer, project: object) -> None:
        raise DagsterDbtCliRuntimeError("The dbt CLI process with command\n\n`dbt parse`")

    monkeypatch.setattr(DagsterDbtProjectPreparer, "prepare", fail)
    assert cli.main(["prepare"]) == 1
    err = capsys.readouterr().err
    assert "dbt could not parse the project" in err and "barometre prepare" in err
    assert "Traceback" not in err


def test_makefile_prepares_with_dagster_dbt() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "dagster-dbt project prepare-and-package" in makefile
    assert "--file orchestration/barometre/transform/dbt_project.py" in makefile
    assert (PROJECT_ROOT / "orchestration" / "barometre" / "transform" / "dbt_project.py").is_file()
