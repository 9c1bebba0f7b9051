"""Allocation: how many places a quota round has, who among the applicants gets one, and the chance an eligible
migrant applies (or a yearly-chance channel decides) in a step.

Why in ``policies``: what a quota counts (persons per year, under population control's factor), the order of
applicants, the tie rule at the cut-off and the admission up to the quota are what the texts prescribe
(广州市积分制入户管理办法实施细则 第八条: ranked by score, then by the named months; 成都市居住证积分管理办法
likewise), and which parameter is a channel's yearly chance (``take_up`` or a hazard
channel's ``rate``) is what its role's contract declares (policies/contract.py), not model mechanics. As pure
functions of numbers and arrays they are tested on their own, by the cases in ``cases/*.yaml`` (run by the
mechanisms' case runner, tests/policies/test_mechanism_cases.py); the model only gathers the applicants, makes
the random draws and applies the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Admission", "places", "rank", "admit", "chance_per_step", "channel_chance"]


@dataclass(frozen=True)
class Admission:
    """The outcome of one round: ``chosen`` indexes the applicants admitted, best first; ``ties`` of them were
    admitted beyond the quota because they tied with the last place (``admit_ties``)."""

    chosen: np.ndarray
    ties: int


def places(quota: float, factor: float, scale: float) -> float:
    """The round's places in agents: the channel's ``quota`` (persons per year, its ``params.yaml``) times this
    year's population-control factor (``ControlRules.quota_factors``, 1 without control), divided by the persons
    one agent stands for. The model rounds it to whole agents, unbiased (``sim.phases.migration.stochastic_round``)."""
    return float(quota) * factor / scale


def rank(keys: list[np.ndarray], lottery: np.ndarray) -> np.ndarray:
    """Order of applicants, best first: by each key in turn (larger is better), then by lottery (smaller first)."""
    return np.lexsort([lottery, *[-np.asarray(k, dtype=np.float64) for k in reversed(keys)]])


def admit(keys: list[np.ndarray], quota: int, lottery: np.ndarray, *, admit_ties: bool) -> Admission:
    """Admit up to ``quota`` applicants in ``rank`` order. With ``admit_ties``, everyone tied on every key with the
    last admitted is admitted too (the texts' 同分同录); without it the lottery breaks the tie."""
    n = len(lottery)
    if n == 0 or quota <= 0:
        return Admission(np.zeros(0, dtype=np.int64), 0)
    order = rank(keys, lottery)
    take = min(quota, n)
    within_quota = take
    if take < n and admit_ties:
        last = order[take - 1]
        tied = np.all([k[order[take:]] == k[last] for k in keys], axis=0)
        take += int(np.cumprod(tied).sum())
    return Admission(order[:take], take - within_quota)


def chance_per_step(yearly: float, months: int) -> float:
    """The chance in a step of ``months`` months that makes ``yearly`` the chance over twelve months (independent
    steps: 1 − (1 − yearly)^(months/12)); a permit's ``take_up`` is yearly, the model's step a month or a quarter."""
    return 1 - (1 - float(yearly)) ** (months / 12)


def channel_chance(kind: str, params: Mapping[str, Any]) -> float:
    """The chance drawn once a year, in a channel's round, before its rule: a hazard channel's ``rate``, otherwise
    the channel's ``take_up`` (each required by its role, policies/contract.py ``ROLES``)."""
    return float(params["rate"] if kind == "hazard" else params["take_up"])
