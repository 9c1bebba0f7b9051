"""Real-browser tests in headless Chromium: every page loads without console errors, a regime choice changes the
chart, the calculator shows the expected total, the map draws every district, a shared URL reopens the view, and
a scenario name with HTML is shown as text."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from dashboard.components import PAGES
from dashboard.data import registry

TIMEOUT = 40


def wait_for(predicate: Callable[[], Any], timeout: float = TIMEOUT, what: str = "condition") -> Any:
    """Poll until ``predicate`` returns something truthy (its value), or fail naming what was awaited."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except Exception as exc:  # the DOM is being replaced under us: try again
            last = exc
        else:
            if last:
                return last
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what} (last: {last!r})")


def plot_traces(browser: Any, graph_id: str) -> list[dict[str, Any]]:
    """Name, type and point count of each trace plotly drew in a graph."""
    return browser.execute_script(
        "const el = document.querySelector(arguments[0] + ' .js-plotly-plot');"
        "if (!el || !el.data) { return null; }"
        "return el.data.map(t => ({name: t.name || '', type: t.type || 'scatter',"
        " n: (t.locations || t.x || t.y || []).length}));", f"#{graph_id}")


def severe_console(browser: Any) -> list[dict[str, Any]]:
    """Console errors since the last call (favicon requests are not the page's fault and are not made here)."""
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def keys() -> dict[str, str]:
    frame = registry().get("dash_fixture").scenarios()
    return dict(zip(frame["regimes"], frame["key"], strict=True))


GRAPHS = {"overview": "ov-graph", "compare": "cmp-graph", "map": "map-graph", "calculator": "calc-graph",
          "validation": "val-graph", "scenarios": None}


@pytest.mark.parametrize(("page", "path"), PAGES)
def test_every_page_loads_without_console_errors(browser: Any, server: str, page: str, path: str) -> None:
    severe_console(browser)
    for lang in ("en", "zh"):
        browser.get(f"{server}{path}?lang={lang}")
        wait_for(lambda: browser.find_elements("id", f"{page}-page"), what=f"{page} page")
        graph = GRAPHS[page]
        if graph:
            wait_for(lambda g=graph: plot_traces(browser, g), what=f"{graph} drawn")
        else:
            wait_for(lambda: browser.find_elements("id", "sb-run"), what="the run button")
        time.sleep(0.5)
        errors = severe_console(browser)
        assert not errors, errors


def test_choosing_another_regime_changes_the_chart_and_the_url_reopens_it(browser: Any, server: str) -> None:
    k = keys()
    browser.get(f"{server}/?exp=dash_fixture&metric=hukou_share&city=all")
    before = wait_for(lambda: plot_traces(browser, "ov-graph"), what="overview drawn")
    assert [t["name"] for t in before if t["type"] == "bar"] == ["historical", "talent_only"]
    browser.execute_script("window.dash_clientside.set_props('ov-regimes', {value: [arguments[0]]});",
                           k["talent_only"])
    def redrawn() -> list[str] | None:
        traces = plot_traces(browser, "ov-graph") or []  # one snapshot: the chart may redraw between two reads
        return [t["name"] for t in traces if t["type"] == "bar"] if len(traces) < len(before) else None

    assert wait_for(redrawn, what="redrawn chart") == ["talent_only"]
    shared = wait_for(lambda: k["talent_only"] in browser.current_url and browser.current_url, what="url updated")
    assert "regimes=" + k["talent_only"] in shared and "historical" not in shared
    browser.get(shared)  # the link reopens the same view
    def bars() -> list[str]:
        return [t["name"] for t in plot_traces(browser, "ov-graph") or [] if t["type"] == "bar"]

    reopened = wait_for(lambda: (drawn := bars()) == ["talent_only"] and drawn, what="the reopened chart")
    assert reopened == ["talent_only"]
    # first-use review: the chart toolbar offered to upload the chart to plotly's cloud
    buttons = [b.get_attribute("data-title") or "" for b in browser.find_elements("css selector",
                                                                                  "#ov-graph .modebar-btn")]
    assert buttons and not [b for b in buttons if "cloud" in b.lower() or "chart studio" in b.lower()]
    assert browser.find_element("id", "overview-link").get_attribute("textContent").endswith(shared.split("/", 3)[3])


def test_points_calculator_shows_the_expected_total(browser: Any, server: str) -> None:
    """The worked case of policies/points/cases/shenzhen_2017.yaml: 97 points."""
    query = {"date": "2017-06-01", "age": 30, "education": "bachelor", "full_time_degree": "false", "pension": 36,
             "medical": 36, "unemployment": 0, "work_injury": 0, "maternity": 0, "home_district": 440306,
             "work_district": 440306, "months_in_city": 36, "residence_permit_months": 36}
    browser.get(f"{server}/calculator?{urlencode(query)}")
    headline = wait_for(lambda: browser.find_element("id", "calc-headline").text, what="the total")
    assert "Total (shenzhen, " in headline and ": 97" in headline
    wait_for(lambda: any(r.text == "education_skill"
                         for r in browser.find_elements("css selector", "#calc-breakdown .ag-cell")),
             what="the breakdown grid")


