"""A real headless Chromium for the report's tests, driven by the DevTools protocol.

`inspect_page` opens a local HTML file in Debian's `chromium` (fresh profile, no
background networking), records every console message, JavaScript exception and
network request the page causes, runs a DOM query, and saves a screenshot and a
printed PDF. The protocol is spoken over a websocket (`websockets`, already a
dependency of the project's stack); no browser-automation package is needed.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
    "--window-size=1200,900",
)


def chromium_or_skip() -> str:
    """Path of `chromium`; a clear skip outside CI, a failure in CI (CI must have it:
    `make test` installs it, see the Makefile's `browser` target)."""
    path = shutil.which("chromium")
    if path:
        return path
    message = (
        "Debian's `chromium` is not installed: run `make browser` as root "
        "(apt-get install chromium) to run the report's browser tests"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{message}; in CI it is required")
    pytest.skip(message)


@dataclass
class PageReport:
    console_errors: list[str] = field(default_factory=list)
    console_messages: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    evaluated: Any = None
    screenshot: Path | None = None
    pdf: Path | None = None


class _Session:
    """One flattened CDP session on a page target."""

    def __init__(self, ws, session_id: str, events: list[dict]) -> None:
        self.ws, self.session_id, self.events = ws, session_id, events
        self._ids = itertools.count(1000)

    def call(self, method: str, params: dict | None = None, timeout: float = 60) -> dict:
        return _call(self.ws, self._ids, self.events, method, params, self.session_id, timeout)


def _call(ws, ids, events, method, params=None, session_id=None, timeout=60.0) -> dict:
    message_id = next(ids)
    message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
    if session_id:
        message["sessionId"] = session_id
    ws.send(json.dumps(message))
    deadline = time.monotonic() + timeout
    while True:
        reply = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
        if reply.get("id") == message_id:
            if "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            return reply.get("result", {})
        events.append(reply)


def _wait_for(ws, events, method: str, timeout: float = 60) -> None:
    if any(e.get("method") == method for e in events):
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
        events.append(event)
        if event.get("method") == method:
            return
    raise TimeoutError(f"no {method} within {timeout} s")


def _drain(ws, events, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            events.append(json.loads(ws.recv(timeout=left)))
        except TimeoutError:
            return


def inspect_page(
    page: Path, *, expression: str, screenshot: Path, pdf: Path | None = None
) -> PageReport:
    chromium = chromium_or_skip()
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    # Its own process group: chromium's helpers (zygote, renderers, crashpad) outlive
    # the browser process by a moment and keep writing to the profile; the whole
    # group is stopped and waited for before the profile is removed.
    process = subprocess.Popen(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.exists() or len(port_file.read_text().splitlines()) < 2:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"chromium did not start: {process.stderr.read().decode()[-2000:]}"
                )
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=None) as ws:
            return _inspect(ws, page, expression, screenshot, pdf)
    finally:
        _stop_group(process)
        _remove_profile(Path(profile))


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to chromium's process group, SIGKILL after 20 s, then wait until no
    process of the group is left (the browser's helpers included)."""
    group = process.pid  # start_new_session: the group id is the leader's pid
    for sig, grace in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            process.poll()  # reaps the leader so that it does not linger as a zombie
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
    process.wait()


def _remove_profile(profile: Path) -> None:
    """The profile, removed; a few tries, as a helper outside the group (if any) may
    still be closing its files."""
    for _ in range(20):
        shutil.rmtree(profile, ignore_errors=True)
        if not profile.exists():
            return
        time.sleep(0.25)


def _inspect(ws, page: Path, expression: str, screenshot: Path, pdf: Path | None) -> PageReport:
    events: list[dict] = []
    ids = itertools.count(1)
    target = _call(ws, ids, events, "Target.createTarget", {"url": "about:blank"})
    attached = _call(
        ws, ids, events, "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
    )
    session = _Session(ws, attached["sessionId"], events)
    for domain in ("Page", "Runtime", "Log", "Network"):
        session.call(f"{domain}.enable")
    events.clear()
    url = page.resolve().as_uri()
    session.call("Page.navigate", {"url": url})
    _wait_for(ws, events, "Page.loadEventFired")
    _drain(ws, events, 1.5)  # late console messages or requests, if any
    report = PageReport()
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            report.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            report.console_messages.append(f"{params['type']}: {text}")
            if params["type"] in ("error", "assert"):
                report.console_errors.append(text)
        elif method == "Runtime.exceptionThrown":
            report.console_errors.append(json.dumps(params["exceptionDetails"])[:500])
        elif method == "Log.entryAdded":
            entry = params["entry"]
            report.console_messages.append(f"{entry['level']}: {entry['text']}")
            if entry["level"] == "error":
                report.console_errors.append(f"{entry['text']} ({entry.get('url', '')})")
    result = session.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
    report.evaluated = result["result"].get("value")
    # A full-page screenshot: the viewport is widened to the document's height.
    metrics = session.call("Page.getLayoutMetrics")
    size = metrics["cssContentSize"]
    height = min(int(size["height"]), 16000)
    shot = session.call(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": int(size["width"]), "height": height, "scale": 1},
        },
    )
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    report.screenshot = screenshot
    if pdf is not None:
        printed = session.call("Page.printToPDF", {"preferCSSPageSize": True}, timeout=120)
        pdf.write_bytes(base64.b64decode(printed["data"]))
        report.pdf = pdf
    _drain(ws, events, 0.5)
    report.requests += [
        e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
        and e["params"]["request"]["url"] not in report.requests
    ]
    return report
