"""barometre.common.idle_imports: what `barometre run` imports for the step after dbt starts
only once the dbt step says it merely waits for dbt; and the dbt step stops dbt when the
events it yields while dbt builds are interrupted."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from barometre.common import idle_imports


def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_the_imports_wait_for_the_step_to_be_idle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "barometre_heavy_probe.py").write_text("LOADED = True\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "barometre_heavy_probe", raising=False)
    monkeypatch.setattr(idle_imports, "_idle", threading.Event())  # not set by earlier tests

    idle_imports.import_when_idle(["barometre_heavy_probe", "barometre_no_such_module"])
    time.sleep(0.3)
    assert "barometre_heavy_probe" not in sys.modules  # asked for, not yet imported

    idle_imports.now_idle()
    assert _wait_for(lambda: "barometre_heavy_probe" in sys.modules)  # the missing one: no error
    monkeypatch.delitem(sys.modules, "barometre_heavy_probe")


def test_dbt_is_stopped_when_the_events_yielded_beside_it_are_interrupted() -> None:
    from barometre.transform.dbt_assets import _while_dbt_runs

    # a stand-in for dbt that only stops on SIGINT's default action or a kill
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    invocation = SimpleNamespace(process=process, termination_timeout_seconds=5)

    def events():
        yield "kept 1"
        raise KeyboardInterrupt

    seen = []
    with pytest.raises(KeyboardInterrupt):
        for event in _while_dbt_runs(invocation, events()):
            seen.append(event)
    assert seen == ["kept 1"]
    assert process.poll() is not None  # dbt no longer runs once the step lets go


def test_dbt_that_ignores_the_interrupt_is_killed() -> None:
    from barometre.transform.dbt_assets import _while_dbt_runs

    ignoring = (
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "print(1, flush=True); time.sleep(60)"
    )
    process = subprocess.Popen([sys.executable, "-c", ignoring], stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline()  # handler installed
    invocation = SimpleNamespace(process=process, termination_timeout_seconds=0.5)

    def events():
        raise RuntimeError("storage failed")
        yield  # pragma: no cover

    with pytest.raises(RuntimeError):
        list(_while_dbt_runs(invocation, events()))
    assert process.poll() is not None
