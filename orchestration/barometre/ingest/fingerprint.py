"""What an edition folder and the seeds hold, as content hashes: how the raw-folder
sensor, the weekly schedule and `barometre run` tell a new or changed export from one
already loaded."""

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from barometre.ingest.editions import discover_editions
from barometre.ingest.manifest import MANIFEST_NAME, listed_export_paths

_CHUNK = 1 << 20


@dataclass(frozen=True)
class EditionState:
    """What the sensor sees of one edition folder."""

    edition: str
    fingerprint: str | None
    """sha256 of the manifest and the files it lists; None when not ready"""
    waiting: str | None = None
    """why the edition is not ready (export missing, files still being written)"""
    files: tuple[tuple[str, str], ...] = ()
    """(file name, sha256) of each export file, as raw.load_log records them"""


def edition_state(
    folder: Path, *, settle_seconds: float = 0.0, now: float | None = None
) -> EditionState:
    """Content hash of an edition folder: manifest.yml + the export files it lists,
    streamed by chunks (names included, so a renamed file counts as a change).

    The files are those of the manifest model, confined to the folder: a manifest that
    cannot be used (wrong types, a `files:` entry leading outside the folder) counts by
    its own content only, so nothing outside the folder is ever read, and the run says why.
    """
    listed = listed_export_paths(folder) or []
    files = [folder / MANIFEST_NAME, *listed]
    missing = [str(p.relative_to(folder)) for p in files if not p.is_file()]
    if missing:
        return EditionState(folder.name, None, f"waiting for {', '.join(missing)}")
    now = time.time() if now is None else now
    if settle_seconds > 0 and max(p.stat().st_mtime for p in files) > now - settle_seconds:
        return EditionState(folder.name, None, "files still being written")
    digest = hashlib.sha256()
    hashes = []
    for path in files:
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        own = hashlib.sha256()  # the file's own hash, as the ingester logs it
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                own.update(chunk)
        digest.update(b"\0")
        if path.name != MANIFEST_NAME:
            hashes.append((path.name, own.hexdigest()))
    return EditionState(folder.name, digest.hexdigest(), files=tuple(sorted(hashes)))


def scan_editions(data_dir: Path, *, settle_seconds: float = 0.0) -> list[EditionState]:
    return [
        edition_state(data_dir / e, settle_seconds=settle_seconds)
        for e in discover_editions(data_dir)
    ]


def seeds_fingerprint(seeds_dir: Path) -> str:
    """sha256 of every seed CSV (names included): a change may alter what a load writes."""
    digest = hashlib.sha256()
    for path in sorted(seeds_dir.rglob("*.csv")):
        digest.update(str(path.relative_to(seeds_dir)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()
