"""Pieces every page shares: the page shell (navigation, language switch), the manifest panel, tables with CSV
download, graphs with PNG download, and the query-string sync that makes every view a URL.

Why the URL is written client-side: the page's own ``dcc.Location`` would make Dash's page router re-render the
whole page on every change of a control. ``history.replaceState`` keeps the address current without that, and the
page's ``layout(**query)`` rebuilds the same view from it when the link is opened.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, clientside_callback, dcc, html

from dashboard.data import Experiment, ValidationReport
from dashboard.figures import GRAPH_CONFIG
from dashboard.i18n import t

__all__ = ["PAGES", "shell", "manifest_panel", "report_manifest_body", "report_manifest_panel", "table", "graph",
           "sync_url", "first", "error_alert", "href", "summary_unavailable", "table_data", "csv_export", "csv_name",
           "csv_params", "caveats", "resolve_experiment", "reproduce_box", "band_badge"]

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


def resolve_experiment(exp: Any, manifest: Any) -> Experiment | None:
    """The experiment a link opens: the one whose manifest hash it names (``manifest=``, so a renamed folder is
    still found), else the one it names (``exp=``: links made before the hash), else the default one, whose page
    then says that it is not the one asked for (``shell``). None when there are no results."""
    from dashboard.data import registry

    return registry().by_hash(first(manifest)) or registry().resolve(first(exp))


def shell(page: str, lang: str, exp: str | None, body: list[Any], requested: Any = None,
          manifest: Any = None) -> html.Div:
    """The page frame: title, navigation (keeping experiment and language), language switch, body. ``requested``
    and ``manifest`` are the experiment name and manifest hash a link named: when the experiment shown is not
    theirs, the page says so instead of substituting in silence (and says a renamed experiment's new name).

    On a narrow screen the navigation folds behind a toggler and the title shortens (``assets/hukou.css``)."""
    from dashboard.data import registry

    hashes = registry().hashes()
    digest = hashes.get(exp) if exp else None
    links = [dbc.NavItem(dbc.NavLink(t(f"nav_{name}", lang), href=href(path, exp=exp, manifest=digest, lang=lang),
                                     active=name == page, id=f"nav-{name}")) for name, path in PAGES]
    switch = dbc.Button(t("language", lang), id="lang-switch", color="light", size="sm", className="ms-lg-3 my-2",
                        n_clicks=0)
    brand = dbc.NavbarBrand([html.Span(t("app_title", lang), className="d-none d-md-inline"),
                             html.Span(t("app_title_short", lang), className="d-md-none")],
                            className="me-4 text-wrap", id="brand")
    bar = dbc.Navbar(dbc.Container([brand, dbc.NavbarToggler(id="nav-toggler", n_clicks=0),
                                    dbc.Collapse([dbc.Nav(links, navbar=True, className="me-auto"), switch],
                                                 id="nav-collapse", navbar=True, is_open=False)], fluid=True),
                     color="dark", dark=True, expand="lg", className="mb-3")
    notes = _damage_alert(exp, lang) + _link_notes(exp, hashes, requested, manifest, lang)
    localise_dropdowns(body, lang)
    return html.Div([bar, dcc.Store(id="manifest-hashes", data=hashes),
                     dbc.Container([*notes, *body], fluid=True, id=f"{page}-page", className="pb-5")],
                    lang="zh-CN" if lang == "zh" else "en")


def _link_notes(exp: str | None, hashes: dict[str, str], requested: Any, manifest: Any, lang: str) -> list[Any]:
    """What a link asked for that the page does not show as asked: an experiment (by hash or name) that is not
    here (a warning naming it and what is shown), or a renamed one (a note with its new name)."""
    requested, manifest = first(requested), first(manifest)
    asked = str(requested)[:120] if requested else None
    digest = str(manifest)[:40] if manifest else None
    if not exp or (digest is None and asked is None):
        return []
    if digest is not None and hashes.get(exp) != digest:
        if asked == exp:  # the name is here, but its results are not those the link was made from
            text = t("experiment_changed", lang).format(requested=asked, digest=digest, now=hashes.get(exp, "?"))
        else:
            text = t("experiment_hash_unknown", lang).format(digest=digest, requested=asked or "?", shown=exp)
        return [dbc.Alert(text, color="warning", className="my-2", id="experiment-substituted")]
    if asked is not None and asked != exp:
        if digest is not None:  # found by its hash under another folder name
            return [dbc.Alert(t("experiment_renamed", lang).format(requested=asked, shown=exp, digest=digest),
                              color="info", className="my-2", id="experiment-renamed")]
        return [dbc.Alert(t("experiment_substituted", lang).format(requested=asked, shown=exp),
                          color="warning", className="my-2", id="experiment-substituted")]
    return []


# The navigation's toggler on a narrow screen (client-side: no request).
clientside_callback(
    """function(n, open) { return n ? !open : open; }""",
    Output("nav-collapse", "is_open"), Input("nav-toggler", "n_clicks"), State("nav-collapse", "is_open"),
    prevent_initial_call=True)


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
    """Register a client-side callback that writes the controls' values into the query string, and beside an
    ``exp`` the experiment's manifest hash (``manifest``), by which the link finds it after a rename.

    Args:
        page: the page name (ids ``<page>-link`` for the shown link).
        params: query key → (component id, property).
    """
    names = json.dumps(list(params))
    clientside_callback(
        f"""function(...args) {{
            const names = {names};
            const values = args.slice(0, names.length);
            const hashes = args[names.length] || {{}};
            const params = new URLSearchParams(window.location.search);
            names.forEach((name, i) => {{
                const v = values[i];
                if (v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) {{
                    params.delete(name);
                }} else {{
                    params.set(name, Array.isArray(v) ? v.join(',') : String(v));
                }}
            }});
            const exp = params.get('exp');
            if (exp !== null && hashes[exp]) {{ params.set('manifest', hashes[exp]); }}
            else if (names.includes('exp')) {{ params.delete('manifest'); }}
            const url = window.location.pathname + '?' + params.toString();
            window.history.replaceState(window.history.state, '', url);
            return window.location.origin + url;
        }}""",
        Output(f"{page}-link", "children"), *[Input(cid, prop) for cid, prop in params.values()],
        State("manifest-hashes", "data"))


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


def reproduce_box(page: str, lang: str, rows: bool = True, what: str = "reproduce_model") -> html.Details:
    """The folded "Reproduce in Python" box: the code behind the view (``<page>-python``: the model runs, or what
    ``what`` names) and, with ``rows``, the query of the rows shown (``<page>-sql``), both filled by the page's
    callbacks (``dashboard.reproduce``)."""
    parts: list[Any] = [html.Summary(t("reproduce_python", lang)),
                        html.Div(t(what, lang), className="small fw-bold mt-2"),
                        html.Pre(id=f"{page}-python", className="small bg-light p-2 reproduce-code")]
    if rows:
        parts += [html.Div(t("reproduce_rows", lang), className="small fw-bold"),
                  html.Pre(id=f"{page}-sql", className="small bg-light p-2 reproduce-code")]
    return html.Details(parts, id=f"{page}-reproduce", className="mt-3 border-top pt-2", open=False)


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


# Numbers are shown with thousands separators and exported as they are (useValueFormatterForExport off), so the
# CSV holds numbers a spreadsheet reads; an undefined value is a dash on screen and an empty cell in the file.
_NUMBER_FORMAT = {"function": "params.value == null ? '–' : d3.format(',')(params.value)"}
_DEFAULT_COLUMN = {"sortable": True, "filter": True, "resizable": True, "wrapText": True, "autoHeight": True,
                   "minWidth": 90, "cellStyle": {"lineHeight": "1.4", "paddingTop": "6px", "paddingBottom": "6px"}}
_GRID_OPTIONS = {"pagination": True, "paginationPageSize": 25, "paginationPageSizeSelector": [25, 50, 100],
                 "domLayout": "autoHeight", "enableCellTextSelection": True, "ensureDomOrder": True}


def table(table_id: str, frame: pd.DataFrame, lang: str, filename: str = "hukou-table") -> html.Div:
    """A read-only grid (dash-ag-grid: sort and filter on every column) and a button that downloads its rows as
    CSV, named ``filename`` (the callback that fills the grid renames it after the view, ``csv_params``). Cells are
    text or numbers: HTML in them is shown, never rendered. The page registers the button with ``csv_export``."""
    row_data, column_defs = table_data(frame)
    return html.Div([
        dbc.Button(t("download_csv", lang), id=f"{table_id}-csv", color="secondary", outline=True, size="sm",
                   className="mb-1", n_clicks=0),
        dag.AgGrid(id=table_id, rowData=row_data, columnDefs=column_defs, defaultColDef=_DEFAULT_COLUMN,
                   dashGridOptions={**_GRID_OPTIONS, "localeText": grid_text(lang)},
                   csvExportParams=csv_params(filename),
                   columnSize="responsiveSizeToFit", style={"height": None}),
    ])


_GRID_TEXT = {"page": "grid_page", "of": "grid_of", "to": "grid_to", "pageSizeSelectorLabel": "grid_page_size",
              "noRowsToShow": "grid_no_rows", "firstPage": "grid_first", "previousPage": "grid_previous",
              "nextPage": "grid_next", "lastPage": "grid_last"}
_DROPDOWN_TEXT = ("select_all", "deselect_all", "selected_count", "search", "clear_search", "clear_selection",
                  "no_options_found")


def grid_text(lang: str) -> dict[str, str]:
    """A grid's own words (pagination, empty table) in the language (AG Grid's ``localeText``)."""
    return {key: t(label, lang) for key, label in _GRID_TEXT.items()}


def dropdown_text(lang: str) -> dict[str, str]:
    """A dropdown's own words ("3 selected", "Search", …) in the language (``dcc.Dropdown.labels``)."""
    return {key: t(f"dd_{key}", lang) for key in _DROPDOWN_TEXT}


