"""Headless Chromium for tests, driven by the Chrome DevTools Protocol over ``--remote-debugging-pipe``.

The pipe (file descriptors 3 and 4 of the browser, messages as JSON ending in a NUL byte; what Puppeteer and
Playwright use themselves) needs only the standard library: no port, no websocket client, no browser download.
``open_page`` loads a file and records what a test checks: console messages and errors, every network request,
element boxes, a full-page screenshot.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# --disable-background-networking and friends keep Chromium from calling home, which on a closed network floods
# the log with failed requests; --no-sandbox because CI runs as root.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars")
TIMEOUT_S = 30.0
BOXES_JS = """JSON.stringify(Object.fromEntries(Object.entries(SELECTORS).map(([key, selector]) => {
  const element = document.querySelector(selector);
  if (!element) return [key, null];
  const box = element.getBoundingClientRect(), style = getComputedStyle(element);
  return [key, {width: box.width, height: box.height,
                visible: style.visibility !== "hidden" && style.display !== "none"}];
})))"""


def find_chromium() -> str | None:
    """Debian's chromium (scripts/setup-env.sh installs it), or $CHROMIUM."""
    for candidate in (os.environ.get("CHROMIUM"), *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@dataclass
class PageRecord:
    """What happened while a page loaded."""

    console: list[dict[str, Any]] = field(default_factory=list)  # {"level", "text"}
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for, its own load included

    @property
    def errors(self) -> list[str]:
        return self.exceptions + [m["text"] for m in self.console if m["level"] in ("error", "assert")]


class Chromium:
    """One headless browser. A context manager; `close()` ends it."""

    def __init__(self, executable: str) -> None:
        self._profile = tempfile.mkdtemp(prefix="fer-edge-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire() -> None:  # in the child: its fd 3 reads our commands, its fd 4 writes the answers
            read_end, write_end = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self._process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self._profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire, pass_fds=(3, 4))
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._buffer = b""
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict:
        """Sends one command and waits for its answer (events that arrive meanwhile are kept in ``events``)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._receive(TIMEOUT_S)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str, timeout_s: float = TIMEOUT_S) -> dict:
        """The first event of that name (already received or still to come)."""
        deadline = time.monotonic() + timeout_s
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(self._receive(max(0.0, deadline - time.monotonic())))

    def _receive(self, timeout_s: float) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], timeout_s)
            chunk = os.read(self._from_browser, 1 << 20) if ready else b""
            if not chunk:
                raise TimeoutError("Chromium did not answer (timed out or exited)")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for fd in (self._to_browser, self._from_browser):
            os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _record(events: list[dict[str, Any]]) -> PageRecord:
    record = PageRecord()
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", []))
            record.console.append({"level": params.get("type"), "text": text})
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            record.console.append({"level": entry.get("level"), "text": entry.get("text", "")})
        elif method == "Runtime.exceptionThrown":
            record.exceptions.append(str(params.get("exceptionDetails", {}).get("text")))
        elif method == "Network.requestWillBeSent":
            record.requests.append(params.get("request", {}).get("url", ""))
    return record


def _load(browser: Chromium, path: Path, domains: tuple[str, ...],
          metrics: dict[str, Any] | None = None) -> tuple[str, str]:
    """A fresh tab with those DevTools domains on (their events recorded from here), ``path`` loaded in it:
    (target id, session id)."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in domains:
        browser.send(f"{domain}.enable", session=session)
    if metrics:
        browser.send("Emulation.setDeviceMetricsOverride", metrics, session=session)
    browser.events.clear()
    browser.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
    browser.wait_for("Page.loadEventFired")
    return target, session


def open_page(browser: Chromium, path: Path, width: int, height: int, selectors: dict[str, str],
              screenshot: Path | None = None) -> tuple[PageRecord, dict[str, dict[str, float]]]:
    """Loads a local file in a fresh tab of ``width`` x ``height`` CSS pixels; returns what happened and the
    bounding box ({"width", "height", "visible"}) of the first element of each selector (None: not found).
    With ``screenshot``, saves a PNG of the whole page there."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}
    target, session = _load(browser, path, ("Page", "Runtime", "Log", "Network"), metrics)
    script = BOXES_JS.replace("SELECTORS", json.dumps(selectors))
    boxes = json.loads(browser.send("Runtime.evaluate", {"expression": script, "returnByValue": True},
                                    session=session)["result"]["value"])
    if screenshot is not None:
        full = browser.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
        browser.send("Emulation.setDeviceMetricsOverride", {**metrics, "height": int(full["height"]) + 1},
                     session=session)
        shot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                            session=session)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
    record = _record([e for e in browser.events if e.get("sessionId") == session])
    browser.send("Target.closeTarget", {"targetId": target})
    return record, boxes


def print_to_pdf(browser: Chromium, path: Path) -> bytes:
    """The page as Chromium prints it (print CSS, A4-ish paper, no background colours): the PDF's bytes."""
    target, session = _load(browser, path, ("Page",))
    pdf = browser.send("Page.printToPDF", {"printBackground": False, "paperWidth": 8.27, "paperHeight": 11.69},
                       session=session)
    browser.send("Target.closeTarget", {"targetId": target})
    return base64.b64decode(pdf["data"])
