"""A tiny real sweep (two regimes × two seeds, 20,000 persons per agent, 2010–2013) shared by the dashboard tests,
the app built over it, a server on a free loopback port, and a headless Chromium; and two tiny sweeps whose
scenarios share their parameter draws and seeds (``bands_root``: what the bands include, and paired differences).

The browser is Debian's ``chromium`` with ``chromium-driver``; when they are missing and the tests run as root
they are installed with apt-get (``make test`` does the same first), otherwise the browser tests fail: in CI they
must run, never skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

SPEC = {"name": "dash_fixture", "levers": {"regimes": ["historical", "talent_only"]}, "replications": 2,
        "scale": 20000, "start": 2010, "end": 2013, "root_seed": 5,
        "outcomes": ["hukou_share", "suburban_dispersion_migrants"]}


@pytest.fixture(scope="session")
def results_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding one finished sweep, ``dash_fixture`` (made once per test process)."""
    from experiments.sweep import run_sweep

    root = tmp_path_factory.mktemp("results")
    spec = root.parent / "dash_fixture.yaml"
    spec.write_text(yaml.safe_dump(SPEC), "utf-8")
    summary = run_sweep(spec, root / "dash_fixture", workers=2)
    assert summary.ok, summary.failed
    return root


# reform and baseline, two parameter draws × one seed, 20,000 persons per agent, 2010–2011: four runs a sweep
BANDS_SPEC: dict[str, Any] = {"levers": {"regimes": ["historical", "talent_only"]}, "replications": 1,
                              "scale": 20000, "start": 2010, "end": 2011, "root_seed": 11,
                              "outcomes": ["hukou_share", "settlements_total"]}


@pytest.fixture(scope="session")
def two_point_posterior(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A posterior of two parameter sets (the installed calibration and a higher wage weight), equal weights."""
    from experiments.posterior import write_posterior
    from sim.params import calibrated_parameters

    path = tmp_path_factory.mktemp("posterior") / "posterior.json"
    base = dict(calibrated_parameters())
    write_posterior(path, [base, {**base, "beta_wage": base["beta_wage"] * 1.5}], [0.5, 0.5], {
        "method": "ABC-SMC (test)", "targets": [], "waves": [], "runs": 0, "seeds": {}, "code_version": "test",
        "date": "2026-12-02"})
    return path


@pytest.fixture(scope="session")
def one_point_posterior(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The installed calibration as a one-point posterior (``hukou calibrate --installed-posterior``): draws from it
    repeat one parameter set, so a band built on them is seed noise only."""
    from experiments.calibration.smm import CALIBRATED_FILE
    from experiments.posterior import posterior_from_calibrated, write_posterior

    path = tmp_path_factory.mktemp("point") / "posterior.json"
    write_posterior(path, *posterior_from_calibrated(CALIBRATED_FILE))
    return path


def _sweeps(root: Path, specs: dict[str, dict[str, Any]]) -> Path:
    """Run each spec (one process: less start-up than two for a few short runs) into ``root/<name>``."""
    from experiments.sweep import run_sweep

    for name, doc in specs.items():
        path = root.parent / f"{root.name}_{name}.yaml"
        path.write_text(yaml.safe_dump({"name": name, **doc}), "utf-8")
        summary = run_sweep(path, root / name, workers=1)
        assert summary.ok, summary.failed
    return root


@pytest.fixture(scope="session")
def bands_root(tmp_path_factory: pytest.TempPathFactory, two_point_posterior: Path,
               one_point_posterior: Path) -> Path:
    """Two finished sweeps: ``bands_params`` (both sets of a two-point posterior, each once) and ``bands_point``
    (two draws from a one-point posterior, the installed calibration written as one point)."""
    draws = {"bands_params": {"file": str(two_point_posterior), "draws": 2, "resample": False},
             "bands_point": {"file": str(one_point_posterior), "draws": 2}}
    return _sweeps(tmp_path_factory.mktemp("bands"),
                   {name: {**BANDS_SPEC, "parameter_draws": drawing} for name, drawing in draws.items()})


@pytest.fixture(scope="session")
def paired_root(tmp_path_factory: pytest.TempPathFactory, two_point_posterior: Path) -> Path:
    """Two finished sweeps of the historical rules against open registration (from 2016) to 2016, whose
    scenarios share their runs' identities: ``paired_draws`` (both sets of the two-point posterior × two seeds:
    bands of parameters and seeds) and ``paired_seeds`` (three seeds, every scenario on the baseline's:
    ``paired_seeds``, seed noise only). 14 runs of about a second."""
    common = {"levers": {"regimes": ["historical", "open_registration"]}, "scale": 20000, "start": 2010,
              "end": 2016, "root_seed": 13, "outcomes": ["hukou_share", "settlements_total"]}
    return _sweeps(tmp_path_factory.mktemp("paired"), {
        "paired_draws": {**common, "replications": 2,
                         "parameter_draws": {"file": str(two_point_posterior), "draws": 2, "resample": False}},
        "paired_seeds": {**common, "replications": 3, "paired_seeds": True}})


@pytest.fixture(scope="session")
def app(results_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The dashboard over the fixture (one app per process: Dash pages register their callbacks globally)."""
    from dashboard.app import create_app

    return create_app(results_root, scenarios=tmp_path_factory.mktemp("scenarios"),
                      cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def pages(app: Any) -> dict[str, Any]:
    """Page modules by short name, as Dash loaded them (for calling layouts and callbacks directly)."""
    import dash

    return {entry["module"].split(".")[-1]: sys.modules[entry["module"]] for entry in dash.page_registry.values()}


@pytest.fixture(scope="session")
def server(app: Any) -> Iterator[str]:
    """The app served on a free loopback port in a thread; yields its base URL."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True, name="dash-test-server")
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()


def ensure_chromium() -> tuple[str, str]:
    """Paths of chromium and chromedriver, installing Debian's packages when missing and running as root."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver) and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium", "chromium-driver"],
                       check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver):
        pytest.fail("chromium and chromium-driver are needed (apt-get install --no-install-recommends chromium "
                    "chromium-driver)")
    return browser, driver


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium driven by selenium, with a fresh profile and the browser console log kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = ensure_chromium()
    profile = tempfile.mkdtemp(prefix="hukou-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", f"--user-data-dir={profile}", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