@pytest.mark.parametrize(("city", "polygons"), [("chengdu", 20), ("guangzhou", 11), ("shenzhen", 9)])
def test_map_renders_every_district_of_a_city(browser: Any, server: str, city: str, polygons: int) -> None:
    browser.get(f"{server}/map?exp=dash_fixture&city={city}&metric=migrants")
    drawn = wait_for(lambda: len(browser.find_elements("css selector", "#map-graph path.js-fill")),
                     what="district shapes")
    assert drawn == polygons  # one filled shape per district with a boundary
    traces = plot_traces(browser, "map-graph")
    assert traces[-1]["n"] == (10 if city == "shenzhen" else polygons)  # Dapeng: a marker in Longgang


def test_scenario_name_with_html_renders_inert(browser: Any, server: str) -> None:
    name = "<img src=x onerror=\"document.title='pwned'\"><b>bold</b>"
    query = {"base": "chengdu", "quota_factor": 2, "end": 2012, "replications": 1, "scale": 100000, "name": name}
    browser.get(f"{server}/scenarios?{urlencode(query)}")
    button = wait_for(lambda: browser.find_element("id", "sb-run"), what="the run button")
    assert browser.find_element("id", "sb-name").get_attribute("value") == name
    button.click()
    link = wait_for(lambda: browser.find_elements("id", "sb-compare-link"), timeout=120, what="the finished run")
    shown = browser.find_element("id", "sb-name-shown")
    assert shown.text == name  # shown as text
    assert not shown.find_elements("tag name", "img") and browser.title != "pwned"
    assert json.dumps("pwned") not in browser.page_source.split("</title>")[0]
    link[0].click()
    traces = wait_for(lambda: plot_traces(browser, "cmp-graph"), what="the comparison")
    assert traces and "exp=scenario-" in browser.current_url and "city=chengdu" in browser.current_url


def test_validation_view_follows_its_url_and_writes_the_choice_back(browser: Any, server: str) -> None:
    browser.get(f"{server}/validation?city=chengdu&kind=validation")
    names = wait_for(lambda: {t["name"] for t in plot_traces(browser, "val-graph") or []}, what="validation drawn")
    assert "Observed: held out (validation)" in names and "Observed: fitted (calibration)" not in names
    cells = wait_for(lambda: (texts := [c.text for c in browser.find_elements("css selector", "#val-table .ag-cell")])
                     and "Chengdu" in texts and texts, what="the report table")
    assert "Chengdu" in cells and "Shenzhen" not in cells
    assert "−2.9%" in browser.find_element("id", "val-headline").text  # the report's headline, whatever the filter
    browser.execute_script("window.dash_clientside.set_props('val-kind', {value: 'calibration'});")
    shared = wait_for(lambda: "kind=calibration" in browser.current_url and browser.current_url, what="url updated")
    assert "city=chengdu" in shared and "report=shipped" in shared
    wait_for(lambda: "Observed: fitted (calibration)" in {t["name"] for t in plot_traces(browser, "val-graph") or []},
             what="the fitted points")
    assert not severe_console(browser)


def test_a_table_downloads_as_numbers_under_the_view_s_name(browser: Any, server: str, tmp_path: Any) -> None:
    """First-use review: every export was ``Data.csv`` with text such as "2.51 m"; now the file is named after the
    view and its cells are numbers, units in their own column (and a BOM, so Excel reads the Chinese)."""
    import csv

    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.get(f"{server}/validation?city=chengdu&kind=validation")
    wait_for(lambda: [c for c in browser.find_elements("css selector", "#val-table .ag-cell") if c.text == "Chengdu"],
             what="the report grid")
    button = browser.find_element("id", "val-table-csv")
    assert button.text == "Download CSV"
    browser.execute_script("arguments[0].click();", button)  # the figures above still move as they draw
    name = "hukou-validation-shipped-targets-chengdu-validation-en.csv"
    path = wait_for(lambda: (tmp_path / name).is_file() and (tmp_path / name), what=f"{name} downloaded")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert rows and {r["City"] for r in rows} == {"Chengdu"} and {r["Unit"] for r in rows} <= {"persons", "%"}
    census = next(r for r in rows if r["Target"] == "chengdu_residents_2020c")
    assert float(census["Observed"]) > 2e7 and abs(float(census["Relative error (%)"])) < 50  # not "20.9 m", "+3.2%"


def test_an_out_of_range_lever_is_named_with_its_allowed_range(browser: Any, server: str) -> None:
    """First-use review: quota ×20 gave "quota_factor: expected a number" (the browser sends no value for a number
    outside the input's range)."""
    browser.get(f"{server}/scenarios?{urlencode({'base': 'chengdu', 'quota_factor': 20})}")
    button = wait_for(lambda: browser.find_element("id", "sb-run"), what="the run button")
    assert browser.find_element("id", "sb-city").text.startswith("Chengdu")
    button.click()
    message = wait_for(lambda: browser.find_element("id", "sb-result").text, what="the message")
    assert "Points-round quota (× as written): must be a number from 0 to 10" in message
