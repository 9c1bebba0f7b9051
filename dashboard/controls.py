"""Helpers the pages share for reading their query string and validating callback inputs.

Every value a callback receives may be forged (a crafted request can send any JSON), so each is checked against
the options the page offered: unknown values fall back to a default or raise ``ValueError``, which the app turns
into a message on the page.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from dashboard.data import Experiment, registry
from dashboard.i18n import city_label, lang_of, metric_definition, metric_label
from policies.cities import CITIES
from sim.metrics import CITY_METRICS

__all__ = ["CALCULATOR_DEFAULTS", "filter_city", "experiment_options", "scenario_options", "metric_options",
           "year_options", "city_options", "pick_experiment", "pick_keys", "pick_metric", "pick_year", "pick_city",
           "year_label", "year_text", "CITIES", "split", "lang_of", "labels_of"]

# The points calculator's starting profile (a bachelor renting in Bao'an with four years of insurance).
CALCULATOR_DEFAULTS: dict[str, Any] = {"date": "2018-06-01", "age": 30, "sex": "female", "education": "bachelor",
                            "full_time_degree": True, "professional_title": "none", "skill_level": "none",
                            "shortage_occupation": False, "pension": 48, "medical": 48, "unemployment": 48,
                            "work_injury": 48, "maternity": 48, "residence_permit_months": 36,
                            "months_in_city": 36, "employed": True, "housing_type": "rented",
                            "registered_lease": False, "family_hukou_member": False, "home_district": 440306,
                            "work_district": 440306, "tax_paid_3y": 0, "invention": 0,
                            "utility_model": 0, "criminal": False, "bad_credit": False}
MAX_TEXT = 200


def split(value: Any) -> list[str]:
    """A query or control value as a list of short strings (comma-separated text or a list)."""
    if value is None:
        return []
    if isinstance(value, str):
        if len(value) > 4 * MAX_TEXT:
            raise ValueError("value too long")
        return [v for v in value.split(",") if v]
    if isinstance(value, list):
        if len(value) > 50:
            raise ValueError("too many values")
        return [str(v) for v in value if isinstance(v, (str, int)) and len(str(v)) <= MAX_TEXT]
    raise ValueError("expected text or a list")


def experiment_options() -> list[dict[str, str]]:
    """The experiments of this dashboard for a dropdown."""
    reg = registry()
    return [{"label": f"{reg.get(i).title} ({i})", "value": i} for i in reg.ids()]


def pick_experiment(value: Any) -> Experiment:
    """The experiment a control names (``UnknownExperiment`` for anything else)."""
    value = value[0] if isinstance(value, list) and value else value
    return registry().get(value)


def scenario_options(experiment: Experiment, lang: str = "en") -> list[dict[str, str]]:
    """The scenarios of an experiment as (name, key) options: the regime's short name in the reader's language
    ("Talent only", "仅限人才"; ``dashboard.findings.scenario_names``), so that no page shows identifiers such as
    ``talent_only``; a scenario builder's file or a sweep of overrides keeps its label. The key (in links and
    downloads) stays the sweep's."""
    from dashboard.findings import scenario_names

    names = scenario_names(experiment, lang)
    options = []
    for r in experiment.scenarios().itertuples(index=False):
        name = names.get(str(r.key), str(r.label).removeprefix("regimes="))
        options.append({"label": name[:1].upper() + name[1:] if lang_of(lang) == "en" else name, "value": r.key})
    return options


def labels_of(experiment: Experiment, keys: list[str], lang: str = "en") -> dict[str, str]:
    """Scenario key → short label (in the language: ``scenario_options``), in the order given."""
    known = {o["value"]: o["label"] for o in scenario_options(experiment, lang)}
    return {k: known[k] for k in keys if k in known}


def pick_keys(experiment: Experiment, value: Any, default_all: bool = True) -> list[str]:
    """The scenario keys of a control that exist in the experiment (all of them when none is valid)."""
    keys = experiment.scenario_keys()
    chosen = [k for k in split(value) if k in keys]
    return chosen or (keys if default_all else keys[:1])


def metric_options(lang: str, metrics: tuple[str, ...] = CITY_METRICS) -> list[dict[str, str]]:
    """The metrics for a dropdown, named in the language, each with its one-sentence definition as hover text
    (``metric_definition``: the glossary)."""
    return [{"label": metric_label(m, lang), "value": m, **({"title": d} if (d := metric_definition(m, lang)) else {})}
            for m in metrics]


def pick_metric(value: Any, allowed: tuple[str, ...] = CITY_METRICS, default: str = "hukou_share") -> str:
    """A metric the page offers (the default otherwise)."""
    value = value[0] if isinstance(value, list) and value else value
    return value if isinstance(value, str) and value in allowed else default


def year_label(year: float) -> str:
    """A year for an option: 2035, or 2020.83 for a census day."""
    return f"{year:.2f}" if year % 1 else f"{int(year)}"


def year_options(experiment: Experiment) -> list[dict[str, Any]]:
    """The recorded years (census days included, as their date) for a dropdown."""
    return [{"label": year_text(y), "value": y} for y in experiment.years()]


def year_text(year: float) -> str:
    """A year as a reader sees it: 2035 for a year's end, 2020-11-01 for a census day (stored as 2020.83, which
    read as a fraction of a year and confused the first-use review)."""
    return f"{int(year)}-11-01" if year % 1 else f"{int(year)}"


def pick_year(experiment: Experiment, value: Any) -> float:
    """A recorded year (the last year-end when the value is not one)."""
    years = experiment.years()
    try:
        y = float(value[0] if isinstance(value, list) else value)
    except (TypeError, ValueError, IndexError):
        y = math.nan
    for candidate in years:
        if abs(candidate - y) < 1e-6:
            return candidate
    ends = [v for v in years if v % 1 == 0]
    return (ends or years or [math.nan])[-1]


def city_options(lang: str, include_all: bool = True) -> list[dict[str, str]]:
    """The three cities (and 'all')."""
    opts = [{"label": city_label(c, lang), "value": c} for c in CITIES]
    return ([{"label": "∑ / 全部" if lang == "zh" else "All cities", "value": "all"}] if include_all else []) + opts


def pick_city(value: Any, include_all: bool = True) -> str:
    """A city the page offers."""
    value = value[0] if isinstance(value, list) and value else value
    allowed = (("all",) if include_all else ()) + CITIES
    return value if value in allowed else allowed[0]


def filter_city(frame: pd.DataFrame, city: str) -> pd.DataFrame:
    """Rows of one city (all rows for 'all')."""
    return frame if city == "all" else frame[frame["city"] == city]
