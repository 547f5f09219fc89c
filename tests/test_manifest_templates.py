"""The manifest model's published forms: the `new-edition` templates of every survey tool
load through it, and docs/manifest.schema.json is generated from it and usable by editors."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from barometre.common.settings import PROJECT_ROOT
from barometre.ingest.fingerprint import edition_state
from barometre.ingest.manifest import read_manifest
from barometre.ingest.manifest_schema import SCHEMA_PATH, schema_text
from barometre.ingest.new_edition import LAYOUTS, create_edition

SEEDS = PROJECT_ROOT / "seeds"
SHAPES = {
    # layout: (format, header_rows, names_row, wording_row, questions.by, completeness column)
    "limesurvey_csv": ("csv", 1, 1, None, "code", "submitdate"),
    "surveymonkey_xlsx": ("xlsx", 2, 1, None, "wording", "End Date"),
    "qualtrics_csv": ("csv", 3, 1, 2, "map", "Finished"),
    "google_forms_csv": ("csv", 1, 1, None, "wording", "Horodateur"),
    "microsoft_forms_xlsx": ("xlsx", 1, 1, None, "wording", "Heure de fin"),
}


def test_every_layout_has_a_template() -> None:
    assert set(LAYOUTS) == set(SHAPES)


@pytest.mark.parametrize("layout", sorted(SHAPES))
def test_template_loads_through_the_model(tmp_path: Path, layout: str) -> None:
    create_edition(tmp_path, SEEDS, "2031", layout)
    folder = tmp_path / "2031"
    manifest_path = folder / "manifest.yml"
    text = manifest_path.read_text(encoding="utf-8")
    assert "{edition}" not in text and "{codes}" not in text and "TODO" in text

    # As written (TODOs left): the model accepts it and the sensor waits for the export.
    manifest = read_manifest(folder)
    fmt, header_rows, names_row, wording_row, by, complete = SHAPES[layout]
    assert (manifest.layout, manifest.format, manifest.header_rows) == (layout, fmt, header_rows)
    assert (manifest.names_row, manifest.wording_row, manifest.question_mapping) == (
        names_row,
        wording_row,
        by,
    )
    assert manifest.completeness_rule.column == complete
    assert manifest.read_spec().header_rows == header_rows
    state = edition_state(folder)
    assert state.fingerprint is None and state.waiting == f"waiting for TODO_export_2031.{fmt}"

    # TODOs filled: still valid, and valid for editors too (the published schema).
    filled = text.replace("TODO_export_2031", "export").replace("TODO ", "").replace("TODO_", "")
    manifest_path.write_text(filled, encoding="utf-8")
    assert read_manifest(folder).files == [f"export.{fmt}"]
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.validate(yaml.safe_load(filled), schema)


def test_a_template_the_model_refuses_is_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from barometre.ingest import new_edition

    good = new_edition.template_text("limesurvey_csv")
    monkeypatch.setattr(
        new_edition, "template_text", lambda layout: good.replace("by: code", "by: colour")
    )
    with pytest.raises(ValueError, match=r"not a valid manifest.*questions\.by"):
        create_edition(tmp_path, SEEDS, "2031", "limesurvey_csv")
    assert not (tmp_path / "2031").exists()


def test_templates_point_editors_to_the_schema(tmp_path: Path) -> None:
    # data/raw/<edition>/manifest.yml → ../../../docs/manifest.schema.json
    for layout in LAYOUTS:
        create_edition(tmp_path, SEEDS, f"e{layout}", layout)
        first = (tmp_path / f"e{layout}" / "manifest.yml").read_text(encoding="utf-8")
        comment = first.splitlines()[0]
        assert comment.startswith("# yaml-language-server: $schema=")
        relative = comment.split("$schema=", 1)[1]
        assert (PROJECT_ROOT / "data" / "raw" / "2021" / relative).resolve() == SCHEMA_PATH


def test_committed_schema_is_generated_from_the_model() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "docs/manifest.schema.json is stale: run `python -m barometre.ingest.manifest_schema`"
    )


def test_existing_manifests_are_valid_for_editors_and_the_model() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    folders = [p.parent for p in (PROJECT_ROOT / "data" / "raw").glob("*/manifest.yml")]
    folders += [p.parent for p in (PROJECT_ROOT / "tests" / "corpus").rglob("manifest.yml")]
    assert len(folders) >= 20
    for folder in folders:
        raw = yaml.safe_load((folder / "manifest.yml").read_text(encoding="utf-8"))
        jsonschema.validate(raw, schema)
        assert read_manifest(folder).edition == raw["edition"]


def test_to_yaml_reads_back_to_the_same_model(tmp_path: Path) -> None:
    """What writers of manifests (the sample generator) write is what the model reads."""
    folders = [p.parent for p in (PROJECT_ROOT / "data" / "raw").glob("*/manifest.yml")]
    folders += [p.parent for p in (PROJECT_ROOT / "tests" / "corpus").rglob("manifest.yml")]
    for folder in folders:
        manifest = read_manifest(folder)
        copy = tmp_path / folder.name
        copy.mkdir(exist_ok=True)
        text = manifest.to_yaml("a comment\n\nover lines")
        assert text.startswith("# a comment\n#\n# over lines\n")
        (copy / "manifest.yml").write_text(text, encoding="utf-8")
        again = read_manifest(copy)
        assert again.model_dump() == manifest.model_dump(), folder
        assert again.model_fields_set == manifest.model_fields_set, folder


def test_schema_rejects_what_the_model_rejects() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    raw = yaml.safe_load((PROJECT_ROOT / "data" / "raw" / "2021" / "manifest.yml").read_text())
    for bad in ({"delimiter": ";;"}, {"answers": {"encoding": "codes", "codes": [1]}}, {"x": 1}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**raw, **bad}, schema)
