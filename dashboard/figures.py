"""Figures and the frames behind them: pure functions of data frames, no I/O, no Dash.

Why pure: a figure is then tested by calling it with a small frame and reading the traces, and a callback stays a
line that picks data and hands it here. Every figure carries its language (titles, hover text, number format).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.i18n import SHARE_METRICS, city_label, fmt_value, metric_label, t, zone_label

__all__ = ["PALETTE", "overview_frame", "overview_figure", "difference_frame", "compare_figure",
           "compare_table", "map_frame", "map_figure", "validation_frame", "validation_figure", "points_figure",
           "empty_figure", "COMPARE_PANELS", "GRAPH_CONFIG"]

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
           "#bcbd22")
# Panels of the compare page: (title metric, metrics drawn in it).
COMPARE_PANELS = (
    ("suburban_dispersion_migrants", ("suburban_dispersion_migrants",)),
    ("talent_share_settlers", ("talent_share_settlers",)),
    ("hukou_share", ("hukou_share",)),
    ("settlements_total", ("settlements_talent", "settlements_points", "settlements_other")),
    ("time_to_hukou_years", ("time_to_hukou_years",)),
    ("school_access", ("school_access",)),
    ("return_rate", ("return_rate",)),
)
GRAPH_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
_CITIES = ("shenzhen", "guangzhou", "chengdu")


def _layout(fig: go.Figure, lang: str, title: str = "") -> go.Figure:
    fig.update_layout(title=title or None, template="plotly_white", margin={"l": 50, "r": 20, "t": 50, "b": 40},
                      separators=".,", legend={"orientation": "h", "y": -0.15},
                      font={"family": "Noto Sans CJK SC, Microsoft YaHei, Arial, sans-serif"})
    return fig


def empty_figure(message: str, lang: str = "en") -> go.Figure:
    """A blank figure that says why it is blank (no data, bad input)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 15})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, lang)


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
    cities = {c: i for i, c in enumerate(_CITIES)}
    s = s.sort_values(["key", "city"], key=lambda c: c.map(order) if c.name == "key" else c.map(cities))
    return s, r


def overview_figure(summary: pd.DataFrame, runs: pd.DataFrame, labels: dict[str, str], metric: str, year: float,
                    lang: str) -> go.Figure:
    """Mean of a metric by city for each regime, with its 95% CI across seeds and each seed as a dot."""
    s, r = overview_frame(summary, runs, labels, metric, year)
    if s.empty:
        return empty_figure(t("no_data", lang), lang)
    fig = go.Figure()
    for i, (key, label) in enumerate(labels.items()):
        rows = s[s["key"] == key]
        if rows.empty:
            continue
        colour = PALETTE[i % len(PALETTE)]
        x = [city_label(c, lang) for c in rows["city"]]
        mean, low, high = rows["mean"].to_numpy(), rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy()
        text = [f"{label}<br>{city_label(c, lang)}: {fmt_value(metric, m, lang)}<br>{t('ci', lang)}: "
                f"{fmt_value(metric, lo, lang)} – {fmt_value(metric, hi, lang)} (n={int(n)})"
                for c, m, lo, hi, n in zip(rows["city"], mean, low, high, rows["n"], strict=True)]
        fig.add_trace(go.Bar(name=label, x=x, y=mean, marker_color=colour, offsetgroup=str(i),
                             error_y={"type": "data", "symmetric": False,
                                      "array": np.nan_to_num(high - mean), "arrayminus": np.nan_to_num(mean - low)},
                             hovertext=text, hoverinfo="text"))
        seeds = r[r["key"] == key] if len(r) else r
        if len(seeds):
            fig.add_trace(go.Box(name=f"{label} ({t('seed_values', lang)})", x=[city_label(c, lang)
                                                                              for c in seeds["city"]],
                                 y=seeds["value"], offsetgroup=str(i), marker_color=colour, boxpoints="all",
                                 fillcolor="rgba(0,0,0,0)", line={"width": 0}, pointpos=0, jitter=0.3,
                                 marker={"size": 5, "line": {"width": 1, "color": "white"}}, showlegend=False,
                                 hoverinfo="y"))
    fig.update_layout(barmode="group", boxmode="group")
    if metric in SHARE_METRICS:
        fig.update_yaxes(tickformat=".0%")
    return _layout(fig, lang, f"{metric_label(metric, lang)} · {_year_text(year, lang)}")


