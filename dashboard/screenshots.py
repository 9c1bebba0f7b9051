"""Screenshots of the real app for docs/dashboard.md: ``python -m dashboard.screenshots --results DIR``.

Starts ``hukou dashboard`` on a free loopback port, opens each page in headless Chromium (Debian's ``chromium``
and ``chromium-driver``), waits for its figure and saves ``docs/img/dashboard-<page>.png``.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

__all__ = ["VIEWS", "take", "main"]

VIEWS = (("overview", "/?metric=suburban_dispersion_migrants", "ov-graph"),
         ("overview-zh", "/?metric=hukou_share&lang=zh", "ov-graph"),
         ("compare", "/compare?city=chengdu&view=zones", "cmp-graph"),
         ("map", "/map?city=shenzhen&metric=migrants", "map-graph"),
         ("map-change", "/map?city=chengdu&metric=residents&mode=change", "map-graph"),
         ("calculator", "/calculator?date=2017-06-01&education=bachelor&full_time_degree=false&pension=36&"
                        "medical=36&unemployment=0&work_injury=0&maternity=0", "calc-graph"),
         ("scenarios", "/scenarios?base=chengdu&quota_factor=2", None),
         ("validation", "/validation?city=shenzhen", "val-graph"))


def take(results: Path, out: Path, only: list[str] | None = None) -> list[Path]:
    """Serve ``results`` on loopback and save one PNG per view into ``out`` (the views named in ``only``)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(Path(sys.executable).parent / "hukou"), "dashboard", "--results", str(results),
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='hukou-shots-')}", "--window-size=1400,1100"):
        options.add_argument(flag)
    driver = None
    saved = []
    try:
        for _ in range(240):
            try:
                if requests.get(base, timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        out.mkdir(parents=True, exist_ok=True)
        for name, path, graph in [v for v in VIEWS if not only or v[0] in only]:
            driver.get(base + path)
            deadline = time.monotonic() + 60
            while graph and time.monotonic() < deadline and not driver.execute_script(
                    "const e = document.querySelector(arguments[0]); return e && e.data && e.data.length;",
                    f"#{graph} .js-plotly-plot"):
                time.sleep(0.3)
            time.sleep(1.5)
            height = driver.execute_script("return document.body.scrollHeight")
            driver.set_window_size(1400, min(max(900, height + 40), 2400))
            time.sleep(0.5)
            target = out / f"dashboard-{name}.png"
            driver.save_screenshot(str(target))
            saved.append(target)
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(timeout=30)
    return saved


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m dashboard.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    parser.add_argument("--only", nargs="+", choices=[v[0] for v in VIEWS], help="these views only")
    args = parser.parse_args(argv)
    for path in take(args.results, args.out, args.only):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
