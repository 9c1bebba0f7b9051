"""Overview: the headline outcomes of each regime at a chosen year, with uncertainty across seeds."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboard.components import (
    band_badge,
    caveats,
    csv_export,
    csv_name,
    csv_params,
    described_scenarios,
    error_alert,
    graph,
    manifest_panel,
    regime_notes,
    reproduce_box,
    resolve_experiment,
    shell,
    summary_unavailable,
    sync_url,
    table,
    table_data,
)
from dashboard.controls import (
    city_options,
    experiment_options,
    filter_city,
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
from dashboard.figures import overview_figure
from dashboard.i18n import city_label, lang_of, metric_label, metric_number, metric_unit, t

dash.register_page(__name__, path="/", name="Overview", title="hukou-sim · overview", order=0)

HEADLINE = ("hukou_share", "suburban_dispersion_migrants", "talent_share_settlers", "settlements_total",
            "time_to_hukou_years", "school_access", "return_rate")


def layout(exp: str | None = None, lang: str | None = None, regimes: str | None = None, metric: str | None = None,
           year: str | None = None, city: str | None = None, manifest: str | None = None, **_: Any) -> html.Div:
    """The page for a query string (every control starts from it, so a shared link reopens the view); the
    experiment is found by its manifest hash first (``manifest``), then by name (``exp``)."""
    lang = lang_of(lang)
    experiment = resolve_experiment(exp, manifest)
    if experiment is None:
        return shell("overview", lang, None, [html.H2(t("overview_title", lang)), error_alert(t("no_results", lang),
                                                                                              lang)])
    if (unavailable := summary_unavailable(experiment, lang)) is not None:
        return shell("overview", lang, experiment.id, [html.H2(t("overview_title", lang)), unavailable])
    keys = pick_keys(experiment, regimes)
    described = described_scenarios(experiment, lang)
    controls = dbc.Row([
        dbc.Col([dbc.Label(t("experiment", lang)), dcc.Dropdown(experiment_options(), experiment.id,
                                                                 id="ov-exp", clearable=False)], md=3),
        dbc.Col([dbc.Label(t("regimes", lang)), dcc.Dropdown(described, keys, id="ov-regimes", multi=True)], md=4),
        dbc.Col([dbc.Label(t("metric", lang)), dcc.Dropdown(metric_options(lang), pick_metric(metric),
                                                             id="ov-metric", clearable=False)], md=2),
        dbc.Col([dbc.Label(t("year", lang)), dcc.Dropdown(year_options(experiment), pick_year(experiment, year),
                                                           id="ov-year", clearable=False)], md=1),
        dbc.Col([dbc.Label(t("city", lang)), dcc.Dropdown(city_options(lang), pick_city(city), id="ov-city",
                                                           clearable=False)], md=2),
    ], className="g-2 mb-3")
    return shell("overview", lang, experiment.id, requested=exp, manifest=manifest, body=[
        dcc.Store(id="ov-lang", data=lang),
        html.H2(t("overview_title", lang)), html.P(t("overview_intro", lang), className="text-muted"),
        controls, html.Div(regime_notes(described, None, lang), id="ov-regime-notes"),
        html.Div(id="ov-findings"),
        dcc.Loading(graph("ov-graph", filename="hukou-overview")),
        html.Ul(id="ov-caveats", className="small text-muted"),
        html.H5(t("overview_title", lang), className="mt-3"),
        table("ov-table", pd.DataFrame(), lang),
        reproduce_box("overview", lang),
        manifest_panel(experiment, lang, "overview",
                       f"SELECT * FROM summary_city_year WHERE year = {year_label(pick_year(experiment, year))}"),
    ])


def _headline_table(exp: str, keys: list[str], year: float, city: str, lang: str) -> pd.DataFrame:
    """Every headline metric of the chosen regimes at the year: mean and CI per city."""
    experiment = pick_experiment(exp)
    labels = labels_of(experiment, keys, lang)
    s = experiment.summary_city_at(year)
    s = filter_city(s[s["key"].isin(keys) & s["metric"].isin(HEADLINE)], city)
    rows = []
    for r in s.itertuples(index=False):
        rows.append({t("regime", lang): labels.get(r.key, r.key), t("city", lang): city_label(r.city, lang),
                     t("metric", lang): metric_label(r.metric, lang), t("unit", lang): metric_unit(r.metric, lang),
                     t("mean", lang): metric_number(r.metric, r.mean),
                     t("ci_low", lang): metric_number(r.metric, r.ci_low),
                     t("ci_high", lang): metric_number(r.metric, r.ci_high), "n": int(r.n),
                     # what the interval includes (experiments/store.py); summaries from before it: seeds only
                     t("band_includes", lang): t(str(getattr(r, "band", None) or "seed noise only"), lang)})
    return pd.DataFrame(rows)


@callback(Output("ov-regimes", "options"), Output("ov-regimes", "value"), Output("ov-year", "options"),
          Output("ov-year", "value"), Output("ov-regime-notes", "children"), Input("ov-exp", "value"),
          State("ov-regimes", "value"), State("ov-year", "value"), State("ov-lang", "data"),
          prevent_initial_call=True)
def on_experiment(exp: Any, regimes: Any, year: Any, lang: Any) -> tuple[Any, ...]:
    """Another experiment: its scenarios (with what their regimes are) and years, keeping the choices that exist
    in it."""
    lang = lang_of(lang)
    experiment = pick_experiment(exp)
    described = described_scenarios(experiment, lang)
    return (described, pick_keys(experiment, regimes),
            [{"label": o["label"], "value": o["value"]} for o in year_options(experiment)],
            pick_year(experiment, year), regime_notes(described, None, lang))


@callback(Output("ov-graph", "figure"), Output("ov-table", "rowData"), Output("ov-table", "columnDefs"),
          Output("ov-table", "csvExportParams"), Output("ov-caveats", "children"),
          Input("ov-exp", "value"), Input("ov-regimes", "value"), Input("ov-metric", "value"),
          Input("ov-year", "value"), Input("ov-city", "value"), State("ov-lang", "data"))
def update(exp: Any, regimes: Any, metric: Any, year: Any, city: Any, lang: Any) -> tuple[Any, ...]:
    """The chart and table of the chosen experiment, regimes, metric, year and city."""
    lang = lang_of(lang)
    experiment = pick_experiment(exp)
    keys = pick_keys(experiment, regimes)
    metric, year, city = pick_metric(metric), pick_year(experiment, year), pick_city(city)

    def compute() -> tuple[Any, ...]:
        labels = labels_of(experiment, keys, lang)
        summary = filter_city(experiment.summary_city_at(year), city)
        runs = filter_city(experiment.run_values(year, [metric]), city)
        figure = overview_figure(summary, runs, labels, metric, year, lang)
        data, columns = table_data(_headline_table(experiment.id, keys, year, city, lang))
        name = csv_name("overview", experiment.id, "headline_metrics", year_label(year), city, lang)
        return figure, data, columns, csv_params(name), caveats([metric, *HEADLINE], lang)
    return experiment.views.get(("overview", tuple(keys), metric, year, city, lang), compute)


def findings(exp: Any, regimes: Any, metric: Any, year: Any, city: Any, lang: Any) -> list[Any]:
    """Key findings above the chart: per city in view, the largest effect on the chosen metric among the regimes
    shown against the historical rules (``dashboard.findings.overview_findings``), as a sentence that says whether
    it stands out from the band's noise and carries the city's validation caveat, and how many of the regimes shown
    do, under a label of what the band includes (the sweep's manifest, ``dashboard.bands``)."""
    lang = lang_of(lang)
    experiment = pick_experiment(exp)
    keys = pick_keys(experiment, regimes)
    metric, year, city = pick_metric(metric), pick_year(experiment, year), pick_city(city)

    def compute() -> list[Any]:
        from dashboard.bands import band_note, noise_words
        from dashboard.controls import CITIES, year_text
        from dashboard.findings import baseline_key, finding_sentence, overview_findings, scenario_names

        base = baseline_key(experiment)
        if base is None:
            return []
        names = scenario_names(experiment, lang)
        base_name = names.get(base, base)
        cities = CITIES if city == "all" else (city,)
        found = overview_findings(experiment, keys, base, metric, year, cities)
        if not found:
            if [k for k in keys if k != base]:
                return []
            return [html.P(t("overview_findings_none", lang).format(baseline=base_name),
                           className="small text-muted", id="ov-findings-none")]
        items = []
        for finding, clear, compared in found:
            sentence = finding_sentence(finding, names.get(finding.reform, finding.reform), base_name, lang)
            count = t("overview_findings_count", lang).format(clear=clear, compared=compared, baseline=base_name,
                                                              city=city_label(finding.city, lang),
                                                              noise=noise_words(experiment.band, lang))
            items.append(html.Li([sentence, html.Br(), html.Small(count, className="text-muted")],
                                 className="text-body" if finding.distinguishable else "text-muted"))
        note = t("overview_findings_note", lang).format(metric=metric_label(metric, lang), year=year_text(year),
                                                         baseline=base_name) + " " + band_note(experiment.band, lang)
        return [html.Div([html.H5([t("key_findings", lang), " ", band_badge(experiment.band, lang, "ov-band")]),
                          html.P(note, className="small text-muted mb-1"),
                          html.Ul(items, className="mb-1")], className="border rounded p-2 mb-3",
                         id="ov-findings-box")]
    return experiment.views.get(("overview-findings", tuple(keys), metric, year, city, lang), compute)


@callback(Output("ov-findings", "children"), Input("ov-exp", "value"), Input("ov-regimes", "value"),
          Input("ov-metric", "value"), Input("ov-year", "value"), Input("ov-city", "value"), State("ov-lang", "data"))
def on_findings(exp: Any, regimes: Any, metric: Any, year: Any, city: Any, lang: Any) -> list[Any]:
    """The key findings of the chosen view."""
    return findings(exp, regimes, metric, year, city, lang)


@callback(Output("overview-python", "children"), Output("overview-sql", "children"), Input("ov-exp", "value"),
          Input("ov-regimes", "value"), Input("ov-metric", "value"), Input("ov-year", "value"),
          Input("ov-city", "value"))
def reproduce(exp: Any, regimes: Any, metric: Any, year: Any, city: Any) -> tuple[str, str]:
    """The Python that runs the view's regimes, and the query of its table and dots (``dashboard.reproduce``)."""
    experiment = pick_experiment(exp)
    keys = pick_keys(experiment, regimes)
    metric, year, city = pick_metric(metric), pick_year(experiment, year), pick_city(city)

    def compute() -> tuple[str, str]:
        from dashboard.reproduce import model_snippet, overview_query

        return (model_snippet(experiment, keys, labels_of(experiment, keys)),
                overview_query(experiment, keys, metric, HEADLINE, year, city))
    return experiment.views.get(("overview-reproduce", tuple(keys), metric, year, city), compute)


csv_export("ov-table")
sync_url("overview", {"exp": ("ov-exp", "value"), "regimes": ("ov-regimes", "value"),
                      "metric": ("ov-metric", "value"), "year": ("ov-year", "value"), "city": ("ov-city", "value")})
