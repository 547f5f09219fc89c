"""Throw-away copies of the project for dbt-level tests: seeds CSV edits, a seeds copy,
settings pointing at temp folders, and `dbt build` on a copy of the dbt project.

dbt_project.yml reads ../models and ../seeds, so a copy holds dbt_project/, models/ and
the seeds side by side; the working project (its target/, its warehouse) is never touched.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

from barometre.common.settings import PROJECT_ROOT, Settings, get_settings
from tests.factories import SEEDS


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> None:
    header = header or list(rows[0])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def append_rows(path: Path, rows: list[dict[str, str]]) -> None:
    """Append `rows` to a seed CSV, in the order of its header."""
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.DictWriter(handle, fieldnames=header, lineterminator="\n").writerows(rows)


def seeds_copy(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    return seeds


def temp_settings(tmp_path: Path, seeds: Path) -> Settings:
    """Settings whose data, warehouse, Dagster home and published copy are under tmp_path."""
    real = get_settings()
    return Settings(
        data_dir=tmp_path / "raw",
        warehouse=tmp_path / "wh" / "w.duckdb",
        seeds_dir=seeds,
        dbt_project_dir=real.dbt_project_dir,
        dagster_home=tmp_path / "dagster",
        published_dir=tmp_path / "published",
    )


def project_copy(tmp_path: Path, seeds: Path) -> Path:
    """dbt_project/ and models/ copied beside `seeds`; the copy's dbt project folder."""
    root = tmp_path / "project"
    shutil.copytree(
        PROJECT_ROOT / "dbt_project",
        root / "dbt_project",
        ignore=shutil.ignore_patterns("target", "logs"),
    )
    shutil.copytree(PROJECT_ROOT / "models", root / "models")
    shutil.copytree(seeds, root / "seeds")
    return root / "dbt_project"


def dbt_build_copy(tmp_path: Path, seeds: Path, warehouse: Path) -> subprocess.CompletedProcess:
    """`dbt build` of a project copy holding `seeds`, into `warehouse`."""
    from tests.conftest import run_dbt

    return run_dbt(warehouse, "build", "--quiet", project=project_copy(tmp_path, seeds))
