"""The dbt project keeps its conventions: portable SQL, described marts, docs that build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from barometre.settings import PROJECT_ROOT
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


def test_one_yaml_per_folder_and_every_mart_column_described() -> None:
    for folder in {p.parent for p in MODELS.rglob("*.sql")}:
        assert len(list(folder.glob("*.yml"))) == 1, folder
    marts = yaml.safe_load((MODELS / "marts" / "_marts.yml").read_text(encoding="utf-8"))
    for model in marts["models"]:
        assert model["config"]["contract"]["enforced"] is True, model["name"]
        for column in model["columns"]:
            assert column.get("description", "").strip(), (model["name"], column["name"])
            assert column.get("data_type"), (model["name"], column["name"])


@pytest.mark.slow
def test_dbt_docs_generate(sample_warehouse: Path, tmp_path: Path) -> None:
    result = run_dbt(sample_warehouse, "docs", "generate", "--target-path", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "catalog.json").is_file() and (tmp_path / "index.html").is_file()
