"""Hukou policies as code: dated, cited parameters, pure vectorised rules per mechanism, and city regimes.

Imports nothing from the other packages of the project (docs/contracts.md §2).
"""

from __future__ import annotations

from policies.catalogue import available, load_regime_file, resolve
from policies.cities import CITIES
from policies.decision import Decision, Lever, Points, decide
from policies.errors import InputError
from policies.regime import PolicySnapshot, Regime
from policies.schema import PersonColumns, Persons, Profile

__all__ = [
    "CITIES", "Decision", "InputError", "Lever", "PersonColumns", "Persons", "PolicySnapshot", "Points", "Profile",
    "Regime", "available", "decide", "load_regime_file", "resolve",
]
