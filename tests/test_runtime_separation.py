"""The runtime package (`barometre`) stands without the development tools (`barometre_dev`:
the synthetic sample and benchmark generator): none of its modules imports them, and
the CLI and the Dagster code location load with them missing."""

from __future__ import annotations

import ast
import subprocess
import sys

from barometre.common.settings import PROJECT_ROOT

RUNTIME = PROJECT_ROOT / "orchestration" / "barometre"
DEV = "barometre_dev"


def _imported_modules(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_runtime_module_imports_the_dev_package() -> None:
    modules = sorted(RUNTIME.rglob("*.py"))
    assert len(modules) > 40
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in modules
        if any(
            m == DEV or m.startswith(f"{DEV}.")
            for m in _imported_modules(path.read_text(encoding="utf-8"))
        )
    ]
    assert offenders == []
    assert not (RUNTIME / "sample").exists()


BLOCKED_IMPORT = """
import sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name == "barometre_dev" or name.startswith("barometre_dev."):
            raise ImportError(f"{name} is development tooling, absent from the runtime")
        return None

sys.meta_path.insert(0, Refuse())
import barometre.serve.cli
import barometre.definitions
assert not any(m.startswith("barometre_dev") for m in sys.modules)
print(len(barometre.definitions.defs.resolve_all_job_defs()))
"""


def test_cli_and_code_location_load_without_the_dev_package() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCKED_IMPORT], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip()) >= 2
