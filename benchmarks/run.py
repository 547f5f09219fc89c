"""The benchmark of issue 10: the project side by side with the tools' own floor.

    .venv/bin/python benchmarks/run.py                    # P2 at 1 M answers, and P4
    .venv/bin/python benchmarks/run.py --sizes 1M,3M,10M  # P2 at every size of the issue

Prints one markdown table (the one kept in docs/performance.md):

- P2: a synthetic LimeSurvey CSV edition of N answers (100 questions, N / 100
  respondents; `barometre_dev.sample.generate_benchmark`) goes through the project's
  ingestion and validation — `load_edition` (read, unpivot, row contract, quarantine,
  write) then the blocking checks `verify_row_contract` and `verify_reconciliation` —
  and, side by side, through a bare DuckDB script that reads the same file, unpivots
  it, decodes the answers and computes the per-question distributions and theme means.
  Also `barometre validate` (dry run) alone.
- P1: `barometre run` on the bundled sample (fresh warehouse, then the same run again)
  against a bare `dbt build --exclude-resource-type unit_test` (the dbt work the run
  asks for) of the same project on a copy of the warehouse the run loaded (same data),
  with its own target folder (first build, then again: partial parsing warm, as for
  the second run); for context, a bare `dbt build` with the unit tests. `--p1-repeat N`
  takes N such samples and prints medians (every sample's ratio listed).
- P5: `barometre run` on 10 synthetic editions (fresh warehouse), then the first CSV
  edition changed (its last response dropped) and `barometre run` again, which loads
  that edition only and rebuilds it alone in core; `--p5-answers 10M` also gives the
  P2 row "full run on 10 editions totalling 10 M answers".
- P4: loading the code location (`import barometre.definitions`) against the floor
  `import dagster, dagster_dbt`, in the same venv, alternated, median of --imports runs:
  the child's CPU and wall time when the import returns (what the load costs), and, for
  context, the whole child until it exits (the interpreter's clean-up included).

Each measured step runs in a child process of its own; time is wall-clock, peak RSS is
the child's own maximum resident set (`os.wait4`; it includes the ~40 MiB of this small
parent, which Linux counts into a child at fork). Numbers are machine-dependent; the
ratios are what the targets speak of. Never a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS_PER_THEME = 10  # 10 themes: 100 questions per edition


# ------------------------------------------------------------------ measured children


def _child_baseline(edition_dir: str) -> dict:
    """The floor of P2: bare DuckDB, no project code (the manifest read as plain YAML)."""
    import csv
    import re

    import duckdb
    import yaml

    folder = Path(edition_dir)
    manifest = yaml.safe_load((folder / "manifest.yml").read_text(encoding="utf-8"))
    path = folder / manifest["files"][0]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle, delimiter=manifest["delimiter"]))
    pattern = re.compile(manifest["questions"]["pattern"])
    themes = {h: m["theme"] for h in header if (m := pattern.match(h))}
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE wide AS SELECT * FROM read_csv(?, delim = ?, header = true, "
        "all_varchar = true)",
        [str(path), manifest["delimiter"]],
    )
    levels = ", ".join(f"('{c}', {lv})" for c, lv in manifest["answers"]["codes"].items())
    theme_of = ", ".join(f"('{q}', '{t}')" for q, t in themes.items())
    cols = ", ".join('"' + c.replace('"', '""') + '"' for c in themes)
    con.execute(f"""
        CREATE TABLE long AS
        SELECT u.question, t.theme, l.level
        FROM wide UNPIVOT INCLUDE NULLS (answer FOR question IN ({cols})) u
        JOIN (VALUES {theme_of}) t(question, theme) USING (question)
        LEFT JOIN (VALUES {levels}) l(code, level) ON l.code = u.answer""")
    (distributions,) = con.execute(
        "SELECT count(*) FROM (SELECT question, level, count(*) FROM long GROUP BY ALL)"
    ).fetchone()
    (means,) = con.execute(
        "SELECT count(*) FROM (SELECT theme, avg(level) FROM long GROUP BY ALL)"
    ).fetchone()
    (answers,) = con.execute("SELECT count(*) FROM long").fetchone()
    return {"answers": answers, "distributions": distributions, "theme_means": means}


def _child_project(edition_dir: str, seeds_dir: str, warehouse: str) -> dict:
    from barometre.ingest.load import load_edition
    from barometre.ingest.verify import verify_reconciliation, verify_row_contract

    folder, seeds, wh = Path(edition_dir), Path(seeds_dir), Path(warehouse)
    load = load_edition(folder, wh, seeds, max_bad_share=1.0)
    contract = verify_row_contract(wh, seeds, load.edition_code)
    reconcile = verify_reconciliation(wh, load.edition_code)
    return {
        "answers": load.answers,
        "quarantined": load.rows_quarantined,
        "checks_pass": contract.passed and reconcile.passed,
    }


def _child_validate(edition_dir: str, seeds_dir: str) -> dict:
    from barometre.ingest.load import load_edition

    result = load_edition(
        Path(edition_dir), Path(seeds_dir) / "none.duckdb", Path(seeds_dir), dry_run=True
    )
    return {"quarantined": result.rows_quarantined, "refused": bool(result.refused)}


def _child_read(edition_dir: str) -> dict:
    """The read alone (`read_export`: guard, reader, table of text in DuckDB)."""
    import duckdb

    from barometre.ingest.manifest import load_manifest
    from barometre.ingest.read_export import read_export

    manifest = load_manifest(Path(edition_dir))
    table = read_export(duckdb.connect(), manifest.file_paths()[0], manifest.read_spec(), "t")
    return {"rows": table.rows_read}


def _child_generate(folder: str, respondents: str, seed: str, editions: str = "1") -> dict:
    from barometre_dev.sample import generate_benchmark

    generate_benchmark(
        Path(folder), int(respondents), QUESTIONS_PER_THEME, int(editions), int(seed)
    )
    return {}


def _child_generate_editions(folder: str, respondents: str, editions: str, seed: str) -> dict:
    # The one public entry point of the synthetic data (the development package).
    from barometre_dev.sample import generate_benchmark

    generate_benchmark(
        Path(folder), int(respondents), QUESTIONS_PER_THEME, int(editions), int(seed)
    )
    return {}


def _child_steps(dagster_home: str) -> dict:
    """Every run of the Dagster instance at `dagster_home`, oldest first: its job, wall
    time and the wall time of each step (the instance's own step statistics)."""
    os.environ["DAGSTER_HOME"] = dagster_home
    from dagster import DagsterInstance

    instance = DagsterInstance.get()
    runs = []
    for run in reversed(instance.get_runs()):
        record = instance.get_run_record_by_id(run.run_id)
        steps = {
            s.step_key: round(s.end_time - s.start_time, 1)
            for s in instance.get_run_step_stats(run.run_id)
            if s.start_time and s.end_time
        }
        took = (
            round(record.end_time - record.start_time, 1)
            if record and record.start_time and record.end_time
            else None
        )
        runs.append({"job": run.job_name, "seconds": took, "steps": steps})
    return {"runs": runs}


CHILDREN = {
    "generate": _child_generate,
    "generate_editions": _child_generate_editions,
    "baseline": _child_baseline,
    "project": _child_project,
    "validate": _child_validate,
    "read": _child_read,
    "steps": _child_steps,
}


# ------------------------------------------------------------------ measuring


def measure(
    argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[float, float, float, str]:
    """Run `argv` as a child: (wall seconds, CPU seconds, peak RSS MiB, stdout).

    `os.wait4` gives the rusage of that child alone (its own peak RSS).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            detail = (out.read() + err.read()).decode()[-3000:]
            raise RuntimeError(f"{argv} failed:\n{detail}")
        text = out.read().decode()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text


def run_child(name: str, *args: str) -> tuple[float, float, float, dict]:
    wall, cpu, rss, out = measure([sys.executable, __file__, "--child", name, *args])
    return wall, cpu, rss, json.loads(out.strip().splitlines()[-1])


def parse_size(text: str) -> int:
    text = text.strip().upper()
    factor = {"K": 1_000, "M": 1_000_000}.get(text[-1], 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


def label(n: int) -> str:
    return f"{n / 1e6:g} M" if n >= 1_000_000 else f"{n / 1e3:g} k"


# ------------------------------------------------------------------ the table


def p2_rows(sizes: list[int], out: Path, seed: int) -> list[list[str]]:
    rows = []
    per_answer = []
    for size in sizes:
        respondents = max(1, size // (QUESTIONS_PER_THEME * 10))
        folder = out / f"p2_{size}"
        if not (folder / "raw").is_dir():
            print(f"… writing a {label(size)}-answer CSV edition", file=sys.stderr)
            # In a child: Linux counts the parent's peak RSS at fork/exec into a child's own,
            # so the parent stays small (nothing big is ever built in it).
            generate = ["--child", "generate", str(folder), str(respondents), str(seed)]
            measure([sys.executable, __file__, *generate])
        [edition] = sorted((folder / "raw").iterdir())
        seeds = folder / "seeds"
        warehouse = folder / "bench.duckdb"
        warehouse.unlink(missing_ok=True)
        print(f"… P2 {label(size)}: baseline", file=sys.stderr)
        b_wall, b_cpu, b_rss, base = run_child("baseline", str(edition))
        print(f"… P2 {label(size)}: project ingestion + validation", file=sys.stderr)
        p_wall, p_cpu, p_rss, proj = run_child("project", str(edition), str(seeds), str(warehouse))
        print(f"… P2 {label(size)}: validate (dry run)", file=sys.stderr)
        v_wall, v_cpu, v_rss, _ = run_child("validate", str(edition), str(seeds))
        answers = proj["answers"]
        per_answer.append((answers, p_wall, p_cpu, p_rss))
        ok = p_wall <= 3 * b_wall and p_rss <= 1024
        rows.append(
            [
                "P2",
                f"ingest + validate, {label(size)}-answer CSV ({answers:,} loaded)",
                f"{p_wall:.1f} s (CPU {p_cpu:.1f} s) / {p_rss:,.0f} MiB",
                f"{b_wall:.1f} s (CPU {b_cpu:.1f} s) / {b_rss:,.0f} MiB",
                f"{p_wall / b_wall:.1f}× time (CPU {p_cpu / b_cpu:.1f}×), "
                f"{p_rss / b_rss:.1f}× memory",
                "≤ 3× time, ≤ 1024 MiB: "
                + ("met" if ok else "NOT met")
                + ("" if proj["checks_pass"] else " (checks FAILED)"),
            ]
        )
        rows.append(
            [
                "P2",
                f"`validate` (dry run) alone, {label(size)} answers",
                f"{v_wall:.1f} s (CPU {v_cpu:.1f} s) / {v_rss:,.0f} MiB",
                "",
                f"{v_wall / b_wall:.1f}× baseline time",
                "finishes in bounded memory",
            ]
        )
        if base["answers"] < answers:
            raise RuntimeError(f"baseline saw {base['answers']} answers, project {answers}")
    if len(per_answer) > 1:
        (a0, t0, c0, m0), (a1, t1, c1, m1) = per_answer[0], per_answer[-1]
        rows.append(
            [
                "P2",
                f"linearity {label(sizes[0])} → {label(sizes[-1])} ({a1 / a0:.1f}× the answers)",
                f"{t1 / t0:.1f}× time (CPU {c1 / c0:.1f}×), {m1 / m0:.1f}× memory",
                "",
                "",
                "time ∝ answers, memory bounded",
            ]
        )
    return rows


def p3_rows(respondents: int, out: Path, seed: int) -> list[list[str]]:
    """XLSX against CSV: two editions of the same size (LimeSurvey CSV, SurveyMonkey XLSX);
    the XLSX also read with one worker process (BAROMETRE_XLSX_WORKERS=1) for context:
    by default it takes one only when the load average leaves a core idle."""
    folder = out / f"p3_{respondents}"
    if not (folder / "raw").is_dir():
        print(f"… writing a CSV and an XLSX edition ({respondents:,} respondents)", file=sys.stderr)
        generate = ["--child", "generate", str(folder), str(respondents), str(seed), "2"]
        measure([sys.executable, __file__, *generate])
    csv_dir, xlsx_dir = sorted((folder / "raw").iterdir())
    seeds = folder / "seeds"
    results = {}
    load_before = os.getloadavg()[0]
    one_worker = {**os.environ, "BAROMETRE_XLSX_WORKERS": "1"}
    for name, edition, env in (
        ("csv", csv_dir, None),
        ("xlsx", xlsx_dir, None),
        ("xlsx-1", xlsx_dir, one_worker),
    ):
        warehouse = folder / f"{name}.duckdb"
        warehouse.unlink(missing_ok=True)
        print(f"… P3 {name}: read, then ingestion + validation", file=sys.stderr)
        for step, child in (
            ("read", ["read", str(edition)]),
            ("load", ["project", str(edition), str(seeds), str(warehouse)]),
        ):
            wall, cpu, rss, text = measure([sys.executable, __file__, "--child", *child], env=env)
            results[name, step] = wall, cpu, rss, json.loads(text.strip().splitlines()[-1])
    load = f"load average {load_before:.1f} → {os.getloadavg()[0]:.1f}"
    rows = []
    for step, what in (("load", "ingest + validate"), ("read", "read alone (`read_export`)")):
        worker = ", XLSX with one worker (`BAROMETRE_XLSX_WORKERS=1`)"
        for name, how in (("xlsx", ""), ("xlsx-1", worker)):
            (x_wall, x_cpu, x_rss, x_out), (c_wall, c_cpu, c_rss, _) = (
                results[name, step],
                results["csv", step],
            )
            answers = x_out.get("answers", x_out.get("rows"))
            ratio = x_wall / c_wall
            rows.append(
                [
                    "P3",
                    f"XLSX vs CSV, {what}{how}, {respondents:,} respondents × 100 questions "
                    f"({answers:,} {'answers' if step == 'load' else 'rows'}; {load})",
                    f"{x_wall:.1f} s (CPU {x_cpu:.1f} s) / {x_rss:,.0f} MiB",
                    f"CSV: {c_wall:.1f} s (CPU {c_cpu:.1f} s) / {c_rss:,.0f} MiB",
                    f"{ratio:.1f}× time (CPU {x_cpu / c_cpu:.1f}×), {x_rss / c_rss:.1f}× memory",
                    ("≤ 2× time: " + ("met" if ratio <= 2 else "NOT met"))
                    if step == "load" and name == "xlsx"
                    else "context",
                ]
            )
    return rows


Sample = tuple[float, float, float]
"""(wall seconds, CPU seconds, peak RSS MiB) of one measured command."""


def _p1_once(out: Path, label_: str, unit_tests: bool) -> dict[tuple[str, str], Sample]:
    """One P1 sample: `barometre run` cold then warm, each followed by a bare `dbt build`
    (cold: its own new target folder; warm: the same folder again), in a folder of its
    own (`out/p1/<time>-<label_>`): what a run keeps per warehouse path (dbt's
    partial-parse state, the Great Expectations results that stand: validate.scope)
    must not make a cold run less cold than a fresh warehouse is. `unit_tests`: also a
    bare build with the unit tests, for context."""
    folder = out / "p1" / f"{time.strftime('%Y%m%dT%H%M%S')}-{label_}"
    folder.mkdir(parents=True)
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "BAROMETRE_WAREHOUSE": str(folder / "w.duckdb"),
        "BAROMETRE_PUBLISHED_DIR": str(folder / "published"),
        # the benchmark's own folder, never the checkout's build/report
        "BAROMETRE_REPORT_DIR": str(folder / "report"),
        "DAGSTER_HOME": str(folder / "dagster"),
    }
    env.pop("BAROMETRE_DATA_DIR", None)  # the bundled sample
    run = [str(bin_dir / "barometre"), "run"]
    bare_env = {**env, "BAROMETRE_WAREHOUSE": str(folder / "bare.duckdb")}
    target = folder / "bare-target"
    # The dbt work the run asks for: `dbt build` without the unit tests (they check the
    # SQL on fixed inputs and run in the test suite: barometre.transform.dbt_assets.BUILD_ARGS).
    bare = [
        str(bin_dir / "dbt"),
        "build",
        "--exclude-resource-type",
        "unit_test",
        "--quiet",
        "--project-dir",
        str(ROOT / "dbt_project"),
        "--profiles-dir",
        str(ROOT / "dbt_project"),
        "--target-path",
        str(target),
        "--log-path",
        str(target),
    ]
    results: dict[tuple[str, str], Sample] = {}
    for attempt in ("first", "again"):
        print(f"… P1 {label_}: `barometre run` ({attempt})", file=sys.stderr)
        results["run", attempt] = measure(run, env=env)[:3]
        if attempt == "first":  # the same data: the raw tables the run just loaded
            shutil.copy(folder / "w.duckdb", folder / "bare.duckdb")
        print(f"… P1 {label_}: bare `dbt build` ({attempt})", file=sys.stderr)
        results["bare", attempt] = measure(bare, env=bare_env, cwd=ROOT / "dbt_project")[:3]
    print(
        f"P1 {label_}: the Dagster runs of the two `barometre run` (cold, then warm):",
        file=sys.stderr,
    )
    for line in _p5_steps(folder / "dagster"):
        print(line, file=sys.stderr)
    if unit_tests:
        print("… P1: bare `dbt build` with the unit tests (context)", file=sys.stderr)
        with_unit_tests = [a for a in bare if a not in ("--exclude-resource-type", "unit_test")]
        results["bare", "unit"] = measure(with_unit_tests, env=bare_env, cwd=ROOT / "dbt_project")[
            :3
        ]
    return results


def _median_sample(samples: list[Sample]) -> Sample:
    return (
        statistics.median(s[0] for s in samples),
        statistics.median(s[1] for s in samples),
        statistics.median(s[2] for s in samples),
    )


def p1_rows(out: Path, repeats: int = 1) -> list[list[str]]:
    """P1 over `repeats` samples (`_p1_once`, one after the other). With several, each
    cell is the median of the samples and the ratio the median of the paired ratios
    (each run against the bare build measured right after it), every sample's ratio
    listed: one sample swings by several seconds on a 2-core machine."""
    if (out / "p1").exists():
        shutil.rmtree(out / "p1")
    samples = [
        _p1_once(out, f"{i + 1}of{repeats}", unit_tests=i == repeats - 1) for i in range(repeats)
    ]
    several = f", median of {repeats}" if repeats > 1 else ""
    rows = []
    for attempt, what in (("again", "warm: second run"), ("first", "cold: fresh warehouse")):
        runs = [s["run", attempt] for s in samples]
        bares = [s["bare", attempt] for s in samples]
        (r_wall, r_cpu, r_rss), (b_wall, b_cpu, b_rss) = _median_sample(runs), _median_sample(bares)
        ratios = [r[0] / b[0] for r, b in zip(runs, bares, strict=True)]
        cpu_ratios = [r[1] / b[1] for r, b in zip(runs, bares, strict=True)]
        ratio = statistics.median(ratios)
        listed = f"; samples {', '.join(f'{x:.2f}' for x in ratios)}" if repeats > 1 else ""
        rows.append(
            [
                "P1",
                f"`barometre run` on the sample vs bare `dbt build` ({what}{several})",
                f"{r_wall:.1f} s (CPU {r_cpu:.1f} s) / {r_rss:,.0f} MiB",
                f"{b_wall:.1f} s (CPU {b_cpu:.1f} s) / {b_rss:,.0f} MiB",
                f"{ratio:.2f}× time (CPU {statistics.median(cpu_ratios):.2f}×), "
                f"{r_rss / b_rss:.1f}× memory{listed}",
                "≤ 1.5×: " + ("met" if ratio <= 1.5 else "NOT met"),
            ]
        )
    (r_wall, r_cpu, r_rss), (u_wall, u_cpu, u_rss) = (
        samples[-1]["run", "again"],
        samples[-1]["bare", "unit"],
    )
    rows.append(
        [
            "P1",
            "context: the warm run vs a bare `dbt build` that also runs the unit tests"
            + (" (last sample)" if repeats > 1 else ""),
            f"{r_wall:.1f} s (CPU {r_cpu:.1f} s) / {r_rss:,.0f} MiB",
            f"{u_wall:.1f} s (CPU {u_cpu:.1f} s) / {u_rss:,.0f} MiB",
            f"{r_wall / u_wall:.2f}× time (CPU {r_cpu / u_cpu:.2f}×)",
            "",
        ]
    )
    return rows


P5_EDITIONS = 10


def _p5_project(folder: Path, generated: Path) -> Path:
    """A copy of the project whose seeds are the synthetic ones (the project's own code
    labels and population bands kept): `barometre` reads its seeds and dbt project from
    the package's own location, so the copy's package is put first on PYTHONPATH."""
    project = folder / "project"
    if project.exists():
        shutil.rmtree(project)
    ignore = shutil.ignore_patterns("target", "logs", "__pycache__", "*.egg-info")
    shutil.copytree(
        ROOT / "orchestration" / "barometre", project / "orchestration" / "barometre", ignore=ignore
    )
    shutil.copytree(ROOT / "dbt_project", project / "dbt_project", ignore=ignore)
    shutil.copytree(ROOT / "models", project / "models")
    shutil.copytree(ROOT / "seeds", project / "seeds")
    for path in sorted((generated / "seeds").glob("*.csv")):
        _seed_with_project_columns(path, ROOT / "seeds" / path.name, project / "seeds" / path.name)
    (project / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "manifest.schema.json", project / "docs")
    return project


def _seed_with_project_columns(generated: Path, ours: Path, target: Path) -> None:
    """The generated seed, with the columns the project's seed has and it lacks (empty):
    the synthetic seed set may trail a column added to the project since."""
    import csv

    with ours.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    with generated.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n", restval="")
        writer.writeheader()
        writer.writerows(rows)


def _change_one_edition(data: Path) -> str:
    """Drop the last response of the first LimeSurvey (CSV) edition (the synthetic
    exports hold one record per line); the edition's name."""
    for edition in sorted(p for p in data.iterdir() if p.is_dir()):
        exports = sorted(edition.glob("*.csv"))
        if exports:
            body = exports[0].read_bytes().rstrip(b"\r\n")
            exports[0].write_bytes(body[: body.rindex(b"\n") + 1])
            return edition.name
    raise RuntimeError(f"no CSV edition under {data}")


def _p5_steps(dagster_home: Path) -> list[str]:
    """Where the time of each P5 run went, one line per Dagster run (printed beside the
    table, to read which step still costs what)."""
    _, _, _, found = run_child("steps", str(dagster_home))
    lines = []
    for run in found["runs"]:
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in run["steps"].items())
        lines.append(f"   {run['job']}: {run['seconds']} s ({steps})")
    return lines


def p5_rows(out: Path, answers: int, seed: int) -> list[list[str]]:
    """`barometre run` on 10 synthetic editions (fresh warehouse), then one edition's export
    changed and `barometre run` again: the re-run loads that edition only and rebuilds
    it alone in core (incremental by edition), then the marts."""
    respondents = max(1, answers // (P5_EDITIONS * QUESTIONS_PER_THEME * 10))
    folder = out / f"p5_{answers}"
    generated = folder / "generated"
    if not (generated / "raw").is_dir():
        print(f"… P5: writing {P5_EDITIONS} editions, {label(answers)} answers", file=sys.stderr)
        measure(
            [
                sys.executable,
                __file__,
                "--child",
                "generate_editions",
                str(generated),
                str(respondents),
                str(P5_EDITIONS),
                str(seed),
            ]
        )
    for stale in ("raw", "w.duckdb", "w.duckdb.wal", "dagster", "published", "report", "logs"):
        path = folder / stale
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    shutil.copytree(generated / "raw", folder / "raw")
    project = _p5_project(folder, generated)
    env = {
        **os.environ,
        "PYTHONPATH": str(project / "orchestration"),
        "BAROMETRE_DATA_DIR": str(folder / "raw"),
        "BAROMETRE_WAREHOUSE": str(folder / "w.duckdb"),
        "BAROMETRE_PUBLISHED_DIR": str(folder / "published"),
        "BAROMETRE_REPORT_DIR": str(folder / "report"),
        "DAGSTER_HOME": str(folder / "dagster"),
    }
    barometre = str(Path(sys.executable).parent / "barometre")
    measure([barometre, "prepare"], env=env, cwd=folder)  # install time, not measured
    print(f"… P5: full `barometre run`, {P5_EDITIONS} editions", file=sys.stderr)
    f_wall, f_cpu, f_rss, f_out = measure([barometre, "run"], env=env, cwd=folder)
    changed = _change_one_edition(folder / "raw")
    print(f"… P5: edition {changed} changed, `barometre run` again", file=sys.stderr)
    r_wall, r_cpu, r_rss, r_out = measure([barometre, "run"], env=env, cwd=folder)
    for line in _p5_steps(folder / "dagster"):
        print(line, file=sys.stderr)
    loaded = r_out.count(": loaded")
    if f_out.count(": loaded") != P5_EDITIONS or loaded != 1:
        raise RuntimeError(f"expected {P5_EDITIONS} then 1 edition(s) loaded:\n{f_out}\n{r_out}")
    ratio = r_wall / f_wall
    full = "P2" if answers >= 10_000_000 else "P5"
    return [
        [
            "P5",
            f"re-run after one changed edition of {P5_EDITIONS} ({label(answers)} answers "
            "in all) vs the full run",
            f"{r_wall:.1f} s (CPU {r_cpu:.1f} s) / {r_rss:,.0f} MiB",
            f"{f_wall:.1f} s (CPU {f_cpu:.1f} s) / {f_rss:,.0f} MiB",
            f"{100 * ratio:.0f} % of the full run (CPU {100 * r_cpu / f_cpu:.0f} %)",
            "≤ 30 %: " + ("met" if ratio <= 0.30 else "NOT met"),
        ],
        [
            full,
            f"full `barometre run`, {P5_EDITIONS} editions, {label(answers)} answers "
            "(fresh warehouse)",
            f"{f_wall:.1f} s (CPU {f_cpu:.1f} s) / {f_rss:,.0f} MiB",
            "",
            "",
            "completes on this machine" if full == "P2" else "context",
        ],
    ]


# The tools alone, for a location with dbt: `@dbt_assets` over the project's manifest
# (dagster-dbt then imports dbt's selection engine and reads the manifest).
DBT_ASSETS_FLOOR = """
import dagster, dagster_dbt
from dagster_dbt import dbt_assets
@dbt_assets(manifest={manifest!r})
def everything(context): ...
"""

# Run in each P4 child: `{code}`, then the CPU time and the time since the interpreter
# started (its start time read from /proc, in clock ticks since boot) when it returns.
LOAD_TIMER = """
import os, time
{code}
ticks = os.sysconf("SC_CLK_TCK")
with open("/proc/self/stat") as stat, open("/proc/uptime") as uptime:
    started = int(stat.read().rsplit(")", 1)[1].split()[19]) / ticks
    now = float(uptime.read().split()[0])
print(now - started, time.process_time())
"""


def p4_rows(repeats: int) -> list[list[str]]:
    py = sys.executable
    manifest = ROOT / "dbt_project" / "target" / "manifest.json"
    codes = {
        "ours": "import barometre.definitions",
        "floor": "import dagster, dagster_dbt",
        "dbt_assets": DBT_ASSETS_FLOOR.format(manifest=str(manifest)),
    }
    # per command: (load wall, load CPU, whole child's wall, its CPU, its peak RSS)
    runs: dict[str, list[tuple[float, ...]]] = {k: [] for k in codes}
    print(f"… P4: {repeats} × {len(codes)} imports, alternated", file=sys.stderr)
    for _ in range(repeats):
        for name, code in codes.items():
            wall, cpu, rss, out = measure([py, "-c", LOAD_TIMER.format(code=code)])
            load_wall, load_cpu = map(float, out.split()[-2:])
            runs[name].append((load_wall, load_cpu, wall, cpu, rss))
    load_wall, load_cpu, wall, cpu, rss = (
        {k: statistics.median(r[i] for r in v) for k, v in runs.items()} for i in range(5)
    )

    def cell(k: str) -> str:
        return f"{load_wall[k]:.2f} s wall, {load_cpu[k]:.2f} s CPU / {rss[k]:,.0f} MiB"

    def whole(k: str) -> str:
        return f"{wall[k]:.2f} s wall, {cpu[k]:.2f} s CPU"

    extra = load_cpu["ours"] - load_cpu["floor"]
    return [
        [
            "P4",
            "`import barometre.definitions` vs `import dagster, dagster_dbt`: the load, "
            f"until the import returns (median of {repeats})",
            cell("ours"),
            cell("floor"),
            f"{load_wall['ours'] - load_wall['floor']:+.2f} s wall, {extra:+.2f} s CPU",
            "≤ floor + 0.5 s (CPU): " + ("met" if extra <= 0.5 else "NOT met"),
        ],
        [
            "P4",
            "context: the same, whole process until it exits (the interpreter's clean-up included)",
            whole("ours"),
            whole("floor"),
            f"{wall['ours'] - wall['floor']:+.2f} s wall, {cpu['ours'] - cpu['floor']:+.2f} s CPU",
            "",
        ],
        [
            "P4",
            "context: the tools alone with one `@dbt_assets` over the same manifest (the load)",
            cell("dbt_assets"),
            cell("floor"),
            f"{load_wall['dbt_assets'] - load_wall['floor']:+.2f} s wall, "
            f"{load_cpu['dbt_assets'] - load_cpu['floor']:+.2f} s CPU",
            f"ours − this: {load_cpu['ours'] - load_cpu['dbt_assets']:+.2f} s CPU",
        ],
    ]


def _stop_group(proc: subprocess.Popen) -> None:
    """Stop `proc` and everything it started (its own process group): Ctrl-C first, as a
    user would, then SIGTERM, then SIGKILL for what is left (code servers, daemon)."""
    import signal

    for sig, grace in ((signal.SIGINT, 15.0), (signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            proc.poll()
            try:
                os.killpg(proc.pid, 0)  # anyone left in the group?
            except ProcessLookupError:
                return
            time.sleep(0.2)
    proc.wait()


UI_QUERY = {"query": "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"}


def ui_rows(out: Path, timeout: float = 180.0) -> list[list[str]]:
    """`barometre ui`: seconds until the web server answers, and until the location loaded."""
    import socket
    import urllib.request

    folder = out / "ui"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "BAROMETRE_WAREHOUSE": str(folder / "w.duckdb"),
        "DAGSTER_HOME": str(folder / "dagster"),
    }
    base = f"http://127.0.0.1:{port}"
    argv = [str(Path(sys.executable).with_name("barometre")), "ui", "--port", str(port)]
    print("… P4: `barometre ui` until it serves", file=sys.stderr)
    began = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    serving = loaded = None
    try:
        while time.perf_counter() - began < timeout and loaded is None:
            if proc.poll() is not None:
                raise RuntimeError(f"`barometre ui` exited with {proc.returncode}")
            try:
                if serving is None:
                    with urllib.request.urlopen(base + "/server_info", timeout=2) as answer:
                        if answer.status == 200:
                            serving = time.perf_counter() - began
                request = urllib.request.Request(
                    base + "/graphql",
                    data=json.dumps(UI_QUERY).encode(),
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=5) as answer:
                    entries = json.load(answer)["data"]["workspaceOrError"]["locationEntries"]
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    loaded = time.perf_counter() - began
            except (OSError, KeyError, TypeError, ValueError):
                pass
            time.sleep(0.1)
    finally:
        _stop_group(proc)

    def seconds(value: float | None) -> str:
        return f"{value:.1f} s" if value is not None else f"not within {timeout:.0f} s"

    return [
        [
            "P4",
            "`barometre ui`: start until the web server answers (`/server_info`)",
            seconds(serving),
            "",
            "",
            "≤ 8 s: " + ("met" if serving is not None and serving <= 8 else "NOT met"),
        ],
        [
            "P4",
            "context: `barometre ui` until the code location is loaded (GraphQL)",
            seconds(loaded),
            "",
            "",
            "context",
        ],
    ]


def render(rows: list[list[str]]) -> str:
    head = ["target", "case", "project (time / peak RSS)", "floor", "ratio", "target"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1M", help="answers per P2 edition, e.g. 1M,3M,10M")
    p.add_argument("--imports", type=int, default=5, help="P4 runs of each import")
    p.add_argument(
        "--p3-respondents", type=int, default=20000, help="respondents per P3 edition (× 100)"
    )
    p.add_argument(
        "--skip",
        default="",
        help="comma-separated targets to skip (P1,P2,P3,P4,P5; IMPORTS or UI: one half of P4)",
    )
    p.add_argument(
        "--p5-answers",
        default="1M",
        help="answers in all over the 10 editions of P5; 10M also gives the P2 row "
        "'full barometre run on 10 editions totalling 10 M answers' (slow)",
    )
    p.add_argument(
        "--p1-repeat",
        type=int,
        default=1,
        help="P1 samples (each: cold run, bare build, warm run, bare build, in a folder of "
        "its own); with several, the table gives medians and every sample's ratio",
    )
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "output" / "run")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        name, *rest = args.child
        print(json.dumps(CHILDREN[name](*rest)))
        return 0

    skip = {s.strip().upper() for s in args.skip.split(",") if s.strip()}
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    rows: list[list[str]] = []
    if "P1" not in skip:
        rows += p1_rows(args.out, max(1, args.p1_repeat))
    if "P2" not in skip:
        rows += p2_rows([parse_size(s) for s in args.sizes.split(",")], args.out, args.seed)
    if "P3" not in skip:
        rows += p3_rows(args.p3_respondents, args.out, args.seed)
    if "P4" not in skip and "IMPORTS" not in skip:
        rows += p4_rows(args.imports)
    if "P4" not in skip and "UI" not in skip:
        rows += ui_rows(args.out)
    if "P5" not in skip:
        rows += p5_rows(args.out, parse_size(args.p5_answers), args.seed)
    print(render(rows))
    print(
        f"\n{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
        f"benchmark took {time.perf_counter() - began:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
