"""The report's charts: drawn by two engines (this process's and a worker process's), and
kept between builds in the report folder's chart cache; pages byte for byte those drawn
in one process without any cache."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from barometre.publish.publication import publish
from barometre.serve.report import chart_cache, drawing
from barometre.serve.report.build import build_report, dbt_vars, read_data
from barometre.serve.report.page import render_page
from tests.test_report import (  # noqa: F401 (fixture)
    published,
    revise_one_wording,
    write_small_working,
)

RENDERER = "test-renderer"
DISTINCT = 9
"""Distinct charts of the small publication's two pages (2 + 7)."""


def _alone(published_dir: Path) -> dict[str, str]:
    """Each page rendered the way it was before: in this process, one chart at a time."""
    variables = dbt_vars()
    return {
        data.edition["edition_code"]: render_page(
            data, min_cell_size=variables.get("min_cell_size"), ci_z=variables.get("ci_z")
        )
        for data in read_data(published_dir, None)
    }


def _gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_pages_drawn_by_two_engines_are_those_drawn_in_one_process(
    published: Path,  # noqa: F811
) -> None:
    engine = drawing.start_second_engine()
    assert engine is not None and engine.wait_ready()  # so that the worker takes charts
    datas = read_data(published, None)
    variables = dbt_vars()
    pages, keys = {}, set()
    with drawing.ChartDrawer(None, RENDERER) as drawer:
        for data in datas:
            charts = drawer.page()
            pages[data.edition["edition_code"]] = render_page(
                data,
                render=charts,
                min_cell_size=variables.get("min_cell_size"),
                ci_z=variables.get("ci_z"),
            )
            keys.update(charts.keys)
    # each distinct chart drawn once (a chart two pages show alike: once), by either engine
    assert drawer.drawn_by_worker > 0 and drawer.drawn_here + drawer.drawn_by_worker == len(keys)
    assert pages == _alone(published)
    # stopped with the drawer: no process left
    assert engine.process.poll() is not None and drawing._second is None


def test_a_worker_that_cannot_start_leaves_every_chart_to_this_process(
    published: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(drawing, "worker_command", lambda: [sys.executable, "-c", "exit(3)"])
    built = build_report(published, tmp_path / "site")
    assert [b.charts for b in built] == [2, 7] and sum(b.charts_drawn for b in built) == DISTINCT
    for edition, text in _alone(published).items():
        assert (tmp_path / "site" / edition / "index.html").read_text(encoding="utf-8") == text


def test_the_worker_ends_with_its_parent_even_killed(tmp_path: Path) -> None:
    code = (
        "import os, signal, sys\n"
        "from barometre.serve.report import drawing\n"
        "engine = drawing.start_second_engine()\n"
        "assert engine.wait_ready()\n"
        "print(engine.process.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    parent = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert parent.returncode == -signal.SIGKILL, parent.stderr
    assert _gone(int(parent.stdout.split()[0]))


def test_a_page_rendered_again_draws_only_the_charts_that_changed(tmp_path: Path) -> None:
    working = write_small_working(tmp_path / "working.duckdb")
    published_dir, out = tmp_path / "published", tmp_path / "site"
    publish(working, published_dir)
    first = build_report(published_dir, out)
    assert [b.charts for b in first] == [2, 7]
    assert sum(b.charts_drawn for b in first) == DISTINCT
    cache = out / chart_cache.CACHE_DIR
    assert len(list(cache.iterdir())) == DISTINCT

    # One question's wording of 2021 changes: its theme's chart only is drawn again.
    revise_one_wording(working, published_dir)
    changed = build_report(published_dir, out)
    assert [(b.edition, b.rendered, b.charts_drawn) for b in changed] == [
        ("2018", False, 0),
        ("2021", True, 1),
    ]
    fresh = build_report(published_dir, tmp_path / "fresh", force=True)
    assert sum(b.charts_drawn for b in fresh) == DISTINCT
    # The page rendered again is the one drawn afresh (2018's, kept, names the
    # publication it was rendered from); both pages name the same charts.
    assert (out / "2021" / "index.html").read_bytes() == (
        tmp_path / "fresh" / "2021" / "index.html"
    ).read_bytes()
    for edition in ("2018", "2021"):
        assert (out / edition / chart_cache.PAGE_CHARTS).read_bytes() == (
            tmp_path / "fresh" / edition / chart_cache.PAGE_CHARTS
        ).read_bytes()
    # The cache holds what the pages name, nothing else: the old chart is gone.
    named = {
        f"{key}.svg"
        for edition in ("2018", "2021")
        for key in (out / edition / chart_cache.PAGE_CHARTS).read_text().split()
    }
    assert {p.name for p in cache.iterdir()} == named and len(named) == DISTINCT

    # A corrupt entry, a missing one: drawn again, the page the same.
    keys = (out / "2021" / chart_cache.PAGE_CHARTS).read_text().split()
    entry = chart_cache.entry_path(cache, keys[0])
    entry.write_bytes(entry.read_bytes().replace(b"<svg", b"<svG", 1))
    chart_cache.entry_path(cache, keys[1]).unlink()
    (out / "2021" / ".figures.sha256").unlink()
    again = build_report(published_dir, out)
    assert [b.charts_drawn for b in again] == [0, 2]
    assert (out / "2021" / "index.html").read_bytes() == (
        tmp_path / "fresh" / "2021" / "index.html"
    ).read_bytes()
    assert chart_cache.read_entry(entry) is not None
    # Forced: every chart drawn, none read.
    forced = build_report(published_dir, out, force=True)
    assert sum(b.charts_drawn for b in forced) == DISTINCT


def test_prune_keeps_what_a_page_names_and_nothing_else(tmp_path: Path) -> None:
    cache = tmp_path / chart_cache.CACHE_DIR
    for key in ("a" * 64, "b" * 64):
        chart_cache.write_entry(chart_cache.entry_path(cache, key), "<svg></svg>")
    (cache / ".leftover.svg.tmp-1-2").write_text("half")
    (tmp_path / "2021").mkdir()
    (tmp_path / "2021" / chart_cache.PAGE_CHARTS).write_text("a" * 64 + "\n")
    assert chart_cache.prune(tmp_path) == 2
    assert [p.name for p in cache.iterdir()] == ["a" * 64 + ".svg"]
    assert chart_cache.read_entry(chart_cache.entry_path(cache, "a" * 64)) == "<svg></svg>"


def test_a_chart_that_cannot_be_drawn_raises_where_the_page_writes_it() -> None:
    with drawing.ChartDrawer(None, RENDERER) as drawer:
        drawn = drawer.page()({"mark": "no-such-mark", "data": {"values": []}})
        with pytest.raises(ValueError):
            drawn.__html__()


def test_a_build_stopped_midway_leaves_no_worker(
    published: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from barometre.serve.report import build

    engine = drawing.start_second_engine()  # as `barometre run` preloads it
    assert engine is not None

    def interrupted(path: Path, text: str) -> None:
        raise KeyboardInterrupt  # Ctrl-C while the first page is written

    monkeypatch.setattr(build, "_write_atomically", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_report(published, tmp_path / "site")
    assert engine.process.poll() is not None and drawing._second is None
    assert not (tmp_path / "site" / "2018" / "index.html").exists()
