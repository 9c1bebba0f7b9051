"""成府发〔2017〕23号 二（一）（三）, 三（二）1-2; 穗府〔2016〕3号 （三）; 深府〔2016〕58号 （三）: total
control and balance.

Two rules scale this year's quota rounds (a multiplier per channel mechanism):

- total-population control (总量控制): when residents exceed ``resident_target``, the quotas of the
  ``controlled`` channels shrink in proportion to the overshoot times ``sensitivity``, never below ``floor``.
  ``hukou_floor`` is a registered population to *reach* (Guangzhou's 推动非户籍人口在城市落户实施方案, which
  穗府〔2018〕14号 三（二）6 orders carried out): it never cuts a quota, and while hukou residents are below it the
  control does not tighten the rounds (settlement is being promoted), so the factor is 1;
- dynamic balance (动态平衡, Chengdu): talent comes first and is not capped, but when last year's talent entry
  exceeded the yearly ``talent_plan`` the points quota shrinks (and grows when talent fell short) by
  ``sensitivity`` times the relative deviation, between ``floor`` and ``ceiling``.

``state`` has ``residents``, ``hukou_residents`` (persons), ``settled_last_year`` (persons by channel
mechanism name) and ``year``. A rule whose parameters are absent does not apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.contract import Parameters

__all__ = ["ROLE", "PARAMETERS", "required", "quota_factors", "total_control_factor", "balance_factor"]

ROLE = "control"
_TOTAL = ("resident_target", "sensitivity", "floor", "controlled")
_BALANCE = ("talent_plan", "talent_channels", "points_channels", "sensitivity", "floor", "ceiling")


def required(params: Mapping[str, Any]) -> tuple[str, ...]:
    """The parameters each rule needs: total control when a target is set, balance when an entry plan is
    set."""
    need: tuple[str, ...] = ("controlled",)
    if "resident_target" in params:
        need += _TOTAL
    if "talent_plan" in params:
        need += _BALANCE
    return tuple(dict.fromkeys(need))


PARAMETERS = Parameters(optional=tuple(dict.fromkeys((*_TOTAL, "hukou_floor", *_BALANCE))), depends=required)


def total_control_factor(state: Mapping[str, Any], params: Mapping[str, Any]) -> float:
    """深府〔2016〕58号 （三） / 穗府〔2016〕3号 （三） 总量控制: 1 within the resident target, less above it.

    A ``hukou_floor`` not yet reached by hukou residents suspends the cut: the settlement-promotion plan
    (推动非户籍人口在城市落户实施方案) asks the city to raise its registered population to that level, which a
    quota cut would work against. Above the floor the floor has no effect; it is never itself a ceiling.
    """
    hukou_floor = params.get("hukou_floor")
    if hukou_floor and float(state.get("hukou_residents", 0.0)) < float(hukou_floor):
        return 1.0
    target = params.get("resident_target")
    if not target:
        return 1.0
    overshoot = float(state.get("residents", 0.0)) / float(target) - 1.0
    return max(float(params["floor"]), 1.0 - float(params["sensitivity"]) * max(overshoot, 0.0))


def balance_factor(state: Mapping[str, Any], params: Mapping[str, Any]) -> float:
    """成府发〔2017〕23号 二（三） 动态平衡: the points quota moves against last year's deviation of talent
    entry from plan.

    Without last year's counts (the first year) the factor is 1.
    """
    settled = state.get("settled_last_year") or {}
    if not any(name in settled for name in params["talent_channels"]):
        return 1.0
    talent = sum(float(settled.get(name, 0.0)) for name in params["talent_channels"])
    deviation = talent / float(params["talent_plan"]) - 1.0
    factor = 1.0 - float(params["sensitivity"]) * deviation
    return min(float(params["ceiling"]), max(float(params["floor"]), factor))


def quota_factors(state: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, float]:
    """成府发〔2017〕23号 三（二）1 入户指标调控: this year's quota multiplier per channel mechanism name."""
    factors = {name: 1.0 for name in params["controlled"]}
    if params.get("resident_target"):
        total = total_control_factor(state, params)
        factors = {name: f * total for name, f in factors.items()}
    if params.get("talent_plan"):
        balance = balance_factor(state, params)
        for name in params["points_channels"]:
            factors[name] = factors.get(name, 1.0) * balance
    return factors
