"""Stage 2's Dagster definitions: the great-expectations suites as asset checks on the
assets they guard (validate/checks.py). The ingestion's own blocking checks (row
contract, reconciliation) are declared with the ingestion asset, in ingest/."""

from dagster import Definitions

from barometre.validate.checks import QUALITY_CHECKS

defs = Definitions(asset_checks=QUALITY_CHECKS)
