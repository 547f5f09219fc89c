"""The runtime package is split by pipeline stage (docs/architecture.md, "Code layout"):
a stage imports earlier stages and common/, never a later one, so the folders read in
the order the data flows."""

from __future__ import annotations

import ast
from pathlib import Path

from barometre.common.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "orchestration" / "barometre"
STAGES = ["common", "ingest", "validate", "transform", "publish", "serve"]
"""In the order the data flows; common/ comes before every stage."""


def _imported(path: Path) -> set[str]:
    """Every barometre module a file imports, at module top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.split(".")[0] == "barometre"}


def test_a_stage_never_imports_a_later_stage() -> None:
    later: list[str] = []
    for rank, stage in enumerate(STAGES):
        for path in sorted((PACKAGE / stage).rglob("*.py")):
            for module in _imported(path):
                parts = module.split(".")
                if len(parts) > 1 and parts[1] in STAGES and STAGES.index(parts[1]) > rank:
                    later.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert later == []


def test_the_package_top_level_holds_only_the_code_location() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    # instance_storage: named by module path in existing DAGSTER_HOME/dagster.yaml files
    assert top == ["__init__.py", "definitions.py", "instance_storage.py"]
    folders = sorted(
        p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()
    )
    assert folders == sorted([*STAGES, "engines"])
