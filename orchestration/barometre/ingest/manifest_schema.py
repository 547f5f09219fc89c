"""The JSON Schema of manifest.yml, generated from the model (docs/manifest.schema.json).

Editors use it to complete and check a manifest as it is typed: the templates of
`barometre new-edition` start with `# yaml-language-server: $schema=…` for the YAML
language server (VS Code's YAML extension, and others). Regenerate after changing the
model: `python -m barometre.ingest.manifest_schema`; a test checks the committed file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from barometre.common.settings import PROJECT_ROOT
from barometre.ingest.manifest import Manifest

SCHEMA_PATH = PROJECT_ROOT / "docs" / "manifest.schema.json"


def schema_text() -> str:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **Manifest.model_json_schema(by_alias=True),
    }
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    target = Path((argv or sys.argv[1:] or [str(SCHEMA_PATH)])[0])
    target.write_text(schema_text(), encoding="utf-8")
    print(f"written: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