def _year_text(year: float, lang: str) -> str:
    return f"{year:.2f} ({t('census_day', lang)})" if year % 1 else f"{int(year)}"


def difference_frame(values: pd.DataFrame, reform: str, baseline: str, level: float = 0.95) -> pd.DataFrame:
    """Reform minus baseline per year (and any other key columns), with a Welch confidence interval.

    ``values`` has one row per run (key, replicate, year, value, plus grouping columns such as metric and zone).
    A difference needs both scenarios; its interval needs at least two seeds in each (NaN otherwise).
    """
    from scipy import stats

    groups = [c for c in values.columns if c not in ("key", "replicate", "value")]
    v = values[values["key"].isin([reform, baseline])].dropna(subset=["value"])
    if v.empty:
        return pd.DataFrame(columns=[*groups, "reform", "baseline", "diff", "low", "high", "n_reform",
                                     "n_baseline"])
    agg = v.groupby([*groups, "key"], dropna=False)["value"].agg(["mean", "var", "count"]).unstack("key")
    out = pd.DataFrame(index=agg.index)
    for name, key in (("reform", reform), ("baseline", baseline)):
        for stat in ("mean", "var", "count"):
            out[f"{stat}_{name}"] = agg[(stat, key)] if (stat, key) in agg.columns else np.nan
    out["diff"] = out["mean_reform"] - out["mean_baseline"]
    a, b = out["var_reform"] / out["count_reform"], out["var_baseline"] / out["count_baseline"]
    se = np.sqrt(a + b)
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = (a + b) ** 2 / (a**2 / (out["count_reform"] - 1) + b**2 / (out["count_baseline"] - 1))
    tq = stats.t.ppf(0.5 + level / 2, dof.where(dof > 0))
    half = np.where(se > 0, tq * se, 0.0)
    valid = (out["count_reform"] >= 2) & (out["count_baseline"] >= 2)
    out["low"] = np.where(valid, out["diff"] - half, np.nan)
    out["high"] = np.where(valid, out["diff"] + half, np.nan)
    out = out.rename(columns={"mean_reform": "reform", "mean_baseline": "baseline", "count_reform": "n_reform",
                              "count_baseline": "n_baseline"}).drop(columns=["var_reform", "var_baseline"])
    return out.reset_index()


def _rgba(colour: str, alpha: float) -> str:
    h = colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def compare_figure(diff: pd.DataFrame, lang: str, title: str = "") -> go.Figure:
    """Small multiples: one panel per outcome, reform minus baseline over time with its confidence band.

    ``diff`` is ``difference_frame`` output with ``metric`` and ``zone`` columns (zone '' for the whole city);
    one line per zone, and per channel in the settlements panel.
    """
    if diff.empty:
        return empty_figure(t("no_data", lang), lang)
    diff = diff[diff["year"] % 1 == 0]  # year ends only: census-day rows carry no yearly flows
    titles = [metric_label(p[0] if len(p[1]) == 1 else "settlements_total", lang) for p in COMPARE_PANELS]
    fig = make_subplots(rows=4, cols=2, subplot_titles=titles, vertical_spacing=0.08, horizontal_spacing=0.08)
    zones = sorted(diff["zone"].unique(), key=lambda z: (z != "", z))
    multi = len(zones) > 1
    shown: set[str] = set()
    for p, (_, panel_metrics) in enumerate(COMPARE_PANELS):
        row, col = p // 2 + 1, p % 2 + 1
        metrics = ("settlements_total",) if multi and len(panel_metrics) > 1 else panel_metrics
        for z, zone in enumerate(zones):
            for m, metric in enumerate(metrics):
                d = diff[(diff["metric"] == metric) & (diff["zone"] == zone)].sort_values("year")
                if d.empty:
                    continue
                colour = PALETTE[(z if multi else m) % len(PALETTE)]
                name = zone_label(zone, lang) if zone else t("difference", lang)
                if len(metrics) > 1:
                    name = f"{name}: {metric_label(metric, lang)}" if zone else metric_label(metric, lang)
                x = d["year"].to_numpy()
                if d["low"].notna().any():
                    fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]),
                                             y=np.concatenate([d["high"].to_numpy(), d["low"].to_numpy()[::-1]]),
                                             fill="toself", fillcolor=_rgba(colour, 0.18), line={"width": 0},
                                             hoverinfo="skip", showlegend=False, legendgroup=name),
                                  row=row, col=col)
                hover = [f"{name} {int(y)}: {fmt_value(metric, v, lang)} [{fmt_value(metric, lo, lang)}, "
                         f"{fmt_value(metric, hi, lang)}]"
                         for y, v, lo, hi in zip(x, d["diff"], d["low"], d["high"], strict=True)]
                fig.add_trace(go.Scatter(x=x, y=d["diff"], mode="lines", name=name, line={"color": colour},
                                         hovertext=hover, hoverinfo="text", legendgroup=name,
                                         showlegend=name not in shown), row=row, col=col)
                shown.add(name)
        if metrics[0] in SHARE_METRICS:
            fig.update_yaxes(tickformat=".1%", row=row, col=col)
        fig.add_hline(y=0, line={"color": "#999", "width": 1}, row=row, col=col)
    fig.update_layout(height=1050)
    return _layout(fig, lang, title)


