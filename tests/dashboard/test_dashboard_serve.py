"""Serving (issue 12, item 7): ``hukou dashboard`` runs gunicorn with several worker processes on loopback only,
validates its options in one line, and reads the results once, before the workers fork, leaving nothing open that a
fork would copy (no DuckDB connection, none of its threads)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(results: Path, tmp_path: Path, port: int, *extra: str, env: dict[str, str] | None = None) -> Any:
    """``python -m hukou_cli dashboard`` (this checkout's code, whatever ``hukou`` script is on the PATH)."""
    return subprocess.Popen([sys.executable, "-m", "hukou_cli", "dashboard", "--results", str(results), "--port",
                             str(port), "--scenarios", str(tmp_path / "scenarios"), *extra],
                            cwd=REPO, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _wait_for_page(base: str, proc: Any, seconds: float = 120) -> Any:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the dashboard exited: {proc.communicate()[0]}")
        try:
            page = requests.get(f"{base}/", timeout=10)
            if page.status_code == 200:
                return page
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError("the dashboard did not answer")


def _overview_request(base: str) -> dict[str, Any]:
    """An overview callback request built from the server's own dependency list."""
    import requests

    deps = requests.get(f"{base}/_dash-dependencies", timeout=30).json()
    dep = next(d for d in deps if d["output"].lstrip(".").startswith("ov-graph"))
    values = {"ov-exp": "dash_fixture", "ov-metric": "hukou_share", "ov-year": 2013, "ov-city": "all",
              "ov-lang": "en"}
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in dep["output"].strip(".").split("...")]
    inputs = [{"id": i["id"], "property": i["property"], "value": values.get(i["id"])} for i in dep["inputs"]]
    state = [{"id": s["id"], "property": s["property"], "value": values.get(s["id"])} for s in dep["state"]]
    return {"output": dep["output"], "outputs": outputs, "inputs": inputs, "state": state,
            "changedPropIds": ["ov-exp.value"]}


def test_hukou_dashboard_serves_with_several_worker_processes(results_root: Path, tmp_path: Path) -> None:
    """Two gunicorn workers under one master, listening on 127.0.0.1 only whatever HOST, PORT, GUNICORN_CMD_ARGS
    or WEB_CONCURRENCY say; pages and callbacks answer from both; SIGTERM stops master and workers."""
    import psutil
    import requests

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(results_root, tmp_path, port, "--workers", "2",
                  env={"HOST": "0.0.0.0", "PORT": "9", "GUNICORN_CMD_ARGS": "--bind 0.0.0.0:9 --workers 5",
                       "WEB_CONCURRENCY": "5"})
    try:
        page = _wait_for_page(base, proc)
        assert "_dash-config" in page.text and "Werkzeug" not in page.text
        master = psutil.Process(proc.pid)
        deadline = time.monotonic() + 60
        while len(master.children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = master.children()
        assert len(workers) == 2, workers
        listening = {c.laddr for p in [master, *workers] for c in p.net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN}
        assert listening == {("127.0.0.1", port)}
        body = _overview_request(base)
        answers = [requests.post(f"{base}/_dash-update-component", json=body, timeout=60) for _ in range(8)]
        assert all(a.status_code == 200 and "global-error" not in a.text for a in answers)
        assert all('"ov-graph"' in a.text for a in answers)
        assert requests.get(f"{base}/compare", timeout=30).status_code == 200
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert f"{base}/ with 2 worker processes" in out
    assert "read 1 experiment(s) and drew " in out
    assert not [p for p in workers if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_one_worker_and_no_warm_up(results_root: Path, tmp_path: Path) -> None:
    """``--workers 1 --no-warm``: one worker that reads the frames on first use."""
    import psutil

    port = _free_port()
    proc = _start(results_root, tmp_path, port, "--workers", "1", "--no-warm")
    try:
        _wait_for_page(f"http://127.0.0.1:{port}", proc)
        assert len(psutil.Process(proc.pid).children()) == 1
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    assert "with 1 worker process " in out and "read " not in out


def test_without_results_the_calculator_and_the_validation_report_are_still_served(tmp_path: Path) -> None:
    """First-use review: `hukou dashboard` with no results refused to start, though two pages need none."""
    port = _free_port()
    proc = _start(tmp_path / "no-sweeps-yet", tmp_path, port, "--workers", "1", "--no-warm")
    try:
        _wait_for_page(f"http://127.0.0.1:{port}", proc)  # it serves (it exited 2 before)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    assert "no finished sweep in" in out and "serving the points calculator and the validation report" in out


@pytest.mark.parametrize("value", ["0", "-1", "33", "two", "1.5", ""])
def test_a_bad_number_of_workers_is_one_line_and_exit_2(results_root: Path, value: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from hukou_cli.main import main

    assert main(["dashboard", "--results", str(results_root), "--workers", value]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hukou: error:") and "--workers" in err and "\n" not in err, err


def test_check_workers_refuses_what_is_not_a_small_count() -> None:
    from dashboard.app import MAX_WORKERS, check_workers, default_workers
    from policies.errors import InputError

    assert check_workers(1) == 1 and check_workers(MAX_WORKERS) == MAX_WORKERS
    assert 1 <= default_workers() <= (os.cpu_count() or 1)
    for bad in (0, -3, MAX_WORKERS + 1, True, 2.0, "2", None):
        with pytest.raises(InputError, match="--workers"):
            check_workers(bad)  # type: ignore[arg-type]


def test_serve_refuses_a_public_address_before_reading_anything(app: Any) -> None:
    from dashboard.app import serve
    from policies.errors import InputError

    with pytest.raises(InputError, match="loopback"):
        serve(app, host="0.0.0.0", port=9, workers=2)


def test_warm_reads_every_frame_and_leaves_no_thread_for_a_fork_to_copy(results_root: Path) -> None:
    import psutil

    from dashboard.data import STATS_VIEWS, Registry, warm

    reg = Registry(results_root)
    before = psutil.Process().num_threads()  # native threads too (DuckDB's), on every platform
    took = warm(reg)
    assert psutil.Process().num_threads() == before  # DuckDB's connections (and their threads) are closed
    assert list(took) == ["dash_fixture"]
    experiment = reg.get("dash_fixture")
    cached = set(experiment._cache)
    assert {"scenarios", "summary_city", "summary_district", "districts", "seeds", "runs:city"} <= cached
    assert {f"stats:{view}" for view in STATS_VIEWS} <= cached
    assert {f"stats:{view}:{city}" for view in STATS_VIEWS for city in ("shenzhen", "guangzhou", "chengdu")} <= cached


def test_warm_views_draws_every_compare_and_validation_view_once(app: Any, pages: dict[str, Any]) -> None:
    """The views drawn at start-up are those a request gets back (the same objects: a look-up, not a drawing)."""
    from dashboard.app import warm_views
    from dashboard.data import registry

    reg = registry()
    drawn = warm_views(reg)
    reports = len(reg.report_ids())
    pairs = sum(len(k) * (len(k) - 1) for k in (reg.get(i).scenario_keys() for i in reg.ids()))
    # validation + compare (pair × city × zone view × language) + the compare page's key findings (pair × city ×
    # language); other tests add scenarios
    assert drawn == reports * 4 * 2 * (1 + 4) + pairs * 3 * 2 * 2 + pairs * 3 * 2
    experiment = reg.get("dash_fixture")
    keys = experiment.scenario_keys()
    before = experiment.views.hits
    first = pages["compare"].update("dash_fixture", keys[0], keys[1], "chengdu", "zones", "zh")
    assert experiment.views.hits == before + 1
    assert pages["compare"].update("dash_fixture", keys[0], keys[1], "chengdu", "zones", "zh") is first
    findings = experiment.views.hits
    pages["compare"].briefing("dash_fixture", keys[1], keys[0], "guangzhou", "en")
    assert experiment.views.hits == findings + 1
    assert warm_views(reg, max_views=0) == reports * 4 * 2 * (1 + 4)  # compare views of large experiments: on use


def test_run_values_are_split_by_year_and_metric(results_root: Path) -> None:
    """The per-run values of a year and metric are those of the city tables; an unknown year or metric is empty."""
    from dashboard.data import Registry

    experiment = Registry(results_root).get("dash_fixture")
    values = experiment.run_values(2013.0, ["hukou_share", "return_rate"])
    assert set(values["metric"]) == {"hukou_share", "return_rate"} and len(values) == 2 * 2 * 2 * 3
    direct = experiment.sql("SELECT city, hukou_share FROM read_parquet('{folder}/data/city_year/*.parquet') "
                            "WHERE year = 2013 ORDER BY city, hukou_share")
    mine = values[values["metric"] == "hukou_share"].sort_values(["city", "value"])
    assert mine["value"].to_numpy() == pytest.approx(direct["hukou_share"].to_numpy())
    assert experiment.run_values(1999.0, ["hukou_share"]).empty
    assert list(experiment.run_values(2013.0, ["no_such_metric"]).columns) == ["key", "replicate", "city", "metric",
                                                                                "value"]


def test_scenarios_are_kept_beside_the_results_and_starts_leave_no_cache_folder(tmp_path: Path) -> None:
    """First-use review: scenarios lived in a fixed shared temporary folder (links to them died when it was
    cleared) and each start left a cache folder behind."""
    from dashboard.app import scenarios_folder

    results = tmp_path / "sweeps"
    (results / "one_sweep").mkdir(parents=True)
    (results / "one_sweep" / "manifest.json").write_text("{}", "utf-8")
    assert scenarios_folder(results) == results / "scenarios"
    assert scenarios_folder(results / "one_sweep") == results / "scenarios"  # never inside a sweep
    private = tmp_path / "tmp"
    private.mkdir()
    code = "import sys; from dashboard.app import create_app; create_app(sys.argv[1])"
    for _ in range(2):  # two starts
        subprocess.run([sys.executable, "-c", code, str(results)], cwd=REPO, check=True, timeout=120,
                       env={**os.environ, "TMPDIR": str(private)})
    assert list(private.iterdir()) == []  # nothing in the temporary directory
    assert sorted(p.name for p in (results / "scenarios").iterdir()) == ["_cache"]  # one cache, reused
