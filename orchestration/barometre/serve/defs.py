"""Stage 5's Dagster definitions: the HTML report, downstream of the publication (it is
refreshed by every `transform` run)."""

from dagster import Definitions

from barometre.serve.report.asset import barometre_report

defs = Definitions(assets=[barometre_report])
