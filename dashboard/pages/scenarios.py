"""Scenario builder: start from a regime, choose the city the levers act on, change its main levers (quota, minimum
score, an indicator's weight, district bonus, talent age limits), run a short simulation in a background callback
with progress, and add it to the comparison, which opens on that city under the scenario's own name. Inputs are
validated (a value out of range is named with its allowed range); a run that fails says why. Scenarios are kept in
the dashboard's scenarios folder and listed here."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard.components import error_alert, href, reproduce_box, shell, sync_url
from dashboard.data import registry
from dashboard.i18n import city_label, lang_of, metric_label, t
from dashboard.levers import LIMITS, ROOT_SEED, Levers, cities_of, indicator_choices, read_levers, write_scenario
from dashboard.power import POWER_METRICS, advice, main_sweep
from dashboard.reuse import reusing_model

dash.register_page(__name__, path="/scenarios", name="Scenario builder", title="hukou-sim · scenarios", order=4)

FIELDS = ("base", "city", "quota_factor", "min_score_shift", "indicator", "indicator_factor",
          "district_bonus_factor", "talent_age_shift", "name", "end", "replications", "scale")
# Form labels of the fields, for messages (a field named as the user reads it, not by its identifier).
_LABELS = {"base": "base_regime", "city": "lever_city", "indicator": "indicator_weight", "name": "scenario_name",
           "end": "end_year"}


def _regime_options(lang: str = "en") -> list[dict[str, str]]:
    """Every regime the builder can start from, by its name in the reader's language ("Chengdu", "仅限人才")."""
    from dashboard.glossary import regime_name
    from policies.catalogue import available

    names = {name: regime_name(name, lang) for name in available()}
    return [{"label": label[:1].upper() + label[1:] if lang_of(lang) == "en" else label, "value": name}
            for name, label in names.items()]


def _num(fid: str, value: Any, key: str, step: float) -> dbc.Input:
    low, high = LIMITS[key]
    return dbc.Input(id=fid, type="number", value=value, min=low, max=high, step=step, size="sm")


