"""Compare: a reform against a baseline the user chooses, differences over time with confidence bands, per city
and per zone (suburban dispersion, talent share, hukou share, settlements by channel, time to hukou, school access,
return migration)."""

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
from dashboard.controls import city_options, experiment_options, labels_of, pick_city, pick_experiment, pick_keys
from dashboard.figures import compare_figure, compare_table, difference_from_stats
from dashboard.i18n import city_label, lang_of, t
from dashboard.paired import paired_difference
from sim.metrics import COMPARE_METRICS

dash.register_page(__name__, path="/compare", name="Compare", title="hukou-sim · compare", order=1)

VIEWS = ("city", "zones")


def _pick_pair(experiment: Any, baseline: Any, reform: Any) -> tuple[str, str]:
    keys = experiment.scenario_keys()
    base = pick_keys(experiment, baseline, default_all=False)[0]
    others = [k for k in keys if k != base] or keys
    chosen = [k for k in pick_keys(experiment, reform, default_all=False) if k != base]
    return base, (chosen[0] if chosen and chosen[0] in keys else others[0])


def _view_options(lang: str) -> list[dict[str, str]]:
    return [{"label": t("all_zones", lang), "value": "city"}, {"label": t("zone", lang), "value": "zones"}]


def layout(exp: str | None = None, lang: str | None = None, baseline: str | None = None, regimes: str | None = None,
           city: str | None = None, view: str | None = None, manifest: str | None = None, **_: Any) -> html.Div:
    """The page for a query string; ``regimes`` names the reform (the comparison's other regime); the experiment
    is found by its manifest hash first (``manifest``), then by name (``exp``)."""
    lang = lang_of(lang)
    experiment = resolve_experiment(exp, manifest)
    if experiment is None:
        return shell("compare", lang, None, [html.H2(t("compare_title", lang)), error_alert(t("no_results", lang),
                                                                                             lang)])
    if (unavailable := summary_unavailable(experiment, lang)) is not None:
        return shell("compare", lang, experiment.id, [html.H2(t("compare_title", lang)), unavailable])
    base, reform = _pick_pair(experiment, baseline, regimes)
    options = described_scenarios(experiment, lang)
    controls = dbc.Row([
        dbc.Col([dbc.Label(t("experiment", lang)), dcc.Dropdown(experiment_options(), experiment.id, id="cmp-exp",
                                                                 clearable=False)], md=3),
        dbc.Col([dbc.Label(t("baseline", lang)), dcc.Dropdown(options, base, id="cmp-baseline",
                                                               clearable=False)], md=3),
        dbc.Col([dbc.Label(t("reform", lang)), dcc.Dropdown(options, reform, id="cmp-reform", clearable=False)], md=3),
        dbc.Col([dbc.Label(t("city", lang)), dcc.Dropdown(city_options(lang, include_all=False),
                                                           pick_city(city, include_all=False), id="cmp-city",
                                                           clearable=False)], md=1),
        dbc.Col([dbc.Label(t("zone", lang)), dcc.Dropdown(_view_options(lang), view if view in VIEWS else "city",
                                                           id="cmp-view", clearable=False)], md=2),
    ], className="g-2 mb-3")
    return shell("compare", lang, experiment.id, requested=exp, manifest=manifest, body=[
        dcc.Store(id="cmp-lang", data=lang),
        html.H2(t("compare_title", lang)), html.P(t("compare_intro", lang), className="text-muted"),
        controls, html.Div(id="cmp-message"),
        html.Div(id="cmp-briefing"),
        html.Div(dcc.Loading(graph("cmp-graph", filename="hukou-compare")), className="graph-scroll"),
        html.Ul(id="cmp-caveats", className="small text-muted"),
        dbc.Button(t("download_briefing", lang), id="cmp-briefing-button", color="secondary", size="sm",
                   className="mb-2"), dcc.Download(id="cmp-briefing-download"),
        table("cmp-table", pd.DataFrame(), lang),
        reproduce_box("compare", lang),
        manifest_panel(experiment, lang, "compare", "SELECT * FROM city_year"),
    ])


@callback(Output("cmp-baseline", "options"), Output("cmp-baseline", "value"), Output("cmp-reform", "options"),
          Output("cmp-reform", "value"), Input("cmp-exp", "value"), State("cmp-baseline", "value"),
          State("cmp-reform", "value"), State("cmp-lang", "data"), prevent_initial_call=True)
def on_experiment(exp: Any, baseline: Any, reform: Any, lang: Any) -> tuple[Any, ...]:
    """Another experiment: its scenarios (with what their regimes are), keeping the pair when it exists there."""
    experiment = pick_experiment(exp)
    options = described_scenarios(experiment, lang_of(lang))
    base, ref = _pick_pair(experiment, baseline, reform)
    return options, base, options, ref


