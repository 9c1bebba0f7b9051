"""Points calculator: one person's profile; the points under each regime at a date, the breakdown by indicator
with the article it comes from, and which settlement channels are open and, if not, why.

The same function as ``hukou points`` (``policies.calculator.calculate``) scores the profile, so the page and the
command line cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html
from pydantic import ValidationError

from dashboard.components import (
    csv_export,
    csv_name,
    csv_params,
    error_alert,
    graph,
    shell,
    sync_url,
    table,
    table_data,
)
from dashboard.controls import CALCULATOR_DEFAULTS
from dashboard.figures import points_figure
from dashboard.i18n import lang_of, t

dash.register_page(__name__, path="/calculator", name="Points calculator", title="hukou-sim · points", order=3)

EDUCATION = ("none", "junior_high", "high_school", "secondary_vocational", "junior_college", "bachelor", "master",
             "doctorate")
TITLES = ("none", "junior", "intermediate", "deputy_senior", "senior")
SKILLS = ("none", "grade5", "grade4", "grade3", "grade2", "grade1")
HOUSING = ("rented", "owned", "employer", "relative")
INSURANCE = ("pension", "medical", "unemployment", "work_injury", "maternity")
FIELDS = ("date", "age", "sex", "education", "full_time_degree", "professional_title", "skill_level",
          "shortage_occupation", "pension", "medical", "unemployment", "work_injury", "maternity",
          "residence_permit_months", "months_in_city", "employed", "housing_type", "registered_lease",
          "home_district", "work_district", "tax_paid_3y", "invention", "utility_model", "criminal", "bad_credit",
          "family_hukou_member")
DEFAULTS = CALCULATOR_DEFAULTS
BOOLS = {"full_time_degree", "shortage_occupation", "employed", "criminal", "bad_credit", "registered_lease",
         "family_hukou_member"}
NUMBERS = {"age", "pension", "medical", "unemployment", "work_injury", "maternity", "residence_permit_months",
           "months_in_city", "tax_paid_3y", "invention", "utility_model"}


def district_options() -> list[dict[str, Any]]:
    """The modelled districts (with an adcode) for the home and work dropdowns."""
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "sim" / "data" / "districts.csv"
    with path.open(encoding="utf-8") as f:
        return [{"label": f"{r['district_en']} {r['district_cn']} ({r['adcode']})", "value": int(r["adcode"])}
                for r in csv.DictReader(f) if r["adcode"]]


def _input(name: str, value: Any, lang: str) -> Any:
    fid = f"calc-{name}"
    if name in BOOLS:
        return dbc.Checkbox(id=fid, value=bool(value), label=t(name, lang) if name not in ("criminal", "bad_credit")
                            else t(name, lang))
    if name in NUMBERS:
        return dbc.Input(id=fid, type="number", value=value, min=0, step=1, size="sm")
    if name == "date":
        return dbc.Input(id=fid, type="text", value=value, size="sm", placeholder="YYYY-MM-DD")
    choices = {"sex": ("female", "male"), "education": EDUCATION, "professional_title": TITLES,
               "skill_level": SKILLS, "housing_type": HOUSING}.get(name)
    if choices:
        return dcc.Dropdown(list(choices), value, id=fid, clearable=False)
    return dcc.Dropdown(district_options(), value, id=fid, clearable=False)


_LABEL_KEYS = {"residence_permit_months": "permit_months", "tax_paid_3y": "tax_paid", "invention": "invention_patents",
               "utility_model": "utility_patents", "home_district": "home_district", "work_district": "work_district"}


def _field(name: str, value: Any, lang: str, md: int = 3) -> dbc.Col:
    if name in BOOLS:
        return dbc.Col(_input(name, value, lang), md=md, className="pt-4")
    label = t(_LABEL_KEYS.get(name, name), lang) if name not in INSURANCE else name.replace("_", " ")
    return dbc.Col([dbc.Label(label, className="small mb-0"), _input(name, value, lang)], md=md)


def _coerce(name: str, raw: str | None) -> Any:
    if raw is None:
        return DEFAULTS[name]
    if name in BOOLS:
        return raw in ("1", "true", "True", "yes")
    if name in NUMBERS or name in ("home_district", "work_district"):
        try:
            return int(float(raw))
        except ValueError:
            return DEFAULTS[name]
    return raw[:40]


def layout(lang: str | None = None, exp: str | None = None, **query: Any) -> html.Div:
    """The form, filled from the query string (a shared link reopens the same profile) or defaults."""
    lang = lang_of(lang)
    values = {name: _coerce(name, query.get(name)) for name in FIELDS}
    rows = [
        dbc.Row([_field(n, values[n], lang, 2) for n in ("date", "age", "sex", "education", "professional_title",
                                                          "skill_level")], className="g-2"),
        dbc.Row([_field(n, values[n], lang, 3) for n in ("full_time_degree", "shortage_occupation", "employed",
                                                          "family_hukou_member")], className="g-2"),
        html.Div(t("insurance_months", lang), className="small fw-bold mt-2"),
        dbc.Row([_field(n, values[n], lang, 2) for n in INSURANCE], className="g-2"),
        dbc.Row([_field(n, values[n], lang, 2) for n in ("residence_permit_months", "months_in_city",
                                                          "housing_type", "tax_paid_3y", "invention",
                                                          "utility_model")], className="g-2 mt-1"),
        dbc.Row([_field("home_district", values["home_district"], lang, 4),
                 _field("work_district", values["work_district"], lang, 4),
                 _field("criminal", values["criminal"], lang, 2), _field("bad_credit", values["bad_credit"], lang, 2)],
                className="g-2 mt-1"),
        dbc.Row([_field("registered_lease", values["registered_lease"], lang, 4),
                 dbc.Col(html.Small(t("registered_lease_note", lang), className="text-muted"), md=8,
                         className="pt-4")], className="g-2"),
        dbc.Button(t("calculate", lang), id="calc-go", color="primary", className="mt-3", n_clicks=0),
    ]
    return shell("calculator", lang, exp, [
        dcc.Store(id="calc-lang", data=lang),
        html.H2(t("calc_title", lang)), html.P(t("calc_intro", lang), className="text-muted"),
        dbc.Card(dbc.CardBody(rows), className="mb-3"),
        html.Div(id="calc-message"),
        html.H4(id="calc-headline"),
        dcc.Loading(graph("calc-graph", filename="hukou-points")),
        html.H5(t("indicator", lang)), table("calc-breakdown", pd.DataFrame(), lang),
        html.H5(t("channel", lang), className="mt-3"), table("calc-channels", pd.DataFrame(), lang),
        html.Details([html.Summary(t("reproduce", lang)), html.Pre(id="calc-command", className="small bg-light p-2"),
                      html.Div([html.Span(t("share_link", lang) + ": ", className="small fw-bold"),
                                html.Code(id="calculator-link", className="small")])], className="mt-4"),
    ])


def profile_of(values: dict[str, Any]) -> tuple[Any, dt.date]:
    """The ``Profile`` and date of the form's values (``ValueError`` naming the field when one is wrong)."""
    from policies.calculator import parse_date
    from policies.errors import InputError
    from policies.schema import Profile

    try:
        day = parse_date(str(values.get("date") or "")[:20])
    except InputError as exc:
        raise ValueError(f"date: {exc.message}") from None
    if not dt.date(1990, 1, 1) <= day <= dt.date(2050, 12, 31):
        raise ValueError("date: outside 1990–2050")
    doc = {"age": values.get("age"), "sex": values.get("sex"), "education": values.get("education"),
           "full_time_degree": values.get("full_time_degree"), "professional_title": values.get("professional_title"),
           "skill_level": values.get("skill_level"), "shortage_occupation": values.get("shortage_occupation"),
           "social_insurance_months": {k: values.get(k) or 0 for k in INSURANCE},
           "residence_permit_months": values.get("residence_permit_months") or 0,
           "months_in_city": values.get("months_in_city") or 0, "employed": values.get("employed"),
           "housing": {"type": values.get("housing_type"), "district": values.get("home_district") or 0,
                       "registered_lease": bool(values.get("registered_lease"))
                       and values.get("housing_type") == "rented"},
           "family_hukou_member": bool(values.get("family_hukou_member")),
           "work_district": values.get("work_district") or 0, "tax_paid_3y": values.get("tax_paid_3y") or 0,
           "patents": {"invention": values.get("invention") or 0, "utility_model": values.get("utility_model") or 0},
           "record": {"criminal": values.get("criminal"), "bad_credit": values.get("bad_credit")}}
    try:
        return Profile.model_validate(doc, strict=False), day
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ValueError(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None


def regimes_for_city(city: str) -> list[Any]:
    """Every distinct regime a user can name that has rules for the city (historical first)."""
    from policies.catalogue import available

    seen: dict[str, Any] = {}
    for regimes in available().values():
        regime = regimes.get(city)
        if regime is not None and regime.name not in seen:
            seen[regime.name] = regime
    return sorted(seen.values(), key=lambda r: (r.name != city, r.name))


def calculate_all(values: dict[str, Any], lang: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """Totals (with the line's status read with the points route, the open channels and the indicators scored on
    assumptions), breakdowns (each row saying whether its scoring is cited or assumed, beside the points) and
    channels of the profile under each regime of its city, and the city."""
    from dashboard.glossary import regime_name
    from policies.calculator import calculate
    from policies.cities import CITIES, CITY_NAMES, city_of_adcode

    profile, day = profile_of(values)
    city = city_of_adcode(profile.housing.district) or city_of_adcode(profile.work_district)
    if city is None:
        *others, last = (CITY_NAMES[c][0] for c in CITIES)
        raise ValueError(f"home_district: choose a district of {', '.join(others)} or {last}")
    totals, parts, channels = [], [], []
    for regime in regimes_for_city(city):
        result = calculate(profile, regime, day)
        totals.append({"regime": regime.name, "version": result.version, "total": result.total,
                       "threshold": result.threshold, "status": result.line_status,
                       "route_reason": result.points_route_reason, "open": result.open_channels,
                       "assumed": len(result.assumed_indicators), "indicators": len(result.breakdown)})
        for row in result.breakdown:
            parts.append({t("regime", lang): regime_name(regime.name, lang), t("indicator", lang): row.indicator,
                          t("points", lang): float(row.points),
                          t("basis", lang): t("basis_assumed" if row.assumed else "basis_cited", lang),
                          t("article", lang): row.ref})
        for route in result.channels:
            channels.append({t("regime", lang): regime_name(regime.name, lang), t("channel", lang): route.channel,
                             t("eligible", lang): t("yes" if route.eligible else "no", lang),
                             t("reason", lang): "" if route.eligible else route.reason})
    return pd.DataFrame(totals), pd.DataFrame(parts), pd.DataFrame(channels), city


def headline(head: Any, lang: str) -> list[Any]:
    """The historical regime's total beside its line, said with the points route (a total over the line while the
    route is closed says it is closed), how many indicators are scored on assumptions, and through which channels
    the person can settle now."""
    text = f"{t('total', lang)} ({head['regime']}, {head['version']}): {head['total']:g}"
    if pd.notna(head["threshold"]):
        text += f" · {t('threshold', lang)} {head['threshold']:g} ({t('line_rules', lang)})"
    status = t(f"line_{head['status']}", lang).format(why=head["route_reason"])
    parts: list[Any] = [html.Div(text)]
    if status:
        closed = head["status"] == "reached_route_closed"
        parts.append(html.Div(status, id="calc-line-status",
                              className="small " + ("text-danger fw-bold" if closed else "text-muted")))
    if head["assumed"]:
        parts.append(html.Div(t("assumed_scoring", lang).format(n=head["assumed"], total=head["indicators"]),
                              id="calc-assumed", className="small text-warning-emphasis"))
    opened = ", ".join(head["open"])
    parts.append(html.Div(t("settle_now", lang).format(channels=opened) if opened else t("settle_none", lang),
                          id="calc-verdict", className="small"))
    return parts


def command_of(values: dict[str, Any], city: str) -> str:
    """The ``hukou points`` command (and profile file) that gives the historical regime's result, and the same
    calculation in Python (``dashboard.reproduce.points_snippet``: "Reproduce in Python")."""
    from dashboard.reproduce import points_snippet
    from policies.yamlio import dump_yaml

    profile, day = profile_of(values)
    fields = profile.model_dump(mode="json", exclude_defaults=True)
    doc = dump_yaml(fields)
    return (f"cat > profile.yaml <<'EOF'\n{doc}EOF\n"
            f"hukou points --regime {city} --date {day} --profile profile.yaml --json\n\n"
            f"# the same in Python\n{points_snippet(fields, city, city, day.isoformat())}")


@callback(Output("calc-graph", "figure"), Output("calc-headline", "children"), Output("calc-breakdown", "rowData"),
          Output("calc-breakdown", "columnDefs"), Output("calc-breakdown", "csvExportParams"),
          Output("calc-channels", "rowData"), Output("calc-channels", "columnDefs"),
          Output("calc-channels", "csvExportParams"),
          Output("calc-command", "children"), Output("calc-message", "children"),
          Input("calc-go", "n_clicks"), *[State(f"calc-{name}", "value") for name in FIELDS],
          State("calc-lang", "data"))
def update(n_clicks: Any, *args: Any) -> tuple[Any, ...]:
    """Score the form's profile under every regime of its city (a bad field is named, nothing is scored)."""
    values = dict(zip(FIELDS, args[:-1], strict=True))
    lang = lang_of(args[-1])
    try:
        totals, parts, channels, city = calculate_all(values, lang)
    except ValueError as exc:
        return (dash.no_update,) * 9 + (error_alert(f"{t('bad_input', lang)}: {exc}", lang),)
    historical = totals[totals["regime"] == city]
    head = historical.iloc[0] if len(historical) else totals.iloc[0]
    line = headline(head, lang)
    b_data, b_cols = table_data(parts)
    c_data, c_cols = table_data(channels)
    day = str(values.get("date") or "")[:10]
    b_name, c_name = (csv_params(csv_name("points", city, day, what, lang)) for what in ("breakdown", "channels"))
    return (points_figure(totals, lang), line, b_data, b_cols, b_name, c_data, c_cols, c_name,
            command_of(values, city), None)


csv_export("calc-breakdown", "calc-channels")
sync_url("calculator", {name: (f"calc-{name}", "value") for name in FIELDS})
