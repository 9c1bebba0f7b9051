"""Migrants' wages in RMB and the individual income tax they pay (for tax indicators and the tax channel)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from policies.parameters import DatedValue, parse_entries
from policies.yamlio import load_yaml_text

__all__ = ["monthly_income", "monthly_tax", "tax_paid_3y"]


@cache
def _params() -> dict[str, tuple[DatedValue, ...]]:
    file = "sim/data/income_tax.yaml"
    doc = load_yaml_text(resources.files("sim.data").joinpath("income_tax.yaml").read_text("utf-8"), file)
    return {name: parse_entries(raw, file=file, line=doc.lines.get(name), path=name) for name, raw in doc.items()}


def _value(name: str, date: dt.date) -> Any:
    """The entry of ``name`` in force on ``date``: a number, or the tax schedule (a mapping)."""
    return next(e.value for e in _params()[name] if e.covers(date))


def monthly_income(wage_index: np.ndarray, productivity: np.ndarray, date: dt.date) -> np.ndarray:
    """Monthly wage in RMB: the district's wage index for the tier × individual productivity × the origin wage."""
    base = _value("origin_monthly_wage_2010", date) * (1 + _value("nominal_wage_growth", date)) ** (date.year - 2010)
    return wage_index * productivity * base


def monthly_tax(income: np.ndarray, date: dt.date) -> np.ndarray:
    """个人所得税法 税率表一: progressive tax on monthly wages above the allowance in force on ``date``."""
    schedule = _value("schedule", date)
    income = np.asarray(income, dtype=np.float64)
    tax = np.zeros_like(income)
    payers = np.flatnonzero(income > schedule["allowance"])  # most migrants earn below the allowance
    taxable = income[payers] - schedule["allowance"]
    owed = np.zeros_like(taxable)
    lower = 0.0
    for upper, rate in schedule["brackets"]:
        owed += np.clip(taxable - lower, 0.0, float(upper) - lower) * rate
        lower = float(upper)
    tax[payers] = owed
    return tax


def tax_paid_3y(income: np.ndarray, employed: np.ndarray, date: dt.date) -> np.ndarray:
    """Tax paid over the last three tax years, taking today's wage as the wage of those years (employed only)."""
    return (36 * monthly_tax(income, date) * employed).astype(np.float32)
