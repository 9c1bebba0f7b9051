"""District shares of a validation report: figure and tables, pure functions of its frames (no I/O, no Dash).

A separate module from figures.py (already past 500 lines) because it reads other frames: a report's
``district_shares`` and ``district_share_errors`` (experiments/calibration/shares.py), not its target table.
"""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from plotly.subplots import make_subplots

from dashboard.figures import PALETTE, empty_figure, plain
from dashboard.i18n import city_label, t, with_unit
from policies.cities import CITIES

__all__ = ["share_filter", "share_figure", "share_error_table", "share_table"]

_MODEL, _PERSISTENCE = PALETTE[0], PALETTE[4]


def _order(frame: pd.DataFrame) -> pd.DataFrame:
    cities = {c: i for i, c in enumerate(CITIES)}
    return frame.sort_values(["city", "year"], key=lambda c: c.map(lambda x: cities.get(x, 99))
                             if c.name == "city" else c, kind="stable")


@cache
def _layout(titles: tuple[str, ...], rows: int, cols: int) -> str:
    """The subplot grid (make_subplots is slow; a report has few distinct grids)."""
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles), vertical_spacing=min(0.3 / rows, 0.14),
                        horizontal_spacing=0.07)
    layout = fig.to_plotly_json()["layout"]
    layout.pop("template", None)
    return json.dumps(layout)


def share_filter(frame: pd.DataFrame, city: str = "all") -> pd.DataFrame:
    """The rows of a city ('all' for every one), cities in their usual order, years ascending."""
    rows = frame if city == "all" else frame[frame["city"] == city]
    return _order(rows).reset_index(drop=True)


def _name(row: Any, lang: str) -> str:
    name = row.district_name_cn if lang == "zh" and row.district_name_cn else row.district_name
    return str(name or row.district)


def _pp(value: float) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:+.2f}".replace("-", "−")


def share_figure(shares: pd.DataFrame, lang: str) -> dict[str, Any]:
    """One panel per city and year: simulated share (with its seed band) and the 2010 share carried forward,
    against the observed share; the diagonal is an exact forecast. Percent on both axes."""
    if shares.empty:
        return empty_figure(t("no_data", lang), lang)
    groups = [(k, g) for k, g in share_filter(shares).groupby(["city", "year"], sort=False)]
    cols = min(3, len(groups))
    rows = math.ceil(len(groups) / cols)
    kinds = [plain(t("kind_" + str(g["target_kind"].iloc[0]), lang)) for _, g in groups]
    titles = tuple(f"{city_label(c, lang)} {int(y)} · {k}" for ((c, y), _), k in zip(groups, kinds, strict=True))
    layout = json.loads(_layout(titles, rows, cols))
    data: list[dict[str, Any]] = []
    for n, ((_city, _year), g) in enumerate(groups):
        axes = {"xaxis": "x" if n == 0 else f"x{n + 1}", "yaxis": "y" if n == 0 else f"y{n + 1}"}
        names = [plain(_name(r, lang)) for r in g.itertuples(index=False)]
        obs, sim, per = (100 * g["observed_share"]).tolist(), (100 * g["simulated_share"]).tolist(), \
            (100 * g["persistence_share"]).tolist()
        top = float(np.nanmax([*obs, *sim, *per])) * 1.08
        data.append({"type": "scatter", "x": [0, top], "y": [0, top], "mode": "lines", "hoverinfo": "skip",
                     "line": {"color": "#999999", "width": 1}, "showlegend": False, **axes})
        data.append({"type": "scatter", "x": obs, "y": per, "mode": "markers", "name": t("persistence", lang),
                     "legendgroup": "persistence", "showlegend": n == 0,
                     "marker": {"color": _PERSISTENCE, "symbol": "circle-open", "size": 9},
                     "hovertext": [f"{nm}: {t('observed', lang)} {o:.2f}%, {t('persistence', lang)} {p:.2f}%"
                                   for nm, o, p in zip(names, obs, per, strict=True)],
                     "hoverinfo": "text", **axes})
        data.append({"type": "scatter", "x": obs, "y": sim, "mode": "markers+text", "name": t("simulated", lang),
                     "legendgroup": "simulated", "showlegend": n == 0, "text": names, "textposition": "top right",
                     "textfont": {"size": 9}, "marker": {"color": _MODEL, "size": 8},
                     "error_y": {"type": "data", "symmetric": False, "thickness": 1, "width": 2,
                                 "array": (100 * (g["simulated_hi"] - g["simulated_share"]).clip(lower=0)).tolist(),
                                 "arrayminus": (100 * (g["simulated_share"] - g["simulated_lo"]).clip(lower=0))
                                 .tolist()},
                     "hovertext": [f"{nm}: {t('observed', lang)} {o:.2f}%, {t('simulated', lang)} {s:.2f}% "
                                   f"({_pp(s - o)} pp)" for nm, o, s in zip(names, obs, sim, strict=True)],
                     "hoverinfo": "text", **axes})
        for axis in ("xaxis", "yaxis"):
            key = axis if n == 0 else f"{axis}{n + 1}"
            layout[key].update({"ticksuffix": "%", "rangemode": "tozero"})
    for n in range(len(groups), rows * cols):
        layout[f"xaxis{n + 1}"]["visible"] = False
        layout[f"yaxis{n + 1}"]["visible"] = False
    height = 330 * rows + 120
    return {"data": data, "layout": {**layout, "height": height, "hovermode": "closest",
                                     "title": {"text": t("shares_title", lang)},
                                     "margin": {"l": 60, "r": 20, "t": 110, "b": 40},
                                     "legend": {"orientation": "h", "yanchor": "bottom", "y": 1 + 45 / (height - 150),
                                                "x": 0}}}