def briefing(exp: Any, baseline: Any, reform: Any, city: Any, lang: Any) -> list[Any]:
    """The top of the page: what the two regimes are, and the key findings of the reform against the baseline in
    the city at the last year's end (``dashboard.findings``), each saying whether it stands out from the band's
    noise, under a label of what the band includes (parameters and seeds, or seed noise only: the sweep's
    manifest, ``dashboard.bands``), with the city's validation caveat once below them."""
    lang = lang_of(lang)
    experiment = pick_experiment(exp)
    base, ref = _pick_pair(experiment, baseline, reform)
    city = pick_city(city, include_all=False)

    def compute() -> list[Any]:
        from dashboard.bands import band_note
        from dashboard.findings import experiment_findings, finding_sentence, scenario_names, validation_caveat

        labels = labels_of(experiment, [ref, base], lang)
        names = scenario_names(experiment, lang)
        ends = [y for y in experiment.years() if y % 1 == 0]
        found = experiment_findings(experiment, ref, base, ends[-1], [city]) if ends and ref != base else []
        items = [html.Li([noise_badge(f, lang), " ",
                          finding_sentence(f, names.get(ref, labels.get(ref, ref)),
                                           names.get(base, labels.get(base, base)), lang, caveat=False)],
                         className="text-body" if f.distinguishable else "text-muted") for f in found]
        block: list[Any] = [regime_notes(described_scenarios(experiment, lang), [ref, base], lang)]
        if found:
            note = f"{t('findings_note', lang).format(year=int(ends[-1]))} {band_note(experiment.band, lang)}"
            block.append(html.Div([
                html.H5([t("key_findings", lang), " ", band_badge(experiment.band, lang, "cmp-band")]),
                html.P(note, className="small text-muted mb-1"),
                html.Ul(items, className="mb-1"),
                html.P(validation_caveat(city, found[0].census_error, lang), className="small text-muted")],
                className="border rounded p-2 mb-3", id="cmp-findings"))
        return block
    return experiment.views.get(("briefing", base, ref, city, lang), compute)


def noise_badge(finding: Any, lang: str) -> dbc.Badge:
    """A badge before each effect: distinguishable from seed noise (its band excludes zero,
    ``Finding.distinguishable``), within noise, or too few seeds to tell, so a scenario's noise is not read as an
    effect at a glance."""
    if not finding.has_band:
        key, colour = "badge_no_band", "light"
    else:
        key, colour = ("badge_distinguishable", "success") if finding.distinguishable else ("badge_within_noise",
                                                                                           "secondary")
    return dbc.Badge(t(key, lang), color=colour, text_color="dark" if colour == "light" else None,
                     className=f"noise-badge noise-{key.removeprefix('badge_')} me-1")


@callback(Output("cmp-briefing", "children"), Input("cmp-exp", "value"), Input("cmp-baseline", "value"),
          Input("cmp-reform", "value"), Input("cmp-city", "value"), State("cmp-lang", "data"))
def on_briefing(exp: Any, baseline: Any, reform: Any, city: Any, lang: Any) -> list[Any]:
    """The regime lines and key findings for the chosen pair and city."""
    return briefing(exp, baseline, reform, city, lang)


def differences(exp: Any, baseline: Any, reform: Any, city: Any, view: Any) -> pd.DataFrame:
    """The difference frame of the chosen pair, city and view: run by run when the sweep's scenarios share their
    parameter draws and seeds (``Band.paired``, the sweep store's rule: ``dashboard.paired``), so the band is that
    of the effect, the same as the key findings' and the sweep's ``summary_difference`` tables'; Welch's interval
    of the difference of the means when their runs are independent (column ``paired`` says which)."""
    experiment = pick_experiment(exp)
    base, ref = _pick_pair(experiment, baseline, reform)
    city = pick_city(city, include_all=False)
    view = "zones" if view == "zones" else "city"

    # per-run arrays or per-scenario statistics once per view and city (read at start-up, dashboard.data.warm)
    if experiment.band.paired:
        return paired_difference(experiment.city_pairs(view, city), ref, base,
                                 parameters=experiment.band.parameters)
    return difference_from_stats(experiment.city_stats(view, city), ref, base)


def chart_band(band: Any, lang: str) -> str:
    """The note under the chart: what its band includes (the sweep's manifest) and how it is made, paired run by
    run or Welch's across independent runs."""
    from dashboard.bands import band_badge_text

    if band.paired:
        text = t("compare_chart_band_paired", lang).format(
            pairs=t("pairs_draws" if band.draws else "pairs_seeds", lang),
            interval=t("interval_prediction" if band.parameters else "interval_mean", lang))
    else:
        text = t("compare_chart_band", lang).format(runs=t("runs_parameters" if band.parameters else "runs_seeds",
                                                           lang))
    return f"{band_badge_text(band, lang)}{'。' if lang == 'zh' else '. '}{text}"


