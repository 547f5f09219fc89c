"""Heavy imports done in a background thread while this process only waits for dbt.

`barometre run` imports Great Expectations (~3 s of CPU) for the step that follows the
dbt build. Importing it as soon as the transform run is asked for competed for the GIL
and the second core with the work that comes before dbt's first node (the run's
planned events, the seed key, the kept seeds' events, dbt's own start): that stretch
took ~5.5 s instead of ~2.5 s at 10 M answers (docs/performance.md, session 10). So the
imports are asked for early (`import_when_idle`) but start only when the dbt step says
it now merely waits for dbt's output (`now_idle`).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence

_idle = threading.Event()


def import_when_idle(modules: Sequence[str]) -> None:
    """Import `modules` in a daemon thread once `now_idle()` was called (at once if it
    was already). A failed import is left to the step that uses the module: it imports
    it again and reports the error itself."""
    if not modules:
        return

    def work() -> None:
        _idle.wait()
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # the step imports it again and reports the error
                continue

    threading.Thread(target=work, name="barometre-idle-imports", daemon=True).start()


def now_idle() -> None:
    """This process now mostly waits (dbt builds in its own process): start the imports."""
    _idle.set()
