"""Editions are folders: `data/raw/<edition>/manifest.yml`. Discovery lives here."""

from __future__ import annotations

from pathlib import Path

from barometre.ingest.manifest import MANIFEST_NAME


def discover_editions(data_dir: Path) -> list[str]:
    """Edition codes of the folders under `data_dir` that hold a manifest, sorted."""
    if not data_dir.is_dir():
        return []
    return sorted(
        p.name for p in data_dir.iterdir() if p.is_dir() and (p / MANIFEST_NAME).is_file()
    )
