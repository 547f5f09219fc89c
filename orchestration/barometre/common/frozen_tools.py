"""The tools' objects kept out of the garbage collector's walks (imported first by the code
location, barometre.definitions).

Importing dagster and dagster_dbt (and, through them, dbt) leaves ~10⁶ objects that the
collector walked again at each full collection while the location was built (the
manifest read, ~1,000 asset and check specs): ~0.13 s of a ~0.33 s build. Frozen
(`gc.freeze`: the permanent generation), they are no longer walked, here or later in
the process (the code server, run workers). They are module-level objects that live as
long as the process anyway.
"""

from __future__ import annotations

import gc

import dagster  # noqa: F401
import dagster_dbt  # noqa: F401

gc.freeze()
