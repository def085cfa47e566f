"""Headless Chromium (Debian's ``chromium``) driven over the DevTools protocol on a pipe.

``--remote-debugging-pipe`` reads commands on fd 3 and answers on fd 4, NUL-separated
JSON: no port is opened. One browser serves several pages; each page reports what a
person's browser would do - the network requests it made, the console and security
messages it logged - and can be asked for layout boxes and for screenshots of a region.

Every command (and a page's load) must be answered within the browser's timeout. The browser runs in its own process
group with a temporary profile; closing it kills the whole group, so no Chromium process
outlives the test.
"""

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

BINARY = "chromium"
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # root in a container: the sandbox cannot start
    "--disable-gpu",
    "--remote-debugging-pipe",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--force-color-profile=srgb",
)


class BrowserError(RuntimeError):
    """Chromium answered with an error, died, or took too long."""


def group_processes(group):
    """PIDs of the live processes in process group ``group``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp. Zombies are gone once reaped.
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(int(entry))
    return found


class Browser:
    """One headless Chromium; use as a context manager."""

    def __init__(self, timeout=15.0, width=1150):
        self.timeout = timeout
        self.width = width
        self.profile = tempfile.mkdtemp(prefix="canary-report-chromium-")
        to_browser, self._commands = os.pipe()
        self._answers, from_browser = os.pipe()

        def plumb():
            # dup first: dup2 onto the same number would keep close-on-exec.
            read, write = os.dup(to_browser), os.dup(from_browser)
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.process = subprocess.Popen(
            [BINARY, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            preexec_fn=plumb,
            close_fds=False,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next_id = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _receive(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._answers], [], [], max(left, 0))
            if not ready:
                raise BrowserError(f"Chromium did not answer within {self.timeout}s")
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium exited (code {self.process.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=None, events=None):
        """Send one command; return its result. Events seen meanwhile go to ``events``."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer["result"]
            if events is not None:
                events.append(answer)

    def open(self, url):
        """Load ``url`` in a new tab and wait for its load event; return the Page."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        page = Page(self, session)
        for domain in ("Page", "Runtime", "Network", "Log"):
            page.call(f"{domain}.enable")
        page.call("Page.navigate", {"url": url})
        page.wait_for("Page.loadEventFired")
        return page

    def close(self):
        """Close Chromium, then kill whatever is left of its process group."""
        try:
            if self.process.poll() is None:
                self.call("Browser.close")
                self.process.wait(timeout=5)
        except (BrowserError, OSError, subprocess.TimeoutExpired):
            pass
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
            os.close(self._commands)
            os.close(self._answers)
            shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    """One tab: commands within its session, and the events it produced."""

    def __init__(self, browser, session):
        self.browser = browser
        self.session = session
        self.events = []

    def call(self, method, params=None):
        return self.browser.call(method, params, self.session, self.events)

    def wait_for(self, method):
        deadline = time.monotonic() + self.browser.timeout
        while not any(event.get("method") == method for event in self.events):
            self.events.append(self.browser._receive(deadline))

    def evaluate(self, expression):
        """The JSON value of a JavaScript expression evaluated in the page (by DevTools:
        the page's own Content-Security-Policy does not apply)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"evaluation failed: {result['exceptionDetails']}")
        return result["result"]["value"]

    def fit(self):
        """Make the viewport as tall as the page, so page coordinates are viewport ones."""
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": self.browser.width,
                "height": int(size["height"]) + 1,
                "deviceScaleFactor": 1,
                "mobile": False,
            },
        )

    def screenshot(self, box=None):
        """PNG bytes of the viewport, or of ``box`` = ``(x, y, width, height)``."""
        # Fast encoding: one cheap filter per row, quick to decode in Python.
        params = {"format": "png", "optimizeForSpeed": True}
        if box is not None:
            x, y, width, height = box
            params["clip"] = {"x": x, "y": y, "width": width, "height": height, "scale": 1}
        return base64.b64decode(self.call("Page.captureScreenshot", params)["data"])

    def requests(self):
        """URLs the page requested."""
        return [
            event["params"]["request"]["url"]
            for event in self.events
            if event.get("method") == "Network.requestWillBeSent"
        ]

    def problems(self):
        """Errors and warnings the page logged: script exceptions, console, security (CSP)."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in (
                "error",
                "warning",
            ):
                found.append(str(params.get("args")))
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                found.append(params["entry"]["text"])
        return found
