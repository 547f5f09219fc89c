"""`barometre report`: the edition's report from the published copy (barometre.serve.report)."""

from __future__ import annotations

import argparse
from pathlib import Path

from barometre.common.console import fail as _fail
from barometre.common.console import say as _say
from barometre.common.settings import get_settings


def cmd_report(args: argparse.Namespace) -> int:
    from barometre.serve.report.build import ReportError, build_report, server_publication

    settings = get_settings()
    out = Path(args.out).expanduser().resolve() if args.out else settings.report_dir
    editions = [args.edition] if args.edition else None
    try:
        built = build_report(
            settings.published_dir,
            out,
            editions,
            say=_say,
            connection=server_publication(settings),
            force=args.force,
        )
    except ReportError as err:
        return _fail(str(err))
    for report in built:
        kept = "" if report.rendered else ", figures unchanged: page kept"
        _say(
            f"Report of edition {report.edition} (publication {report.publication}{kept}): "
            f"{report.path}"
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    report = subparsers.add_parser(
        "report",
        help="write the edition's report (self-contained HTML, French) from the published marts",
    )
    report.add_argument(
        "--edition", help="edition code, e.g. 2021 (default: every published edition)"
    )
    report.add_argument(
        "--out",
        help="output folder (default: BAROMETRE_REPORT_DIR, else build/report in the "
        "project); the report is written to <out>/<edition>/index.html",
    )
    report.add_argument(
        "--force",
        action="store_true",
        help="render every page again, even an edition whose figures did not change",
    )
    report.set_defaults(func=cmd_report)
