"""Validation: simulated against observed, from a ``hukou validate`` report (docs/validation.md).

By default the report shipped with the package (a copy of ``docs/validation/``); a report folder under the served
results (``validation*/NAME/validation_table.parquet`` or ``NAME/validation_table.parquet``) can be chosen by its
identifier. Per city and measure, observed points marked by target kind (fitted, held out, initial) against the
simulated mean and seed band; a table of the error measures, filterable by city and target kind; and the report's
headline (median absolute relative error by kind, the held-out 2020 census miss) computed from its table.

Below, the district shares (reports made since issue 9): per city and year, simulated and persistence (the 2010
census carried forward) against observed shares, the mean absolute error of each in percentage points, and the
shares per district. A report made before them says so instead.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboard.components import (
    csv_export,
    csv_name,
    csv_params,
    error_alert,
    graph,
    report_manifest_body,
    report_manifest_panel,
    reproduce_box,
    shell,
    sync_url,
    table,
    table_data,
)
from dashboard.controls import city_options, pick_city
from dashboard.data import ValidationReport, registry
from dashboard.figures import (
    VALIDATION_KINDS,
    validation_figure,
    validation_filter,
    validation_headline,
    validation_summary_table,
    validation_table,
)
from dashboard.i18n import lang_of, t
from dashboard.share_figures import share_error_table, share_figure, share_filter, share_table

dash.register_page(__name__, path="/validation", name="Validation", title="hukou-sim · validation", order=5)


def report_options(lang: str) -> list[dict[str, str]]:
    """The validation reports of this dashboard for a dropdown (the shipped one first)."""
    reg = registry()
    return [{"label": t("report_shipped", lang) if reg.report(i).shipped else i, "value": i}
            for i in reg.report_ids()]


def kind_options(lang: str) -> list[dict[str, str]]:
    """'All kinds' and each target kind, named in the language."""
    return [{"label": t("all_kinds", lang), "value": "all"},
            *({"label": t(f"kind_{k}", lang), "value": k} for k in VALIDATION_KINDS)]


def pick_kind(value: Any) -> str:
    """A target kind the page offers ('all' otherwise)."""
    value = value[0] if isinstance(value, list) and value else value
    return value if isinstance(value, str) and value in VALIDATION_KINDS else "all"


def pick_report(value: Any) -> ValidationReport:
    """The report a control names (``UnknownReport`` for anything else)."""
    value = value[0] if isinstance(value, list) and value else value
    return registry().report(value)


def layout(report: str | None = None, city: str | None = None, kind: str | None = None, exp: str | None = None,
           lang: str | None = None, **_: Any) -> html.Div:
    """The page for a query string (``report``, ``city``, ``kind``; ``exp`` is kept for the other pages)."""
    lang = lang_of(lang)
    reg = registry()
    experiment = reg.resolve(exp)
    chosen = reg.resolve_report(report)
    body: list[Any] = [html.H2([t("valid_title", lang), dbc.Badge(t("valid_badge", lang), color="info",
                                                                  className="ms-3", id="val-badge")]),
                       html.P(t("valid_intro", lang), className="text-muted")]
    exp_id = experiment.id if experiment else None
    if chosen is None:
        return shell("validation", lang, exp_id, [*body, error_alert(t("no_data", lang), lang)])
    controls = dbc.Row([
        dbc.Col([dbc.Label(t("report", lang)), dcc.Dropdown(report_options(lang), chosen.id, id="val-report",
                                                             clearable=False)], md=4),
        dbc.Col([dbc.Label(t("city", lang)), dcc.Dropdown(city_options(lang), pick_city(city), id="val-city",
                                                           clearable=False)], md=3),
        dbc.Col([dbc.Label(t("target_kind", lang)), dcc.Dropdown(kind_options(lang), pick_kind(kind), id="val-kind",
                                                                  clearable=False)], md=3),
    ], className="g-2 mb-3")
    body += [
        dcc.Store(id="val-lang", data=lang),
        controls,
        dbc.Alert(id="val-headline", color="warning", className="small"),
        dcc.Loading(graph("val-graph", filename="hukou-validation")),
        html.H5(t("report_table", lang), className="mt-3"),
        table("val-table", pd.DataFrame(), lang),
        html.H4(t("shares_title", lang), className="mt-4"),
        html.P(t("shares_intro", lang), className="text-muted small"),
        dbc.Alert(t("shares_missing", lang), id="val-shares-missing", color="secondary", className="small",
                  is_open=False),
        dcc.Loading(graph("val-share-graph", filename="hukou-district-shares")),
        html.H5(t("shares_errors", lang), className="mt-3"),
        table("val-share-errors", pd.DataFrame(), lang),
        html.H5(t("shares_table", lang), className="mt-3"),
        table("val-share-table", pd.DataFrame(), lang),
        reproduce_box("validation", lang),
        report_manifest_panel(chosen, lang, "validation", reg.results),
    ]
    return shell("validation", lang, exp_id, body)


def validation_view(report: Any, city: Any, kind: Any, lang: str) -> tuple[Any, pd.DataFrame, list[Any]]:
    """Figure, table and headline of a report, for a city and a target kind ('all' for every one).

    The headline is the whole report's (every city and kind), so the held-out miss stays in view whatever the
    filters show.
    """
    chosen = pick_report(report)
    full = chosen.table()
    rows = validation_filter(full, pick_city(city), pick_kind(kind))
    errors = chosen.summary()  # the whole report's error measures: computed once, not on every request
    summary = validation_summary_table(full, lang, errors)
    headline: list[Any] = [html.Div(line) for line in validation_headline(full, lang, errors)]
    if len(summary):
        headline.append(dbc.Table.from_dataframe(summary, size="sm", bordered=False, className="mt-2 mb-0",
                                                 id="val-summary"))
    return validation_figure(rows, lang), validation_table(rows, lang), headline


def share_view(chosen: ValidationReport, city: Any, lang: str) -> tuple[Any, pd.DataFrame, pd.DataFrame, bool]:
    """District-share figure, error table (model against persistence, per city and year) and per-district table of
    a report for a city ('all' for every one), and whether the report lacks district shares."""
    city = pick_city(city)
    shares, errors = share_filter(chosen.shares(), city), share_filter(chosen.share_errors(), city)
    missing = chosen.shares().empty
    return share_figure(shares, lang), share_error_table(errors, lang), share_table(shares, lang), missing


@callback(Output("val-share-graph", "figure"), Output("val-share-errors", "rowData"),
          Output("val-share-errors", "columnDefs"), Output("val-share-errors", "csvExportParams"),
          Output("val-share-table", "rowData"), Output("val-share-table", "columnDefs"),
          Output("val-share-table", "csvExportParams"), Output("val-shares-missing", "is_open"),
          Input("val-report", "value"), Input("val-city", "value"), State("val-lang", "data"))
def update_shares(report: Any, city: Any, lang: Any) -> tuple[Any, ...]:
    """The district shares of the chosen report and city."""
    lang = lang_of(lang)
    chosen = pick_report(report)

    def compute() -> tuple[Any, ...]:
        figure, errors, shares, missing = share_view(chosen, city, lang)
        name = ("validation", chosen.id, "district_share_errors", pick_city(city), lang)
        return (figure, *table_data(errors), csv_params(csv_name(*name)), *table_data(shares),
                csv_params(csv_name("validation", chosen.id, "district_shares", pick_city(city), lang)), missing)
    return chosen.views.get(("shares", pick_city(city), lang), compute)


@callback(Output("val-graph", "figure"), Output("val-table", "rowData"), Output("val-table", "columnDefs"),
          Output("val-table", "csvExportParams"),
          Output("val-headline", "children"), Output("validation-manifest-body", "children"),
          Input("val-report", "value"), Input("val-city", "value"), Input("val-kind", "value"),
          State("val-lang", "data"))
def update(report: Any, city: Any, kind: Any, lang: Any) -> tuple[Any, ...]:
    """The comparison of the chosen report, city and target kind."""
    lang = lang_of(lang)
    chosen = pick_report(report)

    def compute() -> tuple[Any, ...]:
        figure, frame, headline = validation_view(chosen.id, city, kind, lang)
        data, columns = table_data(frame)
        name = csv_name("validation", chosen.id, "targets", pick_city(city), pick_kind(kind), lang)
        manifest = report_manifest_body(chosen, lang, "validation", registry().results)
        return figure, data, columns, csv_params(name), headline, manifest
    return chosen.views.get(("validation", pick_city(city), pick_kind(kind), lang), compute)


@callback(Output("validation-python", "children"), Output("validation-sql", "children"),
          Input("val-report", "value"), Input("val-city", "value"), Input("val-kind", "value"))
def reproduce(report: Any, city: Any, kind: Any) -> tuple[str, str]:
    """The Python that makes such a report, and the query of the table's rows (``dashboard.reproduce``)."""
    from dashboard.reproduce import validation_run_snippet, validation_snippet

    chosen = pick_report(report)
    return validation_run_snippet(chosen.manifest), validation_snippet(chosen.folder, pick_city(city),
                                                                      pick_kind(kind))


csv_export("val-table", "val-share-errors", "val-share-table")
sync_url("validation", {"report": ("val-report", "value"), "city": ("val-city", "value"),
                        "kind": ("val-kind", "value")})
