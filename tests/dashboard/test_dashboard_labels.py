"""Labels from users' files reach plotly as plain text (issue 12, item 9): plotly reads ``<a href>``, ``<b>`` and
``<br>`` in titles, legends, hover text and ticks as markup, and a scenario label ``<a href=…>`` made an external
link in the legend. Figures are pure functions, so small hand-made frames with hostile labels go in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from dashboard import figures, geo, share_figures

EVIL = '<a href="https://example.org/x">click</a> <b>bold</b> & co'
SHOWN = '&lt;a href="https://example.org/x"&gt;click&lt;/a&gt; &lt;b&gt;bold&lt;/b&gt; &amp; co'


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _strings(value)


def _no_markup_from_users(fig: dict[str, Any]) -> list[str]:
    """Every string of the figure (traces and layout) carries no tag from EVIL; returns those that show it."""
    texts = list(_strings(fig))
    for text in texts:
        assert "<a" not in text.lower() and "<b>bold" not in text, text
    return [text for text in texts if SHOWN in text]


def test_overview_legend_and_hover_escape_scenario_labels() -> None:
    summary = pd.DataFrame([{"key": "a", "city": c, "year": 2012.0, "metric": "hukou_share", "mean": .5,
                             "ci_low": .49, "ci_high": .51, "n": 3} for c in ("shenzhen", "chengdu")])
    runs = pd.DataFrame([{"key": "a", "city": "shenzhen", "metric": "hukou_share", "value": .5, "replicate": 0}])
    fig = figures.overview_figure(summary, runs, {"a": EVIL}, "hukou_share", 2012.0, "en")
    bar = next(tr for tr in fig["data"] if tr["type"] == "bar")
    assert bar["name"] == SHOWN
    assert bar["hovertext"][0].startswith(SHOWN + "<br>")  # the figure's own line breaks stay markup
    assert _no_markup_from_users(fig)


def test_compare_and_map_titles_and_district_names_are_escaped() -> None:
    runs = pd.DataFrame([{"key": k, "replicate": r, "year": 2011.0, "metric": "hukou_share", "zone": "",
                          "value": v + r * .01} for k, v in (("a", .5), ("b", .4)) for r in range(3)])
    fig = figures.compare_figure(figures.difference_frame(runs, "a", "b"), "en", f"{EVIL} − base")
    assert fig["layout"]["title"]["text"] == f"{SHOWN} − base"
    _no_markup_from_users(fig)
    districts = pd.DataFrame({"district": [440303], "district_name": [EVIL], "district_name_cn": [EVIL],
                              "zone": ["core"], "city": "shenzhen"})
    summary = pd.DataFrame([{"key": k, "district": 440303, "year": 2012.0, "metric": "migrants", "mean": 100.0}
                            for k in ("a", "b")])
    frame = figures.map_frame(summary, districts, "migrants", 2012.0, "a", None)
    fig = figures.map_figure(frame, geo.district_geojson((440303,)), "migrants", "en", change=False,
                             title=f"Shenzhen · {EVIL}", subtitle=EVIL)
    assert fig["layout"]["title"]["text"] == f"Shenzhen · {SHOWN}<br><sup>{SHOWN}</sup>"
    polygon = next(tr for tr in fig["data"] if tr.get("fill") == "toself")
    assert polygon["name"] == SHOWN and fig["data"][-1]["hovertext"][0].startswith(f"<b>{SHOWN}</b>")
    _no_markup_from_users(fig)


def _report_rows(text: str) -> pd.DataFrame:
    frame = pd.DataFrame([("shenzhen", 2011.0, "residents", "calibration", 10.5e6, 10.7e6, 10.6e6, 10.8e6, text),
                          ("shenzhen", 2012.0, "residents", text, 10.5e6, 11.0e6, 10.9e6, 11.1e6, "sz")],
                         columns=["city", "year", "measure", "target_kind", "observed", "simulated_mean",
                                  "simulated_lo", "simulated_hi", "target_id"])
    frame["relative_error"] = frame["simulated_mean"] / frame["observed"] - 1
    frame["error"] = frame["simulated_mean"] - frame["observed"]
    frame["z"] = frame["relative_error"] / 0.02
    frame["comparison"] = "equal"
    return frame


def _share_rows(text: str) -> pd.DataFrame:
    from dashboard.data import SHARE_COLUMNS

    frame = pd.DataFrame([("shenzhen", 2012.0, "440306", text, text, "outer_suburb", "calibration", 0.25, 0.21, 0.20,
                           0.22, 0.255, "t1", 4.0, 0.5)],
                         columns=["city", "year", "district", "district_name", "district_name_cn", "zone",
                                  "target_kind", "observed_share", "simulated_share", "simulated_lo", "simulated_hi",
                                  "persistence_share", "target_id", "model_error_pp", "persistence_error_pp"])
    return frame[list(SHARE_COLUMNS)]


def test_validation_share_points_and_empty_figures_escape_report_text() -> None:
    fig = figures.validation_figure(_report_rows(EVIL), "en")
    assert any(SHOWN in h for tr in fig["data"] for h in tr.get("hovertext", []))
    _no_markup_from_users(fig)
    fig = share_figures.share_figure(_share_rows(EVIL), "en")
    assert SHOWN in fig["data"][-1]["text"]
    _no_markup_from_users(fig)
    totals = pd.DataFrame({"regime": [EVIL, "b"], "total": [97.0, 40.0], "threshold": [100.0, None]})
    fig = figures.points_figure(totals, "en")
    assert fig["data"][0]["x"][0] == SHOWN and fig["data"][1]["x"][0] == SHOWN  # category ticks
    _no_markup_from_users(fig)
    assert _no_markup_from_users(figures.empty_figure(EVIL))
