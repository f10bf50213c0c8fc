"""The report in a real browser: headless Chromium driven over the DevTools protocol.

A real run and a real sweep (serial executor) are reported on with ``cpnsim report``;
each page is opened in Debian's Chromium, and the test checks that it logs no console
error, makes no request but for the file itself, and draws every plot (an SVG with a
non-empty box holding drawn shapes). A full-page screenshot of each is kept as a test
artifact, in ``$CPNSIM_TEST_ARTIFACTS`` if set, else in pytest's temporary directory;
the path is printed.

Chromium is driven with ``websocket-client`` on the port Chromium picks itself
(``--remote-debugging-port=0``, read back from ``DevToolsActivePort``), on 127.0.0.1.
Without Chromium the test is skipped, except in CI (``CI`` set), where it fails:
``.ci/run`` installs Debian's ``chromium`` package.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--mute-audio", "--remote-debugging-address=127.0.0.1",
                  "--remote-debugging-port=0", "--window-size=1200,900")
PAGE_WIDTH_PX = 1200


def _chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class DevTools:
    """A minimal Chrome DevTools protocol client for one page target."""

    def __init__(self, ws_url: str) -> None:
        import websocket  # websocket-client (test extra)

        # suppress_origin: Chromium refuses DevTools connections that carry an Origin it does not allow.
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.events: list[dict[str, Any]] = []
        self._id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command and return its result; events read meanwhile are kept in :attr:`events`."""
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message)

    def wait_for(self, event: str, timeout_s: float = 60.0) -> None:
        """Read events until ``event`` arrives."""
        deadline = time.monotonic() + timeout_s
        while not any(e["method"] == event for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event} within {timeout_s} s")
            message = json.loads(self.ws.recv())
            if "method" in message:
                self.events.append(message)

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A headless Chromium on 127.0.0.1; yields the browser's DevTools HTTP address."""
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (the Makefile's `chromium` target installs Debian's package)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    log = open(profile.parent / "chromium.log", "w")  # noqa: SIM115 - open for the browser's lifetime
    proc = subprocess.Popen([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"chromium did not start: {(profile.parent / 'chromium.log').read_text()[-2000:]}")
            time.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _new_page(address: str) -> DevTools:
    import urllib.request

    request = urllib.request.Request(f"http://{address}/json/new?about:blank", method="PUT")
    with urllib.request.urlopen(request, timeout=30) as response:  # the loopback DevTools endpoint
        target = json.loads(response.read())
    return DevTools(target["webSocketDebuggerUrl"])


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``$CPNSIM_TEST_ARTIFACTS`` or a pytest temporary directory."""
    where = os.environ.get("CPNSIM_TEST_ARTIFACTS")
    path = Path(where) if where else tmp_path_factory.mktemp("report-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cpnsim(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "cluster", *args], cwd=ROOT, check=True, capture_output=True, text=True,
                   timeout=300)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``cpnsim report`` pages of a real short run and of the small sweep (serial executor)."""
    base = tmp_path_factory.mktemp("report-data")
    _cpnsim("run", "--out", str(base / "run"), "--set", "horizon_h=240", "--set", "replications=2", "--quiet")
    _cpnsim("sweep", "examples/sweeps/small-grid.toml", "--out", str(base / "sweep"), "--executor", "serial",
            "--quiet")
    # Two days of edwc_hourly by policy and deferral: the report's policy comparison (cluster/report/policies.py).
    spec = base / "policies.toml"
    spec.write_text(f'base = "{ROOT / "examples" / "edwc_hourly.toml"}"\nreplications = 2\n'
                    '[[axis]]\nkey = "policy"\ngrid = ["edwc", "nearest"]\n'
                    '[[axis]]\nkey = "signals.defer"\ngrid = [false, true]\n'
                    '[[axis]]\nkey = "horizon_h"\ngrid = [48.0]\n', encoding="utf-8")
    _cpnsim("sweep", str(spec), "--out", str(base / "policies"), "--executor", "serial", "--quiet")
    pages = {}
    for name in ("run", "sweep", "policies"):
        _cpnsim("report", str(base / name), "--html", str(base / f"{name}.html"), "--quiet")
        pages[name] = base / f"{name}.html"
    return pages


# Measured in the page: each plot's box, and how many of its shapes have a non-empty box.
_PLOTS_JS = """
(() => {
  const plots = [...document.querySelectorAll('svg.plot')].map(svg => {
    const box = svg.getBoundingClientRect();
    const shapes = [...svg.querySelectorAll('path, use, rect, line, polyline, polygon, circle, image')];
    const drawn = shapes.filter(el => { const b = el.getBBox(); return b.width > 0 || b.height > 0; });
    return {label: svg.getAttribute('aria-label'), width: box.width, height: box.height, drawn: drawn.length};
  });
  const sections = [...document.querySelectorAll('main section')].map(s => s.id);
  const captions = [...document.querySelectorAll('figure')].map(f => !!(f.querySelector('figcaption')
    && f.querySelector('figcaption').textContent.trim().length > 20));
  return JSON.stringify({plots, sections, captions, width: document.documentElement.scrollWidth,
                         height: document.documentElement.scrollHeight});
})()
"""


def _open(address: str, page: Path) -> tuple[DevTools, dict[str, Any]]:
    tab = _new_page(address)
    for domain in ("Page", "Network", "Runtime", "Log"):
        tab.call(f"{domain}.enable")
    tab.call("Emulation.setDeviceMetricsOverride", width=PAGE_WIDTH_PX, height=900, deviceScaleFactor=1,
             mobile=False)
    tab.call("Page.navigate", url=page.as_uri())
    tab.wait_for("Page.loadEventFired")
    result = tab.call("Runtime.evaluate", expression=_PLOTS_JS, returnByValue=True)
    return tab, json.loads(result["result"]["value"])


def _problems(tab: DevTools, page: Path) -> tuple[list[str], list[str]]:
    """(console errors, requests other than the page itself and inline data)."""
    errors, requests = [], []
    for e in tab.events:
        p = e.get("params", {})
        if e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif e["method"] == "Runtime.exceptionThrown":
            errors.append(str(p.get("exceptionDetails", {}).get("text")))
        elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
            errors.append(f"{p['entry'].get('source')}: {p['entry'].get('text')}")
        elif e["method"] == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if url != page.as_uri() and not url.startswith("data:"):
                requests.append(url)
    return errors, requests


def _screenshot(tab: DevTools, height: int, path: Path) -> None:
    tab.call("Emulation.setDeviceMetricsOverride", width=PAGE_WIDTH_PX, height=height, deviceScaleFactor=1,
             mobile=False)
    shot = tab.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    path.write_bytes(base64.b64decode(shot["data"]))


@pytest.mark.parametrize(("name", "sections"), [
    ("run", ["summary", "utilisation", "energy", "network"]),
    ("sweep", ["summary", "response", "utilisation", "energy", "policies", "network"]),
    ("policies", ["summary", "utilisation", "energy", "policies", "network"]),
])
def test_report_renders_in_chromium(name: str, sections: list[str], browser: str, reports: dict[str, Path],
                                    artifacts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tab, seen = _open(browser, reports[name])
    try:
        errors, requests = _problems(tab, reports[name])
        shot = artifacts / f"report-{name}.png"
        _screenshot(tab, int(seen["height"]), shot)
    finally:
        tab.close()
    with capsys.disabled():
        print(f"\nscreenshot of the {name} report: {shot}")
    assert errors == []
    assert requests == []
    assert seen["sections"][: len(sections)] == sections
    assert seen["plots"], "no plot on the page"
    for plot in seen["plots"]:
        assert plot["width"] > 100 and plot["height"] > 50, plot
        assert plot["drawn"] > 10, plot
    assert all(seen["captions"])  # every figure says what it shows
    assert seen["width"] <= PAGE_WIDTH_PX  # nothing forces a horizontal scroll
    assert shot.stat().st_size > 20_000  # a real picture, not a blank page
