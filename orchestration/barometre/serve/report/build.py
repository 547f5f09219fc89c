"""Write the report site from the published copy of the warehouse.

    <out>/index.html             the editions whose report is in the folder
    <out>/<edition>/index.html   one edition's report (self-contained: CSS, SVG inlined)

    <out>/<edition>/.figures.sha256  digest of what the page was rendered from

Reads only the published file (barometre.publish.connect_published): never the working
warehouse, whose restricted schema holds per-respondent data. The connection is closed
before anything is rendered. Each page is written to a temporary file and renamed, so
a reader never sees half a page.

An edition's page is rendered again only when what it shows changed: its figures, the
dbt vars it quotes, or the renderer (this package's code and templates, the Jinja2
version), all digested into `.figures.sha256` beside the page. The publication's version
and date are left out of the digest (every run publishes a new version): a kept page
names the publication it was rendered from, whose figures for this edition are those of
the current one. Drawing the charts takes milliseconds (charts, svg): no chart is kept
between builds, and a build removes the chart cache earlier versions kept (LEFTOVERS).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import html
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from barometre.common.atomic_file import write_text_atomically
from barometre.common.settings import get_settings
from barometre.publish.publication import PUBLISHED_DB, connect_published, current_version
from barometre.serve.report import queries

PAGE = "index.html"
DIGEST = ".figures.sha256"
"""Beside each page: the digest of what it was rendered from (see `figures_digest`)."""
LEFTOVERS = (".charts",)
"""What earlier versions wrote in the report folder (the chart cache), removed by a build."""
PAGE_LEFTOVERS = (".charts.sha256",)
"""What earlier versions wrote beside each page (its charts' cache keys), removed too."""


class ReportError(Exception):
    """The report cannot be built; the message says why and what to do."""


@dataclass(frozen=True)
class BuiltReport:
    edition: str
    path: Path
    publication: str | None
    rendered: bool = True
    """False when the page was kept: its figures had not changed since it was rendered."""


def dbt_vars(dbt_project_dir: Path | None = None) -> dict:
    """The dbt vars (`min_cell_size`, `ci_z`) quoted by the methodology section; the
    figures themselves come from the published copy only."""
    project = (dbt_project_dir or get_settings().dbt_project_dir) / "dbt_project.yml"
    try:
        config = yaml.safe_load(project.read_text(encoding="utf-8")) or {}
        found = config.get("vars") or {}
    except (OSError, AttributeError, yaml.YAMLError):
        return {}
    return found if isinstance(found, dict) else {}


def server_publication(settings: Any) -> Any:
    """The target's publication as a DuckDB connection for read_data: None on DuckDB
    (read the published file); on PostgreSQL, a snapshot of schema marts and the public
    lookups (barometre.engines.postgres.snapshot), or a ReportError when nothing is published."""
    if settings.target != "postgres":
        return None
    from barometre.engines.postgres.connection import ServerError
    from barometre.engines.postgres.snapshot import published_snapshot

    try:
        snapshot = published_snapshot(settings.pg_dsn)
    except ServerError as err:
        raise ReportError(str(err)) from None
    if snapshot is None:
        raise ReportError(
            "nothing is published on the server (schema marts): run "
            "`barometre run --target postgres` first"
        )
    return snapshot


def read_data(
    published_dir: Path, editions: list[str] | None, connection: Any = None
) -> list[queries.ReportData]:
    """Every requested edition's figures (all published editions when None), from the
    published copy, or from `connection` (a DuckDB database laid out like it: the
    server's publication, barometre.engines.postgres.snapshot), closed after reading."""
    if connection is None and (
        current_version(published_dir) is None or not (published_dir / PUBLISHED_DB).exists()
    ):
        raise ReportError(
            f"nothing is published under {published_dir}: run `barometre run` (or "
            "`barometre publish`) first; the report reads only the published copy"
        )
    con = connection if connection is not None else connect_published(published_dir)
    try:
        wanted = editions or [e["edition_code"] for e in queries.editions(con)]
        return [queries.load(con, edition) for edition in wanted]
    except queries.ReportDataError as err:
        raise ReportError(str(err)) from None
    except duckdb.CatalogException as err:  # a mart the report reads is not published
        raise ReportError(_missing_table(err)) from None
    finally:
        con.close()


def _missing_table(err: Exception) -> str:
    """A mart the report reads is missing from the publication, in words."""
    what = str(err).strip().splitlines()[0].removeprefix("Catalog Error: ")
    return f"the publication lacks a table the report reads ({what})"


def _renderer_fingerprint() -> str:
    """What, besides the figures, the page depends on: this package's sources (the charts'
    drawing included) and templates, and Jinja2's version (read from its metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256()
    package = Path(__file__).parent
    for source in sorted([*package.glob("*.py"), *(package / "templates").glob("*")]):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    for library in ("jinja2",):
        try:
            digest.update(f"{library}=={version(library)}\0".encode())
        except PackageNotFoundError:
            digest.update(f"{library} missing\0".encode())
    return digest.hexdigest()


def figures_digest(data: queries.ReportData, variables: dict, renderer: str) -> str:
    """Digest of everything an edition's page shows except the publication's version and
    date: its figures and labels, the dbt vars it quotes, and the renderer."""
    shown = dataclasses.asdict(data)
    shown.pop("publication")
    payload = {
        "data": shown,
        "vars": {k: variables.get(k) for k in ("min_cell_size", "ci_z")},
        "renderer": renderer,
    }
    text = json.dumps(payload, sort_keys=True, default=repr, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _kept(page: Path, digest: str) -> bool:
    """The page exists and was rendered from exactly these figures."""
    try:
        return page.is_file() and (page.parent / DIGEST).read_text().strip() == digest
    except OSError:
        return False


def _index(out: Path) -> str:
    items = []
    for page in sorted(out.glob(f"*/{PAGE}")):
        edition = page.parent.name
        items.append(
            f'<li><a href="{html.escape(edition)}/{PAGE}">Édition {html.escape(edition)}</a></li>'
        )
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        '<link rel="icon" href="data:,">'
        "<title>Baromètre de la maturité numérique : rapports</title></head>"
        "<body><h1>Baromètre de la maturité numérique : rapports</h1>"
        f"<ul>{''.join(items)}</ul></body></html>\n"
    )


def _remove_leftovers(out: Path) -> None:
    """Quietly remove what earlier versions kept in the report folder (LEFTOVERS)."""
    for name in LEFTOVERS:
        shutil.rmtree(out / name, ignore_errors=True)
    for name in PAGE_LEFTOVERS:
        for leftover in out.glob(f"*/{name}"):
            with contextlib.suppress(OSError):
                leftover.unlink()


def build_report(
    published_dir: Path,
    out: Path,
    editions: list[str] | None = None,
    *,
    say: Callable[[str], None] | None = None,
    connection: Any = None,
    force: bool = False,
) -> list[BuiltReport]:
    """Write the report of each edition (every published one when None) under `out`,
    from the published copy in `published_dir` or from `connection` (see read_data).

    An edition whose page was rendered from the same figures is kept as it is (see the
    module doc), unless `force`."""
    say = say or (lambda _message: None)
    published_dir, out = Path(published_dir), Path(out)
    variables = dbt_vars()
    renderer = _renderer_fingerprint()
    plan = []
    for data in read_data(published_dir, editions, connection):
        edition = data.edition["edition_code"]
        page = out / edition / PAGE
        digest = figures_digest(data, variables, renderer)
        plan.append((data, edition, page, digest, force or not _kept(page, digest)))
    built = []
    for data, edition, page, digest, render in plan:
        if not render:
            built.append(BuiltReport(edition, page, data.publication.get("version"), False))
            say(f"[report] edition {edition}: figures unchanged, page kept: {page}")
            continue
        say(f"[report] edition {edition}: rendering…")
        from barometre.serve.report.page import render_page  # jinja2: only when rendering

        text = render_page(
            data, min_cell_size=variables.get("min_cell_size"), ci_z=variables.get("ci_z")
        )
        # The old digest goes first and the new one last, so that a digest never names a
        # page it did not render: a crash in between leaves none, and the next build
        # renders the page again.
        (page.parent / DIGEST).unlink(missing_ok=True)
        write_text_atomically(page, text)
        write_text_atomically(page.parent / DIGEST, digest + "\n")
        built.append(BuiltReport(edition, page, data.publication.get("version")))
        say(f"[report] edition {edition}: {page}")
    _remove_leftovers(out)
    write_text_atomically(out / PAGE, _index(out))
    return built
