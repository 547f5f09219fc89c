"""The dbt project keeps its conventions: portable SQL, described marts, docs that build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from barometre.common.settings import PROJECT_ROOT
from tests.conftest import run_dbt

MODELS = PROJECT_ROOT / "models"

# DuckDB-only syntax that must stay behind an adapter.dispatch macro (dbt_project/macros).
DUCKDB_ONLY = {
    "cast with ::": r"::",
    "QUALIFY": r"\bqualify\b",
    "GROUP/ORDER BY ALL": r"\b(group|order)\s+by\s+all\b",
    "SELECT * EXCLUDE/REPLACE": r"\*\s*(exclude|replace)\s*\(",
    "list functions": r"\blist_\w+\s*\(",
    "regexp_* functions": r"\bregexp_\w+\s*\(",
    "strftime/strptime": r"\bstr[fp]time\s*\(",
    "median/quantile (use the median macro)": r"(?<!\{\{ )\b(median|quantile_cont)\s*\(",
    "try_cast": r"\btry_cast\s*\(",
}


def _sql_without_comments(path: Path) -> str:
    text = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
    return re.sub(r"\{#.*?#\}", "", text, flags=re.S)


@pytest.mark.parametrize(
    "path", sorted(MODELS.rglob("*.sql")), ids=lambda p: str(p.relative_to(MODELS))
)
def test_models_use_portable_sql(path: Path) -> None:
    sql = _sql_without_comments(path).lower()
    found = [name for name, pattern in DUCKDB_ONLY.items() if re.search(pattern, sql)]
    assert not found, f"{path.name}: {found} — put it behind an adapter.dispatch macro"


MART_FOLDERS = {MODELS / "marts", MODELS / "marts" / "restricted"}


def test_yaml_layout_and_every_mart_column_described() -> None:
    """One YAML per folder (staging, intermediate, core); in the mart folders one YAML per
    model, named after it and describing only it, plus the folder's `_exposures.yml`
    (CONTRIBUTING.md)."""
    for folder in {p.parent for p in MODELS.rglob("*.sql")} - MART_FOLDERS:
        assert len(list(folder.glob("*.yml"))) == 1, folder
    for folder in MART_FOLDERS:
        models = {p.stem for p in folder.glob("*.sql")}
        assert {p.name for p in folder.glob("*.yml")} == {f"{m}.yml" for m in models} | {
            "_exposures.yml"
        }, folder
        assert set(yaml.safe_load((folder / "_exposures.yml").read_text(encoding="utf-8"))) == {
            "version",
            "exposures",
        }
        for name in models:
            entry = yaml.safe_load((folder / f"{name}.yml").read_text(encoding="utf-8"))
            assert set(entry) <= {"version", "models", "unit_tests"}, name
            assert [m["name"] for m in entry["models"]] == [name]
            assert all(u["model"] == name for u in entry.get("unit_tests") or []), name
            model = entry["models"][0]
            assert model["config"]["contract"]["enforced"] is True, name
            for column in model["columns"]:
                assert column.get("description", "").strip(), (name, column["name"])
                assert column.get("data_type"), (name, column["name"])


@pytest.mark.slow
def test_dbt_docs_generate(sample_warehouse: Path, tmp_path: Path) -> None:
    result = run_dbt(sample_warehouse, "docs", "generate", "--target-path", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "catalog.json").is_file() and (tmp_path / "index.html").is_file()
