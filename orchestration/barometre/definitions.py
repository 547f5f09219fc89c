"""The Dagster code location: one Definitions for the whole warehouse.

Each stage declares its own (`<stage>/defs.py`: assets, checks, jobs, sensors,
schedules, and the resources only it uses); they are merged here with the resource every
stage shares. The stage modules are imported as modules, never their `defs` objects, so
this module holds exactly one Definitions for Dagster to find.
"""

from __future__ import annotations

from dagster import Definitions

import barometre.common.frozen_tools  # noqa: F401  (first: see its docstring)
from barometre.common.resources import WarehouseResource
from barometre.common.settings import export_environment, get_settings
from barometre.ingest import defs as ingest
from barometre.publish import defs as publish
from barometre.serve import defs as serve
from barometre.transform import defs as transform
from barometre.validate import defs as validate

# dbt's profile reads BAROMETRE_WAREHOUSE: make sure it is set to the resolved path.
export_environment(get_settings())

defs = Definitions.merge(
    ingest.defs,
    validate.defs,
    transform.defs,
    publish.defs,
    serve.defs,
    Definitions(resources={"warehouse": WarehouseResource()}),
)