def table_band(band: Any, lang: str) -> str:
    """The table's last column: what the band includes and how it is made ("parameters and seeds, paired on
    parameter draw and seed"; "seed noise only, Welch's across independent runs"), kept in the CSV."""
    how = t("band_paired_on", lang).format(pairs=t("pairs_draws" if band.draws else "pairs_seeds", lang)) \
        if band.paired else t("band_welch", lang)
    return f"{t(band.label, lang)}{'，' if lang == 'zh' else ', '}{how}"


@callback(Output("cmp-graph", "figure"), Output("cmp-table", "rowData"), Output("cmp-table", "columnDefs"),
          Output("cmp-table", "csvExportParams"), Output("cmp-message", "children"),
          Output("cmp-caveats", "children"), Input("cmp-exp", "value"), Input("cmp-baseline", "value"),
          Input("cmp-reform", "value"), Input("cmp-city", "value"), Input("cmp-view", "value"),
          State("cmp-lang", "data"))
def update(exp: Any, baseline: Any, reform: Any, city: Any, view: Any, lang: Any) -> tuple[Any, ...]:
    """Differences of the reform against the baseline for the city (or each of its zones)."""
    lang = lang_of(lang)
    experiment = pick_experiment(exp)
    base, ref = _pick_pair(experiment, baseline, reform)
    city, view = pick_city(city, include_all=False), "zones" if view == "zones" else "city"
    substituted = reform is not None and str(reform) != ref  # a pair the user did not choose is said, not hidden

    def compute() -> tuple[Any, ...]:
        diff = differences(experiment.id, base, ref, city, view)
        labels = labels_of(experiment, [ref, base], lang)
        message = None if not substituted else error_alert(
            t("pair_substituted", lang).format(baseline=labels.get(base, base), reform=labels.get(ref, ref)), lang)
        title = f"{labels.get(ref, ref)} − {labels.get(base, base)} · {city_label(city, lang)}"
        data, columns = table_data(compare_table(diff, lang, band=table_band(experiment.band, lang)))
        name = csv_name("compare", experiment.id, f"{ref}_minus_{base}", city, view, lang)
        notes = [html.Li(chart_band(experiment.band, lang), id="cmp-chart-band"),
                 *caveats(COMPARE_METRICS, lang, zone=view == "zones")]
        return compare_figure(diff, lang, title), data, columns, csv_params(name), message, notes
    return experiment.views.get(("compare", base, ref, city, view, lang, substituted), compute)


@callback(Output("cmp-briefing-download", "data"), Input("cmp-briefing-button", "n_clicks"), State("cmp-exp", "value"),
          State("cmp-lang", "data"), prevent_initial_call=True)
def on_download_briefing(clicks: Any, exp: Any, lang: Any) -> dict[str, Any]:
    """The experiment's briefing report, the file ``hukou report`` writes (every reform against the baseline)."""
    from dashboard.report import build_report

    lang = lang_of(lang)
    experiment = pick_experiment(exp)
    text = experiment.views.get(("briefing-report", lang), lambda: build_report(experiment, lang))
    return dcc.send_string(text, f"hukou-briefing-{experiment.id}-{lang}.html", type="text/html")


@callback(Output("compare-python", "children"), Output("compare-sql", "children"), Input("cmp-exp", "value"),
          Input("cmp-baseline", "value"), Input("cmp-reform", "value"), Input("cmp-city", "value"),
          Input("cmp-view", "value"))
def reproduce(exp: Any, baseline: Any, reform: Any, city: Any, view: Any) -> tuple[str, str]:
    """The Python that runs the pair, and the query and interval (paired or Welch's) of the rows shown
    (``dashboard.reproduce``)."""
    experiment = pick_experiment(exp)
    base, ref = _pick_pair(experiment, baseline, reform)
    city, zones = pick_city(city, include_all=False), view == "zones"

    def compute() -> tuple[str, str]:
        from dashboard.reproduce import compare_query, model_snippet
        from sim.metrics import ZONE_SQL

        return (model_snippet(experiment, [ref, base], labels_of(experiment, [ref, base])),
                compare_query(experiment, ref, base, city, zones, COMPARE_METRICS, ZONE_SQL))
    return experiment.views.get(("compare-reproduce", base, ref, city, zones), compute)


csv_export("cmp-table")
sync_url("compare", {"exp": ("cmp-exp", "value"), "baseline": ("cmp-baseline", "value"),
                     "regimes": ("cmp-reform", "value"), "city": ("cmp-city", "value"), "view": ("cmp-view", "value")})
