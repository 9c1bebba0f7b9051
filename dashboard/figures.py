"""Figures and the frames behind them: pure functions of data frames, no I/O, no Dash.

Why pure: a figure is then tested by calling it with a small frame and reading the traces, and a callback stays a
line that picks data and hands it here. Every figure carries its language (titles, hover text, number format).
"""

from __future__ import annotations

import html
import math
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from plotly.subplots import make_subplots

from dashboard.data import run_stats
from dashboard.fonts import FONT_STACK
from dashboard.geo import LONGGANG_ADCODE
from dashboard.i18n import (
    city_label,
    fmt_difference,
    fmt_number,
    fmt_share,
    fmt_value,
    metric_label,
    metric_number,
    metric_unit,
    t,
    with_unit,
    zone_label,
)
from policies.cities import CITIES
from sim.metrics import SETTLEMENT_METRICS, SHARE_METRICS

__all__ = ["PALETTE", "overview_frame", "overview_figure", "difference_frame", "run_stats", "difference_from_stats",
           "compare_figure",
           "compare_table", "map_frame", "map_figure", "validation_filter", "validation_summary", "census_misses",
           "validation_headline", "validation_summary_table", "validation_table", "validation_figure",
           "points_figure", "empty_figure", "COMPARE_PANELS", "GRAPH_CONFIG", "VALIDATION_KINDS",
           "VALIDATION_MEASURES"]

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
           "#bcbd22")
# Panels of the compare page: (title metric, metrics drawn in it).
COMPARE_PANELS = (
    ("suburban_dispersion_migrants", ("suburban_dispersion_migrants",)),
    ("talent_share_settlers", ("talent_share_settlers",)),
    ("hukou_share", ("hukou_share",)),
    ("settlements_total", SETTLEMENT_METRICS),
    ("time_to_hukou_years", ("time_to_hukou_years",)),
    ("school_access", ("school_access",)),
    ("return_rate", ("return_rate",)),
)
# No button that sends a chart to plotly's cloud (Chart Studio): results stay on this machine.
GRAPH_CONFIG: dict[str, Any] = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2},
                "showSendToCloud": False, "showEditInChartStudio": False, "plotlyServerURL": "",
                "modeBarButtonsToRemove": ["sendDataToCloud", "editInChartStudio"]}


def plain(text: Any) -> str:
    """Text from a user's files (scenario and regime labels, district names, report ids) as plotly shows it: plotly
    reads ``<a href=…>``, ``<b>``, ``<br>`` in titles, legends, hover text and ticks as markup (an external link in
    a legend, once), so ``<``, ``>`` and ``&`` become entities, which plotly draws as the characters themselves.
    Only for figures: Dash components already show text as text (escaping there would show ``&lt;``)."""
    return html.escape(str(text), quote=False)


def _figure(data: list[dict[str, Any]], lang: str, title: str = "", **layout: Any) -> dict[str, Any]:
    """A plotly figure dict (the JSON spec dcc.Graph draws).

    Why dicts and not ``graph_objects``: validating every property of every trace and the template cost 30–300 ms
    a figure, more than the rest of a request; a unit test validates each figure kind once with ``go.Figure``.
    """
    return {"data": data, "layout": {**_base_layout(lang, title), **layout}}


def empty_figure(message: str, lang: str = "en") -> dict[str, Any]:
    """A blank figure that says why it is blank (no data, bad input)."""
    return _figure([], lang, annotations=[{"text": plain(message), "showarrow": False, "x": 0.5, "y": 0.5,
                                           "xref": "paper", "yref": "paper", "font": {"size": 15}}],
                   xaxis={"visible": False}, yaxis={"visible": False})