def localise_dropdowns(node: Any, lang: str) -> None:
    """Give every ``dcc.Dropdown`` under ``node`` its words in the language (``shell`` does it for each page, so
    no page can forget one)."""
    from dash.development.base_component import Component

    labels = dropdown_text(lang)
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, Component):
            if isinstance(item, dcc.Dropdown) and getattr(item, "labels", None) is None:
                setattr(item, "labels", labels)  # noqa: B010 - dash declares the prop, its stub does not
            stack.append(getattr(item, "children", None))


def table_data(frame: pd.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A frame as (rowData, columnDefs) for a grid's outputs: numeric columns stay numbers (right-aligned, number
    filter), undefined values become null."""
    columns = []
    undefined = []
    for name in frame.columns:
        kind = pd.api.types.infer_dtype(frame[name], skipna=True)  # C speed: no Python call per cell
        column: dict[str, Any] = {"headerName": str(name), "field": str(name)}
        if kind in ("integer", "floating", "mixed-integer-float", "decimal"):
            column.update(type="numericColumn", filter="agNumberColumnFilter", valueFormatter=_NUMBER_FORMAT,
                          useValueFormatterForExport=False)
            if frame[name].isna().any():
                undefined.append(name)
        columns.append(column)
    if undefined:  # NaN is not JSON: null instead
        frame = frame.assign(**{str(c): frame[c].astype(object).where(frame[c].notna(), None) for c in undefined})
    return (frame.to_dict("records") if len(frame) else []), columns


def csv_name(*parts: Any) -> str:
    """A CSV file name from what the table holds (page, experiment, metric, city, year…): ``hukou-`` and the
    parts as lower-case words joined by ``-`` (letters, digits, ``_``, ``-`` and ``.`` kept, any other run of
    characters made one ``_``)."""
    words = [re.sub(r"[^0-9A-Za-z_.-]+", "_", str(p)).strip("_.-").lower() for p in parts if p not in (None, "")]
    return "-".join(["hukou", *(w for w in words if w)])[:150] + ".csv"


def csv_params(filename: str) -> dict[str, Any]:
    """The grid's CSV export settings: the file name (``.csv`` added when missing)."""
    return {"fileName": filename if filename.endswith(".csv") else filename + ".csv"}


