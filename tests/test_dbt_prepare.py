"""The dbt manifest is prepared by dagster-dbt's own preparation: at install time (`make
setup`, `barometre prepare`) and by `barometre ui` when a dbt file changed since, never
when the code location loads (`dagster dev` included). The preparation itself (dbt
parse) is dagster-dbt's; these tests check when it is asked for, with it replaced by a
recorder."""

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


def test_loading_the_code_never_prepares_even_under_dagster_dev(
    prepared: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import barometre.transform.dbt_project

    monkeypatch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
    importlib.reload(barometre.transform.dbt_project)
    monkeypatch.setenv("DAGSTER_IS_DEV_CLI", "1")
    importlib.reload(barometre.transform.dbt_project)
    assert prepared == []


def test_a_dbt_file_newer_than_the_manifest_makes_it_stale(tmp_path: Path) -> None:
    from barometre.transform.dbt_manifest import stale_reason

    project = tmp_path / "dbt_project"
    (project / "macros").mkdir(parents=True)
    (tmp_path / "models" / "core").mkdir(parents=True)
    (project / "dbt_project.yml").write_text('model-paths: ["../models"]\n', encoding="utf-8")
    (project / "profiles.yml").write_text("{}\n", encoding="utf-8")
    model = tmp_path / "models" / "core" / "fct.sql"
    model.write_text("select 1\n", encoding="utf-8")
    assert "missing" in (stale_reason(project) or "")
    manifest = project / "target" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text("{}", encoding="utf-8")
    for path in (project / "dbt_project.yml", project / "profiles.yml", model):
        os.utime(path, (1_000_000, 1_000_000))
    os.utime(manifest, (2_000_000, 2_000_000))
    assert stale_reason(project) is None
    os.utime(model, (3_000_000, 3_000_000))  # an edited model (found under ../models)
    assert str(model.resolve()) in (stale_reason(project) or "")


@pytest.mark.parametrize("stale", [None, "models/x.sql changed since the manifest was prepared"])
def test_ui_prepares_once_before_starting_dagster_only_when_the_manifest_is_stale(
    stale: str | None, prepared: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import barometre.transform.dbt_manifest
    from barometre.serve.cli import ui

    started: list[dict[str, list[str]]] = []
    monkeypatch.setattr(barometre.transform.dbt_manifest, "stale_reason", lambda _project: stale)
    monkeypatch.setattr(ui, "ensure_instance_config", lambda _dagster_home: None)
    monkeypatch.setattr(
        ui, "run_services", lambda commands, *_a, **_kw: started.append(commands) or 0
    )
    assert cli.main(["ui", "--port", "3999"]) == 0
    assert prepared == ([get_settings().dbt_project_dir] if stale else [])
    [commands] = started
    assert sorted(commands) == ["code server", "daemon", "web server"]
    assert "barometre.definitions" in commands["code server"]
    assert "3999" in commands["web server"]


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