def overview_frame(summary: pd.DataFrame, runs: pd.DataFrame, labels: dict[str, str], metric: str,
                   year: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The summary rows and per-seed values of one metric at one year, for the scenarios in ``labels``."""
    s = summary[(summary["metric"] == metric) & np.isclose(summary["year"], year)
                & summary["key"].isin(list(labels))].copy()
    r = runs[(runs["metric"] == metric) & runs["key"].isin(list(labels))].copy() if len(runs) else runs
    s["label"] = s["key"].map(labels)
    if len(r):
        r["label"] = r["key"].map(labels)
    order = {k: i for i, k in enumerate(labels)}
    cities = {c: i for i, c in enumerate(CITIES)}
    s = s.sort_values(["key", "city"], key=lambda c: c.map(order) if c.name == "key" else c.map(cities))
    return s, r


def overview_figure(summary: pd.DataFrame, runs: pd.DataFrame, labels: dict[str, str], metric: str, year: float,
                    lang: str) -> dict[str, Any]:
    """Mean of a metric by city for each regime, with its 95% CI across seeds and each seed as a dot."""
    s, r = overview_frame(summary, runs, labels, metric, year)
    if s.empty:
        return empty_figure(t("no_data", lang), lang)
    data: list[dict[str, Any]] = []
    for i, (key, raw_label) in enumerate(labels.items()):
        rows = s[s["key"] == key]
        if rows.empty:
            continue
        label = plain(raw_label)
        colour = PALETTE[i % len(PALETTE)]
        x = [city_label(c, lang) for c in rows["city"]]
        mean, low, high = rows["mean"].to_numpy(), rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy()
        text = [f"{label}<br>{city_label(c, lang)}: {fmt_value(metric, m, lang)}<br>{t('ci', lang)}: "
                f"{fmt_value(metric, lo, lang)} – {fmt_value(metric, hi, lang)} (n={int(n)})"
                for c, m, lo, hi, n in zip(rows["city"], mean, low, high, rows["n"], strict=True)]
        data.append({"type": "bar", "name": label, "x": x, "y": mean.tolist(), "marker": {"color": colour},
                     "offsetgroup": str(i), "hovertext": text, "hoverinfo": "text",
                     "error_y": {"type": "data", "symmetric": False, "array": np.nan_to_num(high - mean).tolist(),
                                 "arrayminus": np.nan_to_num(mean - low).tolist()}})
        seeds = r[r["key"] == key] if len(r) else r
        if len(seeds):
            data.append({"type": "box", "name": f"{label} ({t('seed_values', lang)})",
                         "x": [city_label(c, lang) for c in seeds["city"]], "y": seeds["value"].tolist(),
                         "offsetgroup": str(i), "boxpoints": "all", "fillcolor": "rgba(0,0,0,0)",
                         "line": {"width": 0}, "pointpos": 0, "jitter": 0.3, "showlegend": False, "hoverinfo": "y",
                         "marker": {"color": colour, "size": 5, "line": {"width": 1, "color": "white"}}})
    return _figure(data, lang, f"{metric_label(metric, lang)} · {_year_text(year, lang)}", barmode="group",
                   boxmode="group", yaxis={"tickformat": ".0%"} if metric in SHARE_METRICS else {})


def _year_text(year: float, lang: str) -> str:
    return f"{year:.2f} ({t('census_day', lang)})" if year % 1 else f"{int(year)}"


def difference_from_stats(stats: pd.DataFrame, reform: str, baseline: str, level: float = 0.95) -> pd.DataFrame:
    """Reform minus baseline from ``run_stats`` output, with a Welch confidence interval (NaN below two seeds):
    the band of scenarios whose runs are independent (``paired`` False). Scenarios that share their draws and
    seeds are compared run by run instead (``dashboard.paired.paired_difference``)."""
    from scipy import stats as st

    keys = set(stats.index.get_level_values("key").unique())  # a few keys, not one per row
    groups = [n for n in stats.index.names if n != "key"]
    if reform not in keys or baseline not in keys:
        return pd.DataFrame(columns=[*groups, "reform", "baseline", "diff", "low", "high", "n_reform",
                                     "n_baseline", "paired"])
    r = stats.xs(reform, level="key")
    b = stats.xs(baseline, level="key")
    out = r.add_suffix("_reform").join(b.add_suffix("_baseline"), how="inner")
    out["diff"] = out["mean_reform"] - out["mean_baseline"]
    a, c = out["var_reform"] / out["count_reform"], out["var_baseline"] / out["count_baseline"]
    se = np.sqrt(a + c)
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = (a + c) ** 2 / (a**2 / (out["count_reform"] - 1) + c**2 / (out["count_baseline"] - 1))
    tq = st.t.ppf(0.5 + level / 2, dof.where(dof > 0))
    half = np.where(se > 0, tq * se, 0.0)
    valid = (out["count_reform"] >= 2) & (out["count_baseline"] >= 2)
    out["low"] = np.where(valid, out["diff"] - half, np.nan)
    out["high"] = np.where(valid, out["diff"] + half, np.nan)
    out = out.rename(columns={"mean_reform": "reform", "mean_baseline": "baseline", "count_reform": "n_reform",
                              "count_baseline": "n_baseline"}).drop(columns=["var_reform", "var_baseline"])
    out["paired"] = False
    return out.reset_index()


def difference_frame(values: pd.DataFrame, reform: str, baseline: str, level: float = 0.95) -> pd.DataFrame:
    """Reform minus baseline per year (and any other key columns), with a Welch confidence interval.

    ``values`` has one row per run (key, replicate, year, value, plus grouping columns such as metric and zone).
    A difference needs both scenarios; its interval needs at least two seeds in each (NaN otherwise).
    """
    return difference_from_stats(run_stats(values), reform, baseline, level)


def _rgba(colour: str, alpha: float) -> str:
    h = colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def _base_layout(lang: str, title: str = "") -> dict[str, Any]:
    """Layout shared by the figures; ``title`` is plain text (pages build it from scenario labels): escaped."""
    return {**({"title": {"text": plain(title)}} if title else {}), "template": _template_dict(),
            "margin": {"l": 50, "r": 20, "t": 50, "b": 40}, "separators": ".,",
            "legend": {"orientation": "h", "y": -0.15},
            "font": {"family": FONT_STACK}}  # the page's stack: system CJK fonts, then the shipped subset


@cache
def _template_dict() -> dict[str, Any]:
    import plotly.io as pio

    return pio.templates["plotly_white"].to_plotly_json()


@cache
def _subplot_layout(titles: tuple[str, ...]) -> str:
    """The 4 × 2 grid's axes and titles as JSON (made once per language by make_subplots, then copied)."""
    import json

    fig = make_subplots(rows=4, cols=2, subplot_titles=list(titles), vertical_spacing=0.08, horizontal_spacing=0.08)
    return json.dumps(fig.to_plotly_json()["layout"])


def compare_figure(diff: pd.DataFrame, lang: str, title: str = "") -> dict[str, Any]:
    """Small multiples: one panel per outcome, reform minus baseline over time with its confidence band.

    ``diff`` is ``difference_frame`` output with ``metric`` and ``zone`` columns (zone '' for the whole city);
    one line per zone, and per channel in the settlements panel. Returned as a plotly figure dict: building
    dozens of traces through ``graph_objects`` validation cost more than everything else in a request.
    """
    import json

    if diff.empty:
        return empty_figure(t("no_data", lang), lang)
    diff = diff[diff["year"] % 1 == 0]  # year ends only: census-day rows carry no yearly flows
    zoned = bool((diff["zone"] != "").any())  # zone view: a panel title says what the metric means per zone
    titles = tuple(metric_label(p[0] if len(p[1]) == 1 else "settlements_total", lang, zone=zoned)
                   for p in COMPARE_PANELS)
    layout = {**json.loads(_subplot_layout(titles)), **_base_layout(lang, title), "height": 1050}
    layout["annotations"] = json.loads(_subplot_layout(titles))["annotations"]
    layout["shapes"] = []
    data: list[dict[str, Any]] = []
    zones = sorted(diff["zone"].unique(), key=lambda z: (z != "", z))
    multi = len(zones) > 1
    shown: set[str] = set()
    groups = {k: g.sort_values("year") for k, g in diff.groupby(["metric", "zone"])}
    for p, (_, panel_metrics) in enumerate(COMPARE_PANELS):
        axis = "" if p == 0 else str(p + 1)
        metrics = ("settlements_total",) if multi and len(panel_metrics) > 1 else panel_metrics
        for z, zone in enumerate(zones):
            for m, metric in enumerate(metrics):
                d = groups.get((metric, zone))
                if d is None or d.empty:
                    continue
                colour = PALETTE[(z if multi else m) % len(PALETTE)]
                if metric in SHARE_METRICS:  # a difference of shares is drawn in percentage points
                    d = d.assign(diff=d["diff"] * 100, low=d["low"] * 100, high=d["high"] * 100)
                name = zone_label(zone, lang) if zone else t("difference", lang)
                if len(metrics) > 1:
                    name = f"{name}: {metric_label(metric, lang)}" if zone else metric_label(metric, lang)
                x = d["year"].to_numpy()
                if d["low"].notna().any():
                    data.append({"type": "scatter", "x": np.concatenate([x, x[::-1]]).tolist(),
                                 "y": np.concatenate([d["high"].to_numpy(), d["low"].to_numpy()[::-1]]).tolist(),
                                 "fill": "toself", "fillcolor": _rgba(colour, 0.18), "line": {"width": 0},
                                 "hoverinfo": "skip", "showlegend": False, "legendgroup": name,
                                 "xaxis": f"x{axis}", "yaxis": f"y{axis}"})
                scale = 100 if metric in SHARE_METRICS else 1
                hover = [f"{name} {int(y)}: {fmt_difference(metric, v / scale, lang)} "
                         f"[{fmt_difference(metric, lo / scale, lang)}, {fmt_difference(metric, hi / scale, lang)}]"
                         for y, v, lo, hi in zip(x, d["diff"], d["low"], d["high"], strict=True)]
                data.append({"type": "scatter", "x": x.tolist(), "y": d["diff"].tolist(), "mode": "lines",
                             "name": name, "line": {"color": colour}, "hovertext": hover, "hoverinfo": "text",
                             "legendgroup": name, "showlegend": name not in shown,
                             "xaxis": f"x{axis}", "yaxis": f"y{axis}"})
                shown.add(name)
        if metrics[0] in SHARE_METRICS:
            layout.setdefault(f"yaxis{axis}", {}).update(
                {"tickformat": ".1f", "ticksuffix": " 个百分点" if lang == "zh" else " pp"})
        layout["shapes"].append({"type": "line", "xref": f"x{axis} domain", "x0": 0, "x1": 1, "yref": f"y{axis}",
                                 "y0": 0, "y1": 0, "line": {"color": "#999", "width": 1}})
    return {"data": data, "layout": layout}


def compare_table(diff: pd.DataFrame, lang: str, band: str | None = None) -> pd.DataFrame:
    """The last year's differences as a table for reading and CSV download: numbers, with their units in columns
    of their own (levels in the metric's unit, differences of shares in percentage points), and, given ``band``,
    what the interval includes and how it is made as the last column (so a downloaded CSV says it too)."""
    if diff.empty:
        return pd.DataFrame()
    ends = diff[diff["year"] % 1 == 0]
    last = ends[ends["year"] == ends["year"].max()]
    rows = []
    for r in last.itertuples(index=False):
        rows.append({t("year", lang): int(r.year), t("zone", lang): zone_label(r.zone, lang) if r.zone else "–",
                     t("metric", lang): metric_label(r.metric, lang, zone=bool(r.zone)),
                     t("unit", lang): metric_unit(r.metric, lang),
                     t("baseline", lang): metric_number(r.metric, r.baseline),
                     t("reform", lang): metric_number(r.metric, r.reform),
                     t("unit_difference", lang): metric_unit(r.metric, lang, difference=True),
                     t("difference", lang): metric_number(r.metric, r.diff, difference=True),
                     t("ci_low", lang): metric_number(r.metric, r.low, difference=True),
                     t("ci_high", lang): metric_number(r.metric, r.high, difference=True),
                     **({t("band_includes", lang): band} if band is not None else {})})
    return pd.DataFrame(rows)


def _nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def map_frame(summary: pd.DataFrame, districts: pd.DataFrame, metric: str, year: float, key: str,
              baseline: str | None = None) -> pd.DataFrame:
    """One row per district: its mean value (or change against the baseline) at the year, names and zone."""
    s = summary[(summary["metric"] == metric) & np.isclose(summary["year"], year)]
    value = s[s["key"] == key].set_index("district")["mean"]
    frame = districts.copy()
    frame["value"] = frame["district"].map(value)
    if baseline:
        base = s[s["key"] == baseline].set_index("district")["mean"]
        frame["baseline"] = frame["district"].map(base)
        frame["level"] = frame["value"]
        frame["value"] = frame["value"] - frame["baseline"]
    return frame


def _rings(geometry: dict[str, Any]) -> tuple[list[float | None], list[float | None]]:
    """Outer rings of a (Multi)Polygon as one x/y list with gaps (holes are drawn over: none matter at this scale)."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    xs: list[float | None] = []
    ys: list[float | None] = []
    for polygon in polygons:
        ring = polygon[0]
        xs += [p[0] for p in ring] + [None]
        ys += [p[1] for p in ring] + [None]
    return xs, ys


def _centre(geometry: dict[str, Any]) -> tuple[float, float]:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    ring = max((p[0] for p in polygons), key=len)
    return float(np.mean([p[0] for p in ring])), float(np.mean([p[1] for p in ring]))


def map_figure(frame: pd.DataFrame, geojson: dict[str, Any], metric: str, lang: str, *, change: bool,
               marker: tuple[float, float] | None = None, marker_adcode: int | None = None,
               title: str = "", subtitle: str = "") -> dict[str, Any]:
    """The districts as filled polygons on longitude/latitude axes, coloured by value, with a dot per district
    carrying the hover details and the colour bar, and a diamond for a district that has no boundary. ``subtitle``
    (the regimes) goes on a second, smaller title line: on one line the title ran off a phone's screen.

    Plain axes rather than a geo map: plotly's geo layer fetches a world outline from a CDN, and the dashboard
    works offline. A figure dict, not ``graph_objects``: validating thousands of boundary points per request
    cost 0.3 s.
    """
    from plotly.colors import diverging, sample_colorscale, sequential

    if frame.empty or frame["value"].isna().all():
        return empty_figure(t("no_data", lang), lang)
    shapes = {int(f["id"]): f["geometry"] for f in geojson["features"]}
    name_col = "district_name_cn" if lang == "zh" else "district_name"
    values = frame["value"].astype(float)
    # One explicit colour scale for the fills and the colour bar: a named scale is resolved differently by plotly.py
    # (which samples the fills) and plotly.js (which draws the bar from a figure dict), and "RdBu_r" is unknown to
    # plotly.js, so the bar and the fills disagreed. Change: losses red, gains blue (ColorBrewer RdBu).
    palette = diverging.RdBu if change else sequential.Viridis
    scale = [[i / (len(palette) - 1), c] for i, c in enumerate(palette)]
    if change:
        vmax = float(np.nanmax(np.abs(values))) or 1.0
        vmin = -vmax
    else:
        vmin, vmax = float(np.nanmin(values)), float(np.nanmax(values))
        vmax = vmax if vmax > vmin else vmin + 1.0

    def hover(r: Any) -> str:
        text = (f"<b>{plain(getattr(r, name_col))}</b> ({r.district})<br>{zone_label(r.zone, lang)}<br>"
                f"{metric_label(metric, lang)}: {fmt_value(metric, r.value, lang)}")
        if change and "level" in frame.columns:
            text += (f"<br>{t('reform', lang)}: {fmt_value(metric, r.level, lang)} · {t('baseline', lang)}: "
                     f"{fmt_value(metric, r.baseline, lang)}")
        if marker_adcode is not None and int(r.district) == LONGGANG_ADCODE:
            text += f"<br><i>{t('within_longgang', lang)}</i>"
        if marker_adcode is not None and int(r.district) == marker_adcode:
            text += f"<br><i>{t('dapeng_note', lang)}</i>"
        return text

    data: list[dict[str, Any]] = []
    dots: dict[str, list[Any]] = {"x": [], "y": [], "value": [], "text": [], "symbol": [], "size": []}
    # every district's colour in one call: plotly validates the colour scale on each call (5 ms, most of a request)
    finite = [float(v) for v in values if not math.isnan(v)]
    colours = dict(zip(finite, sample_colorscale(scale, [min(1.0, max(0.0, (v - vmin) / (vmax - vmin)))
                                                         for v in finite]) if finite else [], strict=True))
    for r in frame.itertuples(index=False):
        geometry = shapes.get(int(r.district))
        value = float(r.value)
        if geometry is not None:
            xs, ys = _rings(geometry)
            colour = "#dddddd" if math.isnan(value) else colours[value]
            data.append({"type": "scatter", "x": xs, "y": ys, "fill": "toself", "fillcolor": colour,
                         "mode": "lines", "line": {"color": "white", "width": 0.8}, "hoveron": "fills",
                         "hoverinfo": "name", "name": plain(getattr(r, name_col)), "meta": int(r.district),
                         "showlegend": False})
            cx, cy = _centre(geometry)
            dots["symbol"].append("circle")
            dots["size"].append(7)
        elif marker is not None and marker_adcode is not None and int(r.district) == marker_adcode:
            cx, cy = marker
            dots["symbol"].append("diamond")
            dots["size"].append(15)
        else:
            continue
        dots["x"].append(cx)
        dots["y"].append(cy)
        dots["value"].append(None if math.isnan(value) else value)
        dots["text"].append(hover(r))
    data.append({"type": "scatter", "x": dots["x"], "y": dots["y"], "mode": "markers", "hovertext": dots["text"],
                 "hoverinfo": "text", "showlegend": False, "name": "districts",
                 "marker": {"color": dots["value"], "colorscale": scale, "cmin": vmin, "cmax": vmax,
                            "symbol": dots["symbol"], "size": dots["size"], "line": {"color": "black", "width": 1},
                            # below the map, across it: a bar at the side took a third of a phone's width
                            "showscale": True, "colorbar": {"title": {"text": metric_label(metric, lang),
                                                                      "side": "top"},
                                                            "orientation": "h", "y": -0.02, "yanchor": "top",
                                                            "len": 0.9, "thickness": 14,
                                                            "tickformat": ".1%" if metric in SHARE_METRICS else ""}}})
    lat = float(np.mean(dots["y"])) if dots["y"] else 25.0
    layout = {**_base_layout(lang, title), "height": 620, "hovermode": "closest", "plot_bgcolor": "white",
              "margin": {"l": 10, "r": 10, "t": 70 if subtitle else 50, "b": 90}, "xaxis": {"visible": False},
              "yaxis": {"visible": False, "scaleanchor": "x", "scaleratio": 1 / math.cos(math.radians(lat))}}
    if subtitle:  # both parts escaped (plain), the line break and the smaller size are the figure's own markup
        layout["title"] = {"text": f"{plain(title)}<br><sup>{plain(subtitle)}</sup>"}
    return {"data": data, "layout": layout}


# Validation reports: the kinds of target, how their observed points are drawn, and the order of the measures.
VALIDATION_KINDS = ("calibration", "validation", "initial")
VALIDATION_MEASURES = ("residents", "residents_original", "residents_survey", "registered", "residents_central12",
                       "migrants", "residents_change", "settlements_points", "settlements_talent_cum")
# Measures the target figure leaves to a figure of their own (district shares: share_figures.py).
_OWN_FIGURE = ("district_share",)
_KIND_STYLE = {"calibration": ("#1f77b4", "circle"), "validation": ("#d62728", "diamond"),
               "initial": ("#7f7f7f", "square-open")}
_SIMULATED = "#444444"


def validation_filter(table: pd.DataFrame, city: str = "all", kind: str = "all") -> pd.DataFrame:
    """The report rows of a city and a target kind ('all' for every one)."""
    rows = table if city == "all" else table[table["city"] == city]
    return rows if kind == "all" else rows[rows["target_kind"] == kind]


def validation_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Error measures per target kind, as ``hukou validate`` computes them (validation_summary.csv, measure 'all'):
    target_kind, n, median and mean absolute relative error, bias, inside the seed band, within two sigma."""
    from experiments.calibration.validate import summarise

    if table.empty:
        return pd.DataFrame(columns=["target_kind", "n", "median_abs_rel_error", "mean_rel_error", "inside_band",
                                     "within_2_sigma"])
    out = summarise(table)
    out = out[out["measure"] == "all"].drop(columns="measure")
    order = {k: i for i, k in enumerate(VALIDATION_KINDS)}
    return out.sort_values("target_kind", key=lambda c: c.map(lambda k: order.get(k, 99))).reset_index(drop=True)


def census_misses(table: pd.DataFrame, year: int = 2020) -> pd.DataFrame:
    """The held-out census-day resident targets of a census year, one row per city (city order)."""
    rows = table[(table["target_kind"] == "validation") & (table["measure"] == "residents")
                 & (table["year"] % 1 > 0) & (np.floor(table["year"]) == year)]
    order = {c: i for i, c in enumerate(CITIES)}
    return rows.sort_values("city", key=lambda c: c.map(lambda x: order.get(x, 99)))


def _signed(value: float) -> str:
    return "–" if _nan(value) else f"{value:+.1%}".replace("-", "−")


def validation_headline(table: pd.DataFrame, lang: str, summary: pd.DataFrame | None = None) -> list[str]:
    """The report's headline as sentences drawn from its table: the median absolute relative error of the fitted
    and of the held-out targets, and the held-out 2020 census miss per city (``summary``: ``validation_summary`` of
    the table, when already computed)."""
    lines = []
    for r in (validation_summary(table) if summary is None else summary).itertuples(index=False):
        if r.target_kind in VALIDATION_KINDS:
            kind = t(f"kind_{r.target_kind}", lang)
            lines.append(t("headline_kind", lang).format(kind=kind[:1].upper() + kind[1:], n=int(r.n),
                                                         median=f"{r.median_abs_rel_error:.1%}",
                                                         bias=_signed(r.mean_rel_error),
                                                         within=f"{r.within_2_sigma:.0%}"))
    census = census_misses(table)
    if len(census):
        cities = ("、" if lang == "zh" else ", ").join(f"{city_label(r.city, lang)} {_signed(r.relative_error)}"
                                                     for r in census.itertuples(index=False))
        lines.append(t("headline_census", lang).format(cities=cities))
    return lines


def validation_summary_table(table: pd.DataFrame, lang: str, summary: pd.DataFrame | None = None) -> pd.DataFrame:
    """``validation_summary`` for reading: one row per target kind, labelled in the language (``summary``: that of
    the table, when already computed)."""
    rows = [{t("target_kind", lang): t(f"kind_{r.target_kind}", lang), t("targets", lang): int(r.n),
             t("median_abs_rel_error", lang): fmt_share(r.median_abs_rel_error, lang),
             t("bias", lang): _signed(r.mean_rel_error), t("inside_band", lang): fmt_share(r.inside_band, lang, 0),
             t("within_2_sigma", lang): fmt_share(r.within_2_sigma, lang, 0)}
            for r in (validation_summary(table) if summary is None else summary).itertuples(index=False)]
    return pd.DataFrame(rows)


def _report_year(year: float) -> str:
    return f"{year:.2f}" if year % 1 else f"{int(year)}"


def validation_table(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The report's rows for reading and CSV download: observed, simulated mean and band as numbers in the unit of
    their row (persons, or % for district shares), relative error and σ in %, z."""
    rows = []
    for r in table.itertuples(index=False):
        share = r.measure == "district_share"

        def num(v: float, share: bool = share) -> float | None:
            if _nan(v):
                return None
            return round(float(v) * 100, 2) + 0.0 if share else round(float(v)) + 0.0

        rows.append({t("city", lang): city_label(r.city, lang), t("year", lang): _report_year(r.year),
                     t("measure", lang): t(f"measure_{r.measure}", lang),
                     t("target_kind", lang): t(f"kind_{r.target_kind}", lang),
                     t("unit", lang): metric_unit("hukou_share" if share else "residents", lang),
                     t("lower_bound", lang): t("yes" if r.comparison == "at_least" else "no", lang),
                     t("observed", lang): num(r.observed), t("simulated_mean", lang): num(r.simulated_mean),
                     t("band_low", lang): num(r.simulated_lo), t("band_high", lang): num(r.simulated_hi),
                     with_unit(t("relative_error", lang), "%", lang): _percent(r.relative_error),
                     "z": None if _nan(r.z) else round(float(r.z), 2) + 0.0,
                     t("inside_band", lang): t("yes" if r.inside_band else "no", lang),
                     with_unit(t("sigma_rel", lang), "%", lang): _percent(r.sigma_rel),
                     t("target", lang): r.target_id, t("confidence", lang): r.confidence,
                     t("note", lang): r.note, t("source", lang): r.source})
    return pd.DataFrame(rows)


def _percent(value: float) -> float | None:
    """A fraction as a number of percent (2 decimals), None when undefined."""
    return None if _nan(value) else round(float(value) * 100, 2) + 0.0


@cache
def _validation_layout(titles: tuple[str, ...], rows: int, cols: int) -> str:
    import json

    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles), vertical_spacing=min(0.3 / rows, 0.12),
                        horizontal_spacing=0.07)
    return json.dumps(fig.to_plotly_json()["layout"])


def validation_figure(table: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Per city and measure: observed against the simulated mean and its seed band (simulated_lo/hi) over years.

    ``table`` is a validation report's table (``dashboard.data.REPORT_COLUMNS``), filtered as the reader chose.
    Observed points are marked by target kind (fitted calibration targets, held-out validation targets, the
    initial state), so the legend says which points the model was fitted to. District shares are left to
    share_figures.share_figure (many districts, one year each: not a series).
    """
    import json

    table = table[~table["measure"].isin(_OWN_FIGURE)]
    if table.empty:
        return empty_figure(t("no_data", lang), lang)
    cities = {c: i for i, c in enumerate(CITIES)}
    measures = {m: i for i, m in enumerate(VALIDATION_MEASURES)}
    panels = sorted({(c, m) for c, m in zip(table["city"], table["measure"], strict=True)},
                    key=lambda p: (cities.get(p[0], 99), p[0], measures.get(p[1], 99), p[1]))
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    titles = tuple(plain(f"{city_label(c, lang)} · {t(f'measure_{m}', lang)}") for c, m in panels)
    grid = json.loads(_validation_layout(titles, rows, cols))
    for n in range(len(panels), rows * cols):  # empty cells of the last row
        grid[f"xaxis{n + 1}"]["visible"] = False
        grid[f"yaxis{n + 1}"]["visible"] = False
    data: list[dict[str, Any]] = []
    shown: set[str] = set()
    groups = {k: g.sort_values("year") for k, g in table.groupby(["city", "measure"])}
    for n, (city, measure) in enumerate(panels):
        axes = {"xaxis": "x" if n == 0 else f"x{n + 1}", "yaxis": "y" if n == 0 else f"y{n + 1}"}
        d = groups[(city, measure)]
        span = float(d["year"].max() - d["year"].min())
        # whole years on the axis (not 2,020.5)
        grid["xaxis" if n == 0 else f"xaxis{n + 1}"].update({"tickformat": "d", **({"dtick": 1} if span < 3 else {})})
        sim = d[np.isfinite(d["simulated_mean"])]
        x = sim["year"].to_numpy()
        if len(sim) > 1:
            data.append({"type": "scatter", "x": np.concatenate([x, x[::-1]]).tolist(),
                         "y": np.concatenate([sim["simulated_hi"].to_numpy(),
                                              sim["simulated_lo"].to_numpy()[::-1]]).tolist(),
                         "fill": "toself", "fillcolor": _rgba(_SIMULATED, 0.15), "line": {"width": 0},
                         "hoverinfo": "skip", "showlegend": False, "legendgroup": "simulated", **axes})
        if len(sim):
            name = t("simulated_band", lang)
            data.append({"type": "scatter", "x": x.tolist(), "y": sim["simulated_mean"].tolist(),
                         "mode": "lines+markers" if len(sim) > 1 else "markers", "name": name,
                         "line": {"color": _SIMULATED, "width": 1.5, "dash": "dot"},
                         "marker": {"color": _SIMULATED, "size": 5},
                         "error_y": {"type": "data", "symmetric": False, "thickness": 1, "width": 3,
                                     "color": _SIMULATED,
                                     "array": (sim["simulated_hi"] - sim["simulated_mean"]).clip(lower=0).tolist(),
                                     "arrayminus": (sim["simulated_mean"] - sim["simulated_lo"]).clip(lower=0)
                                     .tolist()},
                         "hovertext": [f"{t('simulated_mean', lang)} {_report_year(y)}: {fmt_number(v, lang)} "
                                       f"[{fmt_number(lo, lang)} – {fmt_number(hi, lang)}]" for y, v, lo, hi in
                                       zip(x, sim["simulated_mean"], sim["simulated_lo"], sim["simulated_hi"],
                                           strict=True)],
                         "hoverinfo": "text", "legendgroup": "simulated", "showlegend": name not in shown, **axes})
            shown.add(name)
        for kind in [*VALIDATION_KINDS, *sorted(set(d["target_kind"]) - set(VALIDATION_KINDS))]:
            o = d[d["target_kind"] == kind]
            if o.empty:
                continue
            colour, symbol = _KIND_STYLE.get(kind, ("#000000", "x"))
            name = plain(f"{t('observed', lang)}: {t(f'kind_{kind}', lang)}")
            hover = [f"{plain(r.target_id)}<br>{_report_year(r.year)}: {t('observed', lang)} "
                     f"{'≥ ' if r.comparison == 'at_least' else ''}{fmt_number(r.observed, lang)}"
                     f"<br>{t('simulated_mean', lang)} {fmt_number(r.simulated_mean, lang)} "
                     f"({_signed(r.relative_error)}, z {r.z:+.1f})<br>{plain(t(f'kind_{kind}', lang))}"
                     for r in o.itertuples(index=False)]
            data.append({"type": "scatter", "x": o["year"].tolist(), "y": o["observed"].tolist(), "mode": "markers",
                         "name": name, "legendgroup": plain(kind), "showlegend": name not in shown,
                         "marker": {"color": colour, "symbol": symbol, "size": 9,
                                    "line": {"width": 1, "color": colour}},
                         "hovertext": hover, "hoverinfo": "text", **axes})
            shown.add(name)
    height = 280 * rows + 140
    layout = {k: v for k, v in grid.items() if k != "template"}
    return _figure(data, lang, **layout, height=height, margin={"l": 60, "r": 20, "t": 110, "b": 40},
                   legend={"orientation": "h", "yanchor": "bottom", "y": 1 + 45 / (height - 150), "x": 0})


def points_figure(totals: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Points under each regime (bars) against each regime's points line (markers)."""
    if totals.empty:
        return empty_figure(t("no_data", lang), lang)
    regimes = [plain(r) for r in totals["regime"]]  # category ticks: plain text
    data: list[dict[str, Any]] = [{"type": "bar", "x": regimes, "y": totals["total"].tolist(),
                                   "name": t("total", lang), "marker": {"color": PALETTE[0]},
                                   "text": [f"{v:g}" for v in totals["total"]], "textposition": "outside"}]
    if totals["threshold"].notna().any():
        data.append({"type": "scatter", "x": regimes,
                     "y": [None if pd.isna(v) else float(v) for v in totals["threshold"]], "mode": "markers",
                     "name": t("threshold", lang),
                     "marker": {"symbol": "line-ew-open", "size": 40, "color": PALETTE[1], "line": {"width": 3}}})
    return _figure(data, lang, t("points", lang))