def compare_table(diff: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The last year's differences as a table for reading and CSV download."""
    if diff.empty:
        return pd.DataFrame()
    ends = diff[diff["year"] % 1 == 0]
    last = ends[ends["year"] == ends["year"].max()]
    rows = []
    for r in last.itertuples(index=False):
        rows.append({t("year", lang): int(r.year), t("zone", lang): zone_label(r.zone, lang) if r.zone else "–",
                     t("metric", lang): metric_label(r.metric, lang),
                     t("baseline", lang): fmt_value(r.metric, r.baseline, lang),
                     t("reform", lang): fmt_value(r.metric, r.reform, lang),
                     t("difference", lang): fmt_value(r.metric, r.diff, lang),
                     t("ci", lang): "–" if _nan(r.low) else f"{fmt_value(r.metric, r.low, lang)} – "
                                                              f"{fmt_value(r.metric, r.high, lang)}"})
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
               title: str = "") -> go.Figure:
    """The districts as filled polygons on longitude/latitude axes, coloured by value, with a dot per district
    carrying the hover details and the colour bar, and a diamond for a district that has no boundary.

    Plain axes rather than a geo map: plotly's geo layer fetches a world outline from a CDN, and the dashboard
    works offline.
    """
    from plotly.colors import sample_colorscale

    if frame.empty or frame["value"].isna().all():
        return empty_figure(t("no_data", lang), lang)
    shapes = {int(f["id"]): f["geometry"] for f in geojson["features"]}
    name_col = "district_name_cn" if lang == "zh" else "district_name"
    values = frame["value"].astype(float)
    if change:
        vmax = float(np.nanmax(np.abs(values))) or 1.0
        vmin, scale = -vmax, "RdBu_r"
    else:
        vmin, vmax, scale = float(np.nanmin(values)), float(np.nanmax(values)), "Viridis"
        vmax = vmax if vmax > vmin else vmin + 1.0

    def hover(r: Any) -> str:
        text = (f"<b>{getattr(r, name_col)}</b> ({r.district})<br>{zone_label(r.zone, lang)}<br>"
                f"{metric_label(metric, lang)}: {fmt_value(metric, r.value, lang)}")
        if change and "level" in frame.columns:
            text += (f"<br>{t('reform', lang)}: {fmt_value(metric, r.level, lang)} · {t('baseline', lang)}: "
                     f"{fmt_value(metric, r.baseline, lang)}")
        if marker_adcode is not None and int(r.district) == 440307:
            text += f"<br><i>{t('within_longgang', lang)}</i>"
        if marker_adcode is not None and int(r.district) == marker_adcode:
            text += f"<br><i>{t('dapeng_note', lang)}</i>"
        return text

    fig = go.Figure()
    dots: dict[str, list[Any]] = {"x": [], "y": [], "value": [], "text": [], "symbol": [], "size": []}
    for r in frame.itertuples(index=False):
        geometry = shapes.get(int(r.district))
        value = float(r.value)
        if geometry is not None:
            xs, ys = _rings(geometry)
            colour = "#dddddd" if math.isnan(value) else sample_colorscale(
                scale, [min(1.0, max(0.0, (value - vmin) / (vmax - vmin)))])[0]
            fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=colour, mode="lines",
                                     line={"color": "white", "width": 0.8}, hoveron="fills", hoverinfo="name",
                                     name=str(getattr(r, name_col)), meta=int(r.district), showlegend=False))
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
        dots["value"].append(value)
        dots["text"].append(hover(r))
    fig.add_trace(go.Scatter(
        x=dots["x"], y=dots["y"], mode="markers", hovertext=dots["text"], hoverinfo="text", showlegend=False,
        name="districts", marker={"color": dots["value"], "colorscale": scale, "cmin": vmin, "cmax": vmax,
                                  "symbol": dots["symbol"], "size": dots["size"],
                                  "line": {"color": "black", "width": 1}, "showscale": True,
                                  "colorbar": {"title": {"text": metric_label(metric, lang)},
                                               "tickformat": ".1%" if metric in SHARE_METRICS else None}}))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1 / math.cos(math.radians(
        float(np.mean(dots["y"])) if dots["y"] else 25.0)))
    fig.update_layout(height=620, hovermode="closest", plot_bgcolor="white")
    return _layout(fig, lang, title)


