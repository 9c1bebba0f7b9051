"""Pieces every page shares: the page shell (navigation, language switch), the manifest panel, tables with CSV
download, graphs with PNG download, and the query-string sync that makes every view a URL.

Why the URL is written client-side: the page's own ``dcc.Location`` would make Dash's page router re-render the
whole page on every change of a control. ``history.replaceState`` keeps the address current without that, and the
page's ``layout(**query)`` rebuilds the same view from it when the link is opened.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, clientside_callback, dash_table, dcc, html

from dashboard.data import Experiment, ValidationReport
from dashboard.figures import GRAPH_CONFIG
from dashboard.i18n import t

__all__ = ["PAGES", "shell", "manifest_panel", "report_manifest_body", "report_manifest_panel", "table", "graph",
           "sync_url", "first", "error_alert", "href", "summary_unavailable"]

PAGES = (("overview", "/"), ("compare", "/compare"), ("map", "/map"), ("calculator", "/calculator"),
         ("scenarios", "/scenarios"), ("validation", "/validation"))


def first(value: Any) -> Any:
    """A query value as one string (Dash passes each query key's value as a string)."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def href(path: str, **query: Any) -> str:
    """A link with a query string of the given non-empty values."""
    clean = {k: v for k, v in query.items() if v not in (None, "", [])}
    return path + ("?" + urlencode(clean) if clean else "")


def shell(page: str, lang: str, exp: str | None, body: list[Any], requested: Any = None) -> html.Div:
    """The page frame: title, navigation (keeping experiment and language), language switch, body. ``requested``
    is the experiment a link named: when it is not the one shown, the page says so instead of substituting."""
    links = [dbc.NavItem(dbc.NavLink(t(f"nav_{name}", lang), href=href(path, exp=exp, lang=lang),
                                     active=name == page, id=f"nav-{name}")) for name, path in PAGES]
    switch = dbc.Button(t("language", lang), id="lang-switch", color="light", size="sm", className="ms-3",
                        n_clicks=0)
    bar = dbc.Navbar(dbc.Container([dbc.NavbarBrand(t("app_title", lang), className="me-4"),
                                    dbc.Nav(links, navbar=True), switch], fluid=True),
                     color="dark", dark=True, className="mb-3")
    notes = _damage_alert(exp, lang)
    if requested and exp and str(requested) != exp:
        notes.insert(0, dbc.Alert(t("experiment_substituted", lang).format(requested=str(requested)[:120], shown=exp),
                                  color="warning", className="my-2", id="experiment-substituted"))
    return html.Div([bar, dbc.Container([*notes, *body], fluid=True, id=f"{page}-page",
                                        className="pb-5")],
                    lang="zh-CN" if lang == "zh" else "en")


def _damage_alert(exp: str | None, lang: str) -> list[dbc.Alert]:
    """A warning naming the experiment's damaged runs and summaries (the rest is served), or nothing."""
    from dashboard.data import UnknownExperiment, registry

    try:
        experiment = registry().get(exp) if exp else None
    except UnknownExperiment:  # a report's page, or no results at all
        return []
    damage = experiment.damage() if experiment is not None else []
    if experiment is None or not damage:
        return []
    return [dbc.Alert([t("damaged", lang).format(folder=experiment.folder),
                       html.Ul([html.Li(str(d)) for d in damage], className="mb-0")],
                      color="warning", className="my-2", id="damaged-results")]


# Language switch: reload the same view with lang toggled (the layout renders every label from the query).
clientside_callback(
    """function(n) {
        if (!n) { return window.dash_clientside.no_update; }
        const params = new URLSearchParams(window.location.search);
        params.set('lang', params.get('lang') === 'zh' ? 'en' : 'zh');
        window.location.search = params.toString();
        return window.dash_clientside.no_update;
    }""",
    Output("lang-switch", "title"), Input("lang-switch", "n_clicks"), prevent_initial_call=True)


def sync_url(page: str, params: dict[str, tuple[str, str]]) -> None:
    """Register a client-side callback that writes the controls' values into the query string.

    Args:
        page: the page name (ids ``<page>-link`` for the shown link).
        params: query key → (component id, property).
    """
    names = json.dumps(list(params))
    clientside_callback(
        f"""function(...values) {{
            const names = {names};
            const params = new URLSearchParams(window.location.search);
            names.forEach((name, i) => {{
                const v = values[i];
                if (v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) {{
                    params.delete(name);
                }} else {{
                    params.set(name, Array.isArray(v) ? v.join(',') : String(v));
                }}
            }});
            const url = window.location.pathname + '?' + params.toString();
            window.history.replaceState(window.history.state, '', url);
            return window.location.origin + url;
        }}""",
        Output(f"{page}-link", "children"), *[Input(cid, prop) for cid, prop in params.values()])


def manifest_panel(experiment: Experiment | None, lang: str, page: str, query: str = "") -> html.Details:
    """What reproduces the view: code version, spec hash, seeds, and the commands."""
    if experiment is None:
        return html.Details()
    info = experiment.info()
    seeds = info["seeds"]
    seed_text = ", ".join(str(s) for s in seeds[:6]) + (f" … ({len(seeds)})" if len(seeds) > 6 else "")
    served = experiment.folder if experiment.custom else experiment.folder.parent
    commands = [info["command"], f"hukou dashboard --results {served}"]
    if query:
        commands.append(f'hukou query {experiment.folder} "{query}"')
    rows = [(t("experiment", lang), f"{info['name']} ({info['id']})"),
            (t("code_version", lang), info["code_version"]), (t("spec_hash", lang), info["spec_hash"]),
            (t("seeds", lang), f"root {info['root_seed']}; {seed_text}"),
            (t("scale", lang), f"{info['scale']:g}" if info["scale"] else "?"),
            (t("year", lang), info["years"]), (t("runs", lang), str(info["runs"]))]
    return html.Details([
        html.Summary(t("manifest", lang)),
        html.Table([html.Tr([html.Th(k, className="pe-3"), html.Td(html.Code(v))]) for k, v in rows],
                   className="small mb-2", id=f"{page}-manifest"),
        html.Div(t("reproduce", lang), className="small fw-bold"),
        html.Pre("\n".join(commands), className="small bg-light p-2", id=f"{page}-command"),
        html.Div([html.Span(t("share_link", lang) + ": ", className="small fw-bold"),
                  html.Code(id=f"{page}-link", className="small")]),
    ], className="mt-4 border-top pt-2", open=False)


def report_manifest_body(report: ValidationReport | None, lang: str, page: str,
                         results: Path | None = None) -> list[Any]:
    """What made a validation report (code version, seeds, scale, years, calibrated values) and its commands."""
    if report is None:
        return []
    info = report.info()
    calibrated = ", ".join(f"{k} = {v:g}" if isinstance(v, (int, float)) else f"{k} = {v}"
                           for k, v in info["calibrated"].items()) or "–"
    name = f"{t('report_shipped', lang)} ({info['id']})" if info["shipped"] else f"{info['id']} ({report.folder})"
    rows = [(t("report", lang), name), (t("code_version", lang), info["code_version"]),
            (t("seeds", lang), f"root {info['root_seed']}; {info['seeds']}"),
            (t("scale", lang), f"{info['scale']:g}" if isinstance(info["scale"], (int, float)) else "?"),
            (t("year", lang), info["years"]), (t("created", lang), str(info["created"])),
            (t("calibrated_values", lang), calibrated)]
    commands = [info["command"]] + ([f"hukou dashboard --results {results}"] if results else [])
    return [html.Table([html.Tr([html.Th(k, className="pe-3"), html.Td(html.Code(v))]) for k, v in rows],
                       className="small mb-2", id=f"{page}-manifest"),
            html.Div(t("reproduce", lang), className="small fw-bold"),
            html.Pre("\n".join(commands), className="small bg-light p-2", id=f"{page}-command")]


def report_manifest_panel(report: ValidationReport | None, lang: str, page: str,
                          results: Path | None = None) -> html.Details:
    """The manifest panel of a validation report; its body (``<page>-manifest-body``) follows the chosen report."""
    return html.Details([
        html.Summary(t("manifest", lang)),
        html.Div(report_manifest_body(report, lang, page, results), id=f"{page}-manifest-body"),
        html.Div([html.Span(t("share_link", lang) + ": ", className="small fw-bold"),
                  html.Code(id=f"{page}-link", className="small")]),
    ], className="mt-4 border-top pt-2", open=False)


def table(table_id: str, frame: pd.DataFrame, lang: str) -> dash_table.DataTable:
    """A read-only table with a CSV export button (cells are text: HTML in them is shown, never rendered)."""
    return dash_table.DataTable(
        id=table_id, data=frame.to_dict("records"), columns=[{"name": str(c), "id": str(c)} for c in frame.columns],
        export_format="csv", export_headers="display", page_size=25, sort_action="native",
        style_table={"overflowX": "auto"}, style_cell={"fontSize": 13, "textAlign": "left", "whiteSpace": "normal",
                                                       "height": "auto"},
        style_header={"fontWeight": "bold"}, css=[{"selector": ".export", "rule": "margin: 4px 0;"}])


def table_data(frame: pd.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """A frame as (data, columns) for a DataTable's outputs."""
    return frame.to_dict("records"), [{"name": str(c), "id": str(c)} for c in frame.columns]


def graph(graph_id: str, figure: Any = None, filename: str = "hukou-figure") -> dcc.Graph:
    """A graph whose camera button downloads a PNG named after the view."""
    config = {**GRAPH_CONFIG, "toImageButtonOptions": {**GRAPH_CONFIG["toImageButtonOptions"], "filename": filename}}
    return dcc.Graph(id=graph_id, figure=figure or {}, config=config)


def summary_unavailable(experiment: Experiment, lang: str) -> dbc.Alert | None:
    """An alert when the experiment's summaries cannot be read (a damaged file: named, with the command that
    rebuilds it), else None: the page then has nothing to draw from and shows only this."""
    from dashboard.data import DamagedResults

    try:
        experiment.summary_city()
        experiment.summary_district()
    except DamagedResults as exc:
        return error_alert(str(exc), lang)
    return None


def error_alert(message: str, lang: str) -> dbc.Alert:
    """A visible, inert error message (text only)."""
    return dbc.Alert([html.B(t("error", lang) + ": "), message], color="warning", className="my-2")
