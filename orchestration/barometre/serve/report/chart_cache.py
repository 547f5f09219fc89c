"""The report's chart cache on disk: the SVG of each chart drawn, kept between builds.

    <report>/.charts/<key>.svg          one chart's SVG
    <report>/<edition>/.charts.sha256   the keys of the page's charts, one a line

A key is the digest of the renderer (build.py `_renderer_fingerprint`: the package's
sources and templates, altair, vl-convert and jinja2 versions) and of the Vega-Lite
spec as vl-convert is given it, so a page rendered again draws only the charts whose
spec changed (barometre.serve.report.drawing). An entry is written atomically and
starts with a comment holding the digest of the SVG after it: one that does not match,
or cannot be read, is drawn again. After a build, `prune` deletes what no page names:
the folder holds the charts of the pages it holds, no more. No heavy import here.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from pathlib import Path

CACHE_DIR = ".charts"
PAGE_CHARTS = ".charts.sha256"
_HEAD = b"<!-- sha256:"
_TAIL = b" -->\n"


def chart_key(spec_json: bytes, renderer: str) -> str:
    return hashlib.sha256(renderer.encode() + b"\0" + spec_json).hexdigest()


def entry_path(cache: Path, key: str) -> Path:
    return cache / f"{key}.svg"


def read_entry(path: Path) -> str | None:
    """The SVG stored at `path`; None when it is missing, unreadable or altered."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head, sep, svg = data.partition(_TAIL)
    if not sep or not head.startswith(_HEAD):
        return None
    if hashlib.sha256(svg).hexdigest().encode() != head.removeprefix(_HEAD):
        return None
    try:
        return svg.decode("utf-8")
    except UnicodeDecodeError:
        return None


def write_entry(path: Path, svg: str) -> None:
    """Store an SVG atomically (a temporary file renamed); a failure only costs a redraw
    next time, so it is not raised."""
    data = svg.encode("utf-8")
    digest = hashlib.sha256(data).hexdigest().encode()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(_HEAD + digest + _TAIL + data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def prune(out: Path) -> int:
    """Delete what `<out>/.charts/` holds that no page of `out` names in its PAGE_CHARTS
    (with leftovers of an interrupted write); the number of files deleted."""
    cache = out / CACHE_DIR
    if not cache.is_dir():
        return 0
    named: set[str] = set()
    for listing in out.glob(f"*/{PAGE_CHARTS}"):
        with contextlib.suppress(OSError, UnicodeDecodeError):
            named.update(f"{key}.svg" for key in listing.read_text(encoding="utf-8").split())
    deleted = 0
    for entry in cache.iterdir():
        if entry.name not in named:
            with contextlib.suppress(OSError):
                entry.unlink()
                deleted += 1
    return deleted