def validation_frame(simulated: pd.DataFrame, observed: pd.DataFrame) -> pd.DataFrame:
    """Observed figures beside the simulated mean and CI of the same city, measure and year (where simulated)."""
    sim = simulated.rename(columns={"metric": "measure"})[["city", "year", "measure", "mean", "ci_low", "ci_high"]]
    obs = observed.copy()
    obs["year_key"] = obs["year"].round(2)
    sim = sim.assign(year_key=sim["year"].round(2)).drop(columns="year")
    out = obs.merge(sim, on=["city", "measure", "year_key"], how="left").drop(columns="year_key")
    out["error"] = (out["mean"] - out["value"]) / out["value"]
    return out


def validation_figure(simulated: pd.DataFrame, observed: pd.DataFrame, lang: str) -> go.Figure:
    """Per city and measure: the simulated mean and CI over time, and the observed points."""
    if simulated.empty:
        return empty_figure(t("no_data", lang), lang)
    measures = ("residents", "hukou_residents")
    fig = make_subplots(rows=len(measures), cols=len(_CITIES), shared_xaxes=True,
                        subplot_titles=[f"{city_label(c, lang)} · {t(m, lang)}" for m in measures for c in _CITIES])
    for i, measure in enumerate(measures):
        for j, city in enumerate(_CITIES):
            s = simulated[(simulated["metric"] == measure) & (simulated["city"] == city)].sort_values("year")
            s = s[s["year"] % 1 == 0]
            o = observed[(observed["measure"] == measure) & (observed["city"] == city)]
            first = i == 0 and j == 0
            if len(s):
                x = s["year"].to_numpy()
                fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate(
                    [s["ci_high"].to_numpy(), s["ci_low"].to_numpy()[::-1]]), fill="toself",
                    fillcolor=_rgba(PALETTE[0], 0.2), line={"width": 0}, hoverinfo="skip", showlegend=False),
                    row=i + 1, col=j + 1)
                fig.add_trace(go.Scatter(x=x, y=s["mean"], mode="lines", line={"color": PALETTE[0]},
                                         name=t("simulated", lang), showlegend=first,
                                         hovertext=[f"{int(y)}: {fmt_value(measure, v, lang)}"
                                                    for y, v in zip(x, s["mean"], strict=True)], hoverinfo="text"),
                              row=i + 1, col=j + 1)
            if len(o):
                fig.add_trace(go.Scatter(x=o["year"], y=o["value"], mode="markers", name=t("observed", lang),
                                         marker={"color": PALETTE[1], "size": 8, "symbol": "x"}, showlegend=first,
                                         hovertext=[f"{y:g}: {fmt_value(measure, v, lang)}<br>{d}"
                                                    for y, v, d in zip(o["year"], o["value"], o["definition"],
                                                                       strict=True)], hoverinfo="text"),
                              row=i + 1, col=j + 1)
    fig.update_layout(height=640)
    return _layout(fig, lang, t("not_calibrated", lang))


def points_figure(totals: pd.DataFrame, lang: str) -> go.Figure:
    """Points under each regime (bars) against each regime's points line (markers)."""
    if totals.empty:
        return empty_figure(t("no_data", lang), lang)
    fig = go.Figure(go.Bar(x=totals["regime"], y=totals["total"], name=t("total", lang),
                           marker_color=PALETTE[0], text=[f"{v:g}" for v in totals["total"]],
                           textposition="outside"))
    if totals["threshold"].notna().any():
        fig.add_trace(go.Scatter(x=totals["regime"], y=totals["threshold"], mode="markers",
                                 name=t("threshold", lang), marker={"symbol": "line-ew-open", "size": 40,
                                                                   "color": PALETTE[1], "line": {"width": 3}}))
    return _layout(fig, lang, t("points", lang))
