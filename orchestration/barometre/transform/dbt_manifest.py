"""Is the prepared dbt manifest older than the dbt files it was parsed from?

The manifest is prepared at install time (`make setup`, `barometre prepare`), never when
the code location loads. `barometre ui` asks this before starting Dagster, so an
edited model is parsed once, before the UI starts, instead of on every code load (the
UI would otherwise serve only after a dbt parse, and every run it launched would parse
again). The same files as the Makefile's dependencies of the manifest: the project and
profile YAML and the model, seed, macro and test folders that dbt_project.yml names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

# dbt's defaults, for a path key dbt_project.yml leaves out
PATH_KEYS = {
    "model-paths": ["models"],
    "seed-paths": ["seeds"],
    "macro-paths": ["macros"],
    "test-paths": ["tests"],
    "snapshot-paths": ["snapshots"],
    "analysis-paths": ["analyses"],
}


def manifest_path(project_dir: Path) -> Path:
    """The manifest the code location reads for the configured target (one per adapter
    family: Settings.dbt_target_path)."""
    from barometre.common.settings import get_settings

    return project_dir / get_settings().dbt_target_path / "manifest.json"


def source_files(project_dir: Path, keys: Iterable[str] = tuple(PATH_KEYS)) -> Iterator[Path]:
    """The dbt project's own files: dbt_project.yml, profiles.yml and every file under
    the folders of `keys` (dbt_project.yml's path keys; dbt's defaults where it has none)."""
    import yaml

    project_file = project_dir / "dbt_project.yml"
    yield project_file
    yield project_dir / "profiles.yml"
    try:
        config = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        config = {}
    for key in keys:
        default = PATH_KEYS[key]
        folders = config.get(key, default) if isinstance(config, dict) else default
        for folder in folders if isinstance(folders, list) else default:
            root = (project_dir / str(folder)).resolve()
            if root.is_dir():
                yield from (p for p in root.rglob("*") if p.is_file())


def stale_reason(project_dir: Path) -> str | None:
    """Why the manifest must be prepared again (missing, or a dbt file is newer than
    it), or None when it is up to date."""
    manifest = manifest_path(project_dir)
    try:
        prepared = manifest.stat().st_mtime
    except OSError:
        return f"{manifest} is missing"
    for source in source_files(project_dir):
        try:
            if source.stat().st_mtime > prepared:
                return f"{source} changed since the manifest was prepared"
        except OSError:
            continue
    return None