def csv_export(*table_ids: str) -> None:
    """Register, for each grid, the client-side callback by which its button downloads its rows as CSV."""
    for table_id in table_ids:
        clientside_callback(
            """function(n) { return n ? true : window.dash_clientside.no_update; }""",
            Output(table_id, "exportDataAsCsv"), Input(f"{table_id}-csv", "n_clicks"), prevent_initial_call=True)


def caveats(metrics: Any, lang: str, zone: bool = False) -> list[Any]:
    """What the shown metrics count where their names alone would mislead (``dashboard.i18n.metric_caveat``), one
    line each, for beside a chart or table; an empty list when nothing needs saying."""
    from dashboard.i18n import metric_caveat

    notes = dict.fromkeys(note for m in metrics if (note := metric_caveat(m, lang, zone)))
    return [html.Li(note) for note in notes]


def graph(graph_id: str, figure: Any = None, filename: str = "hukou-figure") -> dcc.Graph:
    """A graph whose camera button downloads a PNG named after the view."""
    camera: dict[str, Any] = {**GRAPH_CONFIG["toImageButtonOptions"], "filename": filename}
    config: Any = {**GRAPH_CONFIG, "toImageButtonOptions": camera}   # plotly.js's config object, as dash passes it
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


def described_scenarios(experiment: Experiment, lang: str) -> list[dict[str, str]]:
    """The experiment's scenarios for a dropdown, each with its regimes' one-line description as the option's
    hover text (``dashboard.glossary``)."""
    from dashboard.controls import scenario_options
    from dashboard.glossary import scenario_summary

    regimes = dict(zip(experiment.scenarios()["key"], experiment.scenarios()["regimes"], strict=True))
    out = []
    for option in scenario_options(experiment, lang):
        summary = scenario_summary(regimes.get(option["value"], ""), lang)
        out.append({**option, "title": summary} if summary else option)
    return out


def regime_notes(options: list[dict[str, str]], keys: list[str] | None, lang: str) -> html.Details:
    """What the regimes of ``keys`` (all options when None) are: a line each, "label: description", folded under a
    summary line so the controls stay close to the chart."""
    chosen = [o for o in options if (keys is None or o["value"] in keys) and o.get("title")]
    return html.Details([html.Summary(t("regimes_in_view", lang)),
                         html.Ul([html.Li([html.B(o["label"] + ": "), o["title"]]) for o in chosen],
                                 className="mb-1")],
                        open=True, className="small text-muted mb-2")


def band_badge(band: Any, lang: str, ident: str) -> dbc.Badge:
    """The visible label of what a page's bands include: "Band includes: parameters and seeds" (the sweep drew
    several parameter sets from a posterior) or "Band includes: seed noise only" (``dashboard.bands``)."""
    from dashboard.bands import band_badge_text

    return dbc.Badge(band_badge_text(band, lang), color="info" if band.parameters else "light", text_color="dark",
                     className="band-badge fw-normal", id=ident)