def _float(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def layout(lang: str | None = None, exp: str | None = None, base: str | None = None, **query: Any) -> html.Div:
    """The form (filled from the query string) and the run's progress and result."""
    lang = lang_of(lang)
    names = [o["value"] for o in _regime_options()]
    base = base if base in names else "historical"
    cities = cities_of(base)
    city = query.get("city") if query.get("city") in cities else cities[0]
    d = Levers()
    col = dbc.Col
    form = [
        dbc.Row([col([dbc.Label(t("base_regime", lang)), dcc.Dropdown(_regime_options(lang), base, id="sb-base",
                                                                       clearable=False)], md=2),
                 col([dbc.Label(t("lever_city", lang)), dcc.Dropdown(_city_options(base, lang), city, id="sb-city",
                                                                      clearable=False)], md=2),
                 col([dbc.Label(t("scenario_name", lang)), dbc.Input(id="sb-name", value=str(query.get("name") or
                                                                                           d.name)[:80],
                                                                     maxLength=80, size="sm")], md=2),
                 col([dbc.Label(t("end_year", lang)), _num("sb-end", _float(query.get("end"), d.end), "end", 1)], md=2),
                 col([dbc.Label(t("replications", lang)), _num("sb-replications", _float(query.get("replications"),
                                                                                          d.replications),
                                                               "replications", 1)], md=2),
                 col([dbc.Label(t("scale", lang)), _num("sb-scale", _float(query.get("scale"), d.scale), "scale",
                                                        1000)], md=2)], className="g-2"),
        dbc.Row([col([dbc.Label(t("quota_factor", lang)), _num("sb-quota_factor", _float(query.get("quota_factor"),
                                                                                          1.0), "quota_factor", 0.1)],
                     md=3),
                 col([dbc.Label(t("min_score_shift", lang)), _num("sb-min_score_shift",
                                                                  _float(query.get("min_score_shift"), 0.0),
                                                                  "min_score_shift", 1)], md=3),
                 col([dbc.Label(t("district_bonus_factor", lang)), _num(
                     "sb-district_bonus_factor", _float(query.get("district_bonus_factor"), 1.0),
                     "district_bonus_factor", 0.1)], md=3),
                 col([dbc.Label(t("talent_age_shift", lang)), _num("sb-talent_age_shift",
                                                                   _float(query.get("talent_age_shift"), 0),
                                                                   "talent_age_shift", 1)], md=3)],
                className="g-2 mt-1"),
        dbc.Row([col([dbc.Label(t("indicator_weight", lang)), dcc.Dropdown(
                     indicator_choices(base, city), query.get("indicator") if query.get("indicator") in
                     indicator_choices(base, city) else None, id="sb-indicator")], md=3),
                 col([dbc.Label(t("indicator_factor", lang)), _num("sb-indicator_factor",
                                                                   _float(query.get("indicator_factor"), 1.0),
                                                                   "indicator_factor", 0.1)], md=3)],
                className="g-2 mt-1"),
        html.H6(t("power_title", lang), className="mt-3"),
        dbc.Row([col([dbc.Label(t("power_effect", lang)), dbc.Input(
                     id="sb-effect", type="number", value=_float(query.get("effect"), 0.5), min=0, size="sm")], md=3),
                 col([dbc.Label(t("power_metric", lang)), dcc.Dropdown(
                     [{"label": metric_label(m, lang), "value": m} for m in POWER_METRICS],
                     query.get("effect_metric") if query.get("effect_metric") in POWER_METRICS else POWER_METRICS[0],
                     id="sb-effect_metric", clearable=False)], md=3),
                 col(html.Div(id="sb-power", className="small"), md=6)], className="g-2"),
        html.Div([dbc.Button(t("run", lang), id="sb-run", color="primary", className="me-2", n_clicks=0),
                  dbc.Button(t("cancel", lang), id="sb-cancel", color="secondary", disabled=True, n_clicks=0)],
                 className="mt-3"),
    ]
    return shell("scenarios", lang, exp, [
        dcc.Store(id="sb-lang", data=lang),
        html.H2(t("scen_title", lang)), html.P(t("scen_intro", lang), className="text-muted"),
        dbc.Card(dbc.CardBody(form), className="mb-3"),
        dbc.Progress(id="sb-progress", value=0, label="", striped=True, animated=True, className="mb-2",
                     style={"height": "22px"}),
        html.Div(id="sb-result"),
        html.H5(t("saved_scenarios", lang), className="mt-4"),
        html.P(t("saved_scenarios_where", lang).format(folder=registry().scenarios_dir or "–"),
               className="small text-muted"),
        saved_list(lang),
        reproduce_box("scenarios", lang, rows=False, what="reproduce_scenario"),
        html.Details([html.Summary(t("share_link", lang)), html.Code(id="scenarios-link", className="small")],
                     className="mt-4"),
    ])


def _city_options(base: str, lang: str) -> list[dict[str, str]]:
    return [{"label": city_label(c, lang), "value": c} for c in cities_of(base)]


def saved_list(lang: str) -> html.Ul:
    """The scenarios kept in the scenarios folder, each by its name, with its comparison (on the city its levers
    act on) and its identifier."""
    items = []
    for ident in registry().ids():
        experiment = registry().get(ident)
        if not experiment.custom:
            continue
        link = _compare_link(experiment, lang)
        items.append(html.Li([dcc.Link(experiment.title, href=link) if link else experiment.title,
                              html.Span(f" ({ident})", className="text-muted")]))
    return html.Ul(items or [html.Li(t("none", lang))], id="sb-saved", className="small")


def _compare_link(experiment: Any, lang: str) -> str | None:
    """The comparison of a builder scenario: its changed regime against its starting one, on its levers' city."""
    keys = experiment.scenarios()
    changed = keys[keys["regimes"].str.endswith((".yaml", ".yml"))]
    kept = keys[~keys["regimes"].str.endswith((".yaml", ".yml"))]
    if changed.empty or kept.empty:
        return None
    folder = registry().scenarios_dir
    city = read_levers(folder, experiment.id).get("city") if folder else None
    return href("/compare", exp=experiment.id, manifest=experiment.manifest_hash, baseline=kept["key"].iloc[0],
                regimes=changed["key"].iloc[0], city=city, lang=lang)


@callback(Output("sb-city", "options"), Output("sb-city", "value"), Output("sb-indicator", "options"),
          Output("sb-indicator", "value"), Input("sb-base", "value"), Input("sb-city", "value"),
          State("sb-indicator", "value"), State("sb-lang", "data"), prevent_initial_call=True)
def on_base(base: Any, city: Any, indicator: Any, lang: Any) -> tuple[Any, ...]:
    """The cities of the chosen regime, and the indicators of the chosen city's points tables."""
    names = [o["value"] for o in _regime_options()]
    if base not in names:
        return [], None, [], None
    cities = cities_of(base)
    city = city if city in cities else cities[0]
    choices = indicator_choices(base, city)
    return (_city_options(base, lang_of(lang)), city, choices, indicator if indicator in choices else None)


@callback(Output("sb-power", "children"), Input("sb-base", "value"), Input("sb-city", "value"),
          Input("sb-scale", "value"), Input("sb-end", "value"), Input("sb-replications", "value"),
          Input("sb-effect", "value"), Input("sb-effect_metric", "value"), State("sb-lang", "data"))
def on_power(base: Any, city: Any, scale: Any, end: Any, seeds: Any, delta: Any, metric: Any,
             lang: Any) -> list[Any]:
    """The seeds the stated effect needs at the chosen scale, their finish time, and whether the main sweep's
    baseline runs are the ones this scenario would run (``dashboard.power.advice``)."""
    lang = lang_of(lang)
    try:
        lines = advice(registry(), base, city, scale, end, seeds, delta, metric, lang)
    except ValueError as exc:
        return [html.Div(str(exc), className="text-danger")]
    return [html.Div(line, className=cls) for line, cls in lines]


def _label(name: str, lang: str) -> str:
    return t(_LABELS.get(name, name), lang)


def levers_of(values: dict[str, Any], lang: str = "en") -> Levers:
    """The form's values as validated ``Levers`` (``ValueError`` naming the first wrong field by its label, and
    for a number its allowed range: a browser sends no value for a number outside the input's range)."""
    kwargs: dict[str, Any] = {}
    for name in FIELDS:
        value = values.get(name)
        if name in ("base", "name", "indicator", "city"):
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{_label(name, lang)}: {t('expected_text', lang)}")
            if name == "name" and isinstance(value, str) and len(value) > 80:
                raise ValueError(f"{_label(name, lang)}: {t('name_length', lang)}")
            kwargs[name] = value if (value or name not in ("indicator", "city")) else None
        else:
            low, high = LIMITS[name]
            wrong = ValueError(f"{_label(name, lang)}: {t('allowed_range', lang).format(low=low, high=high)}")
            if value is None or isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise wrong
            try:
                number = float(value)
            except ValueError:
                raise wrong from None
            kwargs[name] = int(number) if name in ("end", "replications", "talent_age_shift") else number
    try:
        return Levers(**kwargs).check()
    except ValueError as exc:  # "field: why" from Levers.check, said with the field's label
        field, _, why = str(exc).partition(": ")
        if field in LIMITS:
            low, high = LIMITS[field]
            raise ValueError(f"{_label(field, lang)}: {t('allowed_range', lang).format(low=low, high=high)}") \
                from None
        raise ValueError(f"{_label(field, lang)}: {why}" if field in FIELDS else str(exc)) from None


def _matching_sweep(levers: Levers) -> Any | None:
    """The main sweep whose baseline runs match the scenario's settings (``dashboard.power.baseline_match``)."""
    from dashboard.power import baseline_match

    sweep = main_sweep([registry().get(i) for i in registry().ids()], levers.base)
    if sweep is None or baseline_match(sweep.manifest, levers.base, levers.scale, levers.end, levers.replications):
        return None
    return sweep


def _root_seed(levers: Levers) -> int:
    """The main sweep's root seed when its baseline runs match (so both run the same seeds), else the builder's."""
    sweep = _matching_sweep(levers)
    return ROOT_SEED if sweep is None else int(sweep.manifest.get("root_seed", ROOT_SEED))


def _reusable(levers: Levers) -> Any | None:
    """The matching main sweep when it was also made by this code, so its baseline runs are the ones this code
    would make and are copied instead of run (``dashboard.reuse``)."""
    from sim.run import code_version

    sweep = _matching_sweep(levers)
    return sweep if sweep is not None and sweep.manifest.get("code_version") == code_version() else None


def run_scenario(set_progress: Any, values: dict[str, Any], lang: str) -> Any:
    """Validate, write the counterfactual, run the short sweep through ``experiments``, link to the comparison."""
    from experiments.spec import spec_from_dict
    from experiments.sweep import run_sweep
    from policies.errors import InputError

    try:
        levers = levers_of(values, lang)
        folder = registry().scenarios_dir
        if folder is None:
            raise ValueError("this dashboard has no scenario folder")
        ident, out, doc = write_scenario(levers, folder, _root_seed(levers))
        spec = spec_from_dict(doc)
    except (ValueError, InputError) as exc:
        return error_alert(f"{t('bad_input', lang)}: {getattr(exc, 'message', None) or exc}", lang)

    def progress(counts: dict[str, int], _elapsed: float) -> None:
        total = max(1, sum(counts.values()))
        done = counts.get("done", 0) + counts.get("failed", 0)
        set_progress((int(100 * done / total), f"{done}/{total}"))

    try:
        source = _reusable(levers)
        summary = run_sweep(spec, out, workers=1, progress=progress,
                            **({"model": reusing_model(source.folder)} if source is not None else {}))
    except InputError as exc:
        return error_alert(f"{t('run_failed', lang)}: {exc.one_line()}", lang)
    except Exception as exc:  # a crashed model: say why instead of failing the callback
        return error_alert(f"{t('run_failed', lang)}: {type(exc).__name__}: {str(exc)[:300]}", lang)
    if not summary.ok:
        reasons = "; ".join((e.strip().splitlines() or ["?"])[-1][:200] for _, e in summary.failed[:3])
        return error_alert(f"{t('run_failed', lang)}: {reasons}", lang)
    registry().refresh()
    experiment = registry().get(ident)
    keys = experiment.scenarios()
    base_key = keys[keys["regimes"] == levers.base]["key"].iloc[0]
    reform_key = keys[keys["regimes"] != levers.base]["key"].iloc[0]
    link = href("/compare", exp=ident, manifest=experiment.manifest_hash, baseline=base_key, regimes=reform_key,
                city=levers.city, lang=lang)
    return dbc.Alert([html.Div([html.B(levers.name)], id="sb-name-shown"),
                      dcc.Link(t("run_done", lang).format(city=city_label(str(levers.city), lang)), href=link,
                               id="sb-compare-link"),
                      html.Div(t("saved_in", lang).format(folder=out), className="small text-muted"),
                      html.Div(t("reused_runs", lang).format(exp=source.id) if source is not None
                               else t("baseline_run", lang), className="small text-muted", id="sb-reuse")],
                     color="success")


@callback(Output("sb-result", "children"), Input("sb-run", "n_clicks"),
          *[State(f"sb-{name}", "value") for name in FIELDS], State("sb-lang", "data"),
          background=True, prevent_initial_call=True,
          running=[(Output("sb-run", "disabled"), True, False), (Output("sb-cancel", "disabled"), False, True)],
          progress=[Output("sb-progress", "value"), Output("sb-progress", "label")],
          progress_default=[0, ""], cancel=[Input("sb-cancel", "n_clicks")])
def run(set_progress: Any, n_clicks: Any, *args: Any) -> Any:
    """Run the scenario in the background (the page stays usable; Cancel stops it)."""
    values = dict(zip(FIELDS, args[:-1], strict=True))
    return run_scenario(set_progress, values, lang_of(args[-1]))


@callback(Output("scenarios-python", "children"), *[Input(f"sb-{name}", "value") for name in FIELDS],
          State("sb-lang", "data"))
def reproduce(*args: Any) -> str:
    """The Python that writes and runs the form's scenario (or why the form cannot run yet)."""
    from dashboard.reproduce import scenario_snippet

    values = dict(zip(FIELDS, args[:-1], strict=True))
    try:
        levers = levers_of(values, lang_of(args[-1]))
    except ValueError as exc:
        return f"# {exc}"
    seed = _root_seed(levers)
    return scenario_snippet(levers, registry().scenarios_dir, seed if seed != ROOT_SEED else None)


sync_url("scenarios", {name: (f"sb-{name}", "value") for name in (*FIELDS, "effect", "effect_metric")})
