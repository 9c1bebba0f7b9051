"""Validation: simulated against observed figures. Until the calibration issue provides its targets, the observed
series are the city population figures shipped with the model (``sim/data/city_population.csv``: residents and
registered population per city and year, census days included), compared with the historical runs of the chosen
experiment, and the page says plainly that the model is not yet calibrated."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboard.components import error_alert, graph, manifest_panel, shell, sync_url, table, table_data
from dashboard.controls import experiment_options, labels_of, pick_experiment
from dashboard.data import Experiment, observed_population, registry
from dashboard.figures import validation_figure, validation_frame
from dashboard.i18n import city_label, fmt_number, fmt_share, lang_of, t

dash.register_page(__name__, path="/validation", name="Validation", title="hukou-sim · validation", order=5)


def historical_key(experiment: Experiment) -> str | None:
    """The scenario that runs the historical regimes (the one observed figures can be compared with)."""
    scenarios = experiment.scenarios()
    plain = scenarios[scenarios["regimes"].isin(["historical", "['historical']"])]
    if "label" in plain.columns and len(plain) > 1:  # several historical scenarios: prefer one without overrides
        base = plain[plain["label"].str.fullmatch(r"(regimes=)?historical|base")]
        plain = base if len(base) else plain
    return str(plain["key"].iloc[0]) if len(plain) else None


def layout(exp: str | None = None, lang: str | None = None, **_: Any) -> html.Div:
    """The page for a query string."""
    lang = lang_of(lang)
    experiment = registry().resolve(exp)
    body: list[Any] = [html.H2([t("valid_title", lang), dbc.Badge(t("not_calibrated", lang), color="warning",
                                                                  className="ms-3", id="val-badge")]),
                       html.P(t("valid_intro", lang), className="text-muted")]
    if experiment is None:
        return shell("validation", lang, None, [*body, error_alert(t("no_results", lang), lang)])
    body += [
        dcc.Store(id="val-lang", data=lang),
        dbc.Row([dbc.Col([dbc.Label(t("experiment", lang)), dcc.Dropdown(experiment_options(), experiment.id,
                                                                          id="val-exp", clearable=False)], md=4)],
                className="mb-3"),
        html.Div(id="val-message"),
        dcc.Loading(graph("val-graph", filename="hukou-validation")),
        table("val-table", pd.DataFrame(), lang),
        manifest_panel(experiment, lang, "validation",
                       "SELECT * FROM summary_city_year WHERE metric IN ('residents', 'hukou_residents')"),
    ]
    return shell("validation", lang, experiment.id, body)


def validation_view(exp: Any, lang: str) -> tuple[Any, pd.DataFrame, Any]:
    """Figure, table and message of the chosen experiment's historical runs against the observed series."""
    experiment = pick_experiment(exp)
    key = historical_key(experiment)
    observed = observed_population()
    if key is None:
        return validation_figure(pd.DataFrame(), observed, lang), pd.DataFrame(), error_alert(
            "this experiment has no run of the historical regimes", lang)
    s = experiment.summary_city()
    simulated = s[(s["key"] == key) & s["metric"].isin(["residents", "hukou_residents"])]
    frame = validation_frame(simulated, observed)
    rows = [{t("city", lang): city_label(r.city, lang), t("year", lang): f"{r.year:g}",
             t("metric", lang): t(r.measure, lang), t("observed", lang): fmt_number(r.value, lang),
             t("simulated", lang): fmt_number(r.mean, lang), t("difference", lang): fmt_share(r.error, lang),
             t("observed_definition", lang): r.definition, t("source", lang): r.source,
             t("confidence", lang): r.confidence} for r in frame.itertuples(index=False)]
    label = labels_of(experiment, [key]).get(key, key)
    return validation_figure(simulated, observed, lang), pd.DataFrame(rows), dbc.Alert(
        f"{t('simulated', lang)}: {label} · {t('not_calibrated', lang)}", color="warning")


@callback(Output("val-graph", "figure"), Output("val-table", "data"), Output("val-table", "columns"),
          Output("val-message", "children"), Input("val-exp", "value"), State("val-lang", "data"))
def update(exp: Any, lang: Any) -> tuple[Any, ...]:
    """The comparison for the chosen experiment."""
    figure, frame, message = validation_view(exp, lang_of(lang))
    data, columns = table_data(frame)
    return figure, data, columns, message


sync_url("validation", {"exp": ("val-exp", "value")})
