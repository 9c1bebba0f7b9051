"""Security: loopback only whatever HOST says, debug off, forged callback requests answered with a message or a
4xx (never a 500, never a file outside the results), request bodies capped."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dashboard.data import registry


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_binds_loopback_even_when_host_is_set(results_root: Path, tmp_path: Path) -> None:
    import psutil
    import requests

    port = _free_port()
    env = {**os.environ, "HOST": "0.0.0.0", "PORT": "9"}
    proc = subprocess.Popen([sys.executable, "-m", "hukou_cli", "dashboard", "--results", str(results_root),
                             "--port", str(port), "--scenarios", str(tmp_path)], env=env,
                            cwd=Path(__file__).resolve().parents[2],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        listening: list[Any] = []
        while time.monotonic() < deadline and not listening:
            listening = [c for c in psutil.Process(proc.pid).net_connections(kind="inet")
                         if c.status == psutil.CONN_LISTEN]
            time.sleep(0.3)
        assert [c.laddr for c in listening] == [("127.0.0.1", port)]
        page = requests.get(f"http://127.0.0.1:{port}/console", timeout=30)
        assert page.status_code == 200 and "_dash-config" in page.text  # the app's page, not Werkzeug's console
        assert "Werkzeug" not in page.text and "__debugger__" not in page.text
        resource = requests.get(f"http://127.0.0.1:{port}/?__debugger__=yes&cmd=resource&f=debugger.js", timeout=30)
        assert "CONSOLE_MODE" not in resource.text and "Werkzeug" not in resource.text
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in out


def test_cli_refuses_a_public_address(results_root: Path) -> None:
    from hukou_cli.main import main

    assert main(["dashboard", "--results", str(results_root), "--host", "0.0.0.0"]) == 2


def _payload(app: Any, output_prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    """A callback request as the browser would send it, for the callback whose output starts with the prefix."""
    app.server.test_client().get("/_dash-dependencies")  # callbacks are registered on the first request
    for output, spec in app.callback_map.items():
        if output.lstrip(".").startswith(output_prefix):
            inputs = [{"id": i["id"], "property": i["property"], "value": values.get(i["id"])}
                      for i in spec["inputs"]]
            state = [{"id": s["id"], "property": s["property"], "value": values.get(s["id"])}
                     for s in spec["state"]]
            outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]}
                       for o in output.strip(".").split("...")]
            return {"output": output, "outputs": outputs if len(outputs) > 1 else outputs[0], "inputs": inputs,
                    "state": state, "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
    raise AssertionError(f"no callback for {output_prefix}")


FORGED = [
    {"ov-exp": "../../../etc", "ov-regimes": None},
    {"ov-exp": "/etc/passwd", "ov-metric": "hukou_share"},
    {"ov-exp": {"$gt": ""}, "ov-year": [1, 2]},
    {"ov-exp": "dash_fixture", "ov-regimes": "x" * 500_000, "ov-year": "2013"},
    {"ov-exp": "dash_fixture", "ov-regimes": [{"a": 1}] * 100, "ov-metric": ["hukou_share"], "ov-city": 7},
    {"ov-exp": "dash_fixture", "ov-metric": "'; DROP TABLE runs; --", "ov-year": "NaN", "ov-lang": "../../"},
    {"ov-exp": ["dash_fixture", "../x"], "ov-year": 1e308},
]


@pytest.mark.parametrize("values", FORGED)
def test_forged_overview_requests_never_500(app: Any, values: dict[str, Any]) -> None:
    client = app.server.test_client()
    response = client.post("/_dash-update-component", json=_payload(app, "ov-graph", values))
    assert response.status_code in (200, 204, 400, 413), response.status_code
    assert b"root:x:" not in response.data and b"Traceback" not in response.data


@pytest.mark.parametrize("values", [
    {"map-exp": "dash_fixture", "map-city": "../../etc", "map-metric": "rent_index); SELECT 1; --"},
    {"map-exp": "..", "map-regime": "0" * 10_000},
])
def test_forged_map_requests_never_500(app: Any, values: dict[str, Any]) -> None:
    response = app.server.test_client().post("/_dash-update-component", json=_payload(app, "map-graph", values))
    assert response.status_code in (200, 204, 400)


@pytest.mark.parametrize("values", [
    {"calc-date": "9999-99-99", "calc-age": "thirty"}, {"calc-age": 10**30, "calc-education": ["x"]},
    {"calc-home_district": "../../etc/passwd", "calc-pension": -1}, {"calc-date": "2018-01-01" * 100_00},
])
def test_forged_calculator_requests_never_500(app: Any, values: dict[str, Any]) -> None:
    from dashboard.pages.calculator import DEFAULTS

    base = {f"calc-{k}": v for k, v in DEFAULTS.items()} | {"calc-go": 1, "calc-lang": "en"}
    response = app.server.test_client().post("/_dash-update-component",
                                             json=_payload(app, "calc-graph", base | values))
    assert response.status_code in (200, 204, 400), response.status_code
    if response.status_code == 200:
        assert "Invalid input" in response.get_data(as_text=True)


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"output": 5}', json.dumps({"output": "x.y"}).encode()])
def test_malformed_callback_bodies_are_4xx(app: Any, body: bytes) -> None:
    response = app.server.test_client().post("/_dash-update-component", data=body,
                                             content_type="application/json")
    assert 400 <= response.status_code < 500


def test_huge_bodies_are_refused(app: Any) -> None:
    response = app.server.test_client().post("/_dash-update-component", data=b"x" * 2_000_000,
                                             content_type="application/json")
    assert response.status_code == 413


@pytest.mark.parametrize("path", ["/vendor/../../etc/passwd", "/vendor/%2e%2e%2fapp.py", "/vendor/app.py",
                                  "/_dash-component-suites/../../etc/passwd"])
def test_no_file_outside_the_app_is_served(app: Any, path: str) -> None:
    response = app.server.test_client().get(path)
    assert b"root:x:" not in response.data and response.status_code != 500


def test_layouts_ignore_forged_query_values(pages: dict[str, Any]) -> None:
    page = pages["overview"].layout(exp="../../etc", regimes="<script>alert(1)</script>", metric="x" * 1000,
                                    year="1e999", city="<b>", lang="xx")
    text = str(page)
    assert "dash_fixture" in text and "<script>" not in text  # default experiment, unknown values dropped
    assert registry().default_id() == "dash_fixture"