def _num(value: float, digits: int = 2) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits) + 0.0


def share_error_table(errors: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Per city and year: mean absolute error (pp) of the model and of persistence, their ratio, and whether the
    model beats persistence (and by half, the project's bar). Numbers, units in the column names."""
    rows = [{t("city", lang): city_label(r.city, lang), t("year", lang): int(r.year),
             t("target_kind", lang): " / ".join(t(f"kind_{k}", lang) for k in str(r.target_kind).split("/") if k),
             t("districts_n", lang): int(r.districts), t("model_mae_pp", lang): _num(r.model_mae_pp),
             t("persistence_mae_pp", lang): _num(r.persistence_mae_pp),
             t("mae_ratio", lang): _num(r.ratio),
             t("beats_persistence", lang): t("yes" if r.beats_persistence else "no", lang),
             t("beats_half", lang): t("yes" if r.beats_half else "no", lang)}
            for r in share_filter(errors).itertuples(index=False)]
    return pd.DataFrame(rows)


def share_table(shares: pd.DataFrame, lang: str) -> pd.DataFrame:
    """One row per district and year: observed, simulated (band) and persistence shares in %, and both errors in
    pp, as numbers."""
    def pct(v: float) -> float | None:
        return _num(None if v is None else float(v) * 100)

    rows = [{t("city", lang): city_label(r.city, lang), t("year", lang): int(r.year),
             t("district", lang): f"{_name(r, lang)} ({r.district})",
             t("target_kind", lang): t(f"kind_{r.target_kind}", lang),
             with_unit(t("observed_share", lang), "%", lang): pct(r.observed_share),
             with_unit(t("simulated_share", lang), "%", lang): pct(r.simulated_share),
             with_unit(t("band_low", lang), "%", lang): pct(r.simulated_lo),
             with_unit(t("band_high", lang), "%", lang): pct(r.simulated_hi),
             with_unit(t("persistence_share", lang), "%", lang): pct(r.persistence_share),
             t("model_error_pp", lang): _num(r.model_error_pp),
             t("persistence_error_pp", lang): _num(r.persistence_error_pp)}
            for r in share_filter(shares).itertuples(index=False)]
    return pd.DataFrame(rows)
