"""`new-edition` manifest templates, one `<layout>.yml` per survey tool export layout.

A template is a manifest.yml with placeholders `{edition}`, `{folder}` and `{codes}`
(plain text replacement, so regular expressions keep their braces) and TODO marks for
the editor. tests/test_manifest_templates.py loads each one through the manifest model.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
LAYOUTS = tuple(sorted(p.stem for p in HERE.glob("*.yml")))
"""limesurvey_csv, surveymonkey_xlsx, qualtrics_csv, google_forms_csv, microsoft_forms_xlsx"""


def template_text(layout: str) -> str:
    """The raw template of `layout` (one of LAYOUTS)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    return (HERE / f"{layout}.yml").read_text(encoding="utf-8")
