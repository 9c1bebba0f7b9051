"""The mechanism contract (policies/contract.py), checked when a regime loads (issue 10, item 1).

Before the contract, a regime whose variant lacked ``take_up`` or ``round_month`` loaded and ran with a silent
default (1.0, October), a misspelled parameter was ignored, and a module without ``admit_ties`` was probed with
``hasattr`` and its ties broken at random. Each is now an ``InputError`` at load, naming the file and
``mechanism.variant.parameter`` (or ``mechanism.function``).
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Callable
from pathlib import Path

import pytest

import policies.regime as regime_module
from hukou_cli.main import main
from policies.catalogue import REGIME_DIR, available, load_regime_file
from policies.contract import ROLES, Parameters, check_rules, members, missing
from policies.errors import InputError
from policies.mechanisms import MECHANISMS, variants_of
from policies.parameters import Variant, load_variants

TALENT_VARIANTS = """\
complete:
  description: a talent variant with every parameter its role needs
  params:
    take_up: {value: 0.2, assumption: test}
    round_month: {value: 10, assumption: test}
    route_bachelor: {value: {education_min: bachelor}, assumption: test}
no_round_month:
  description: lacks round_month (the model once read it with a default of 10)
  params:
    take_up: {value: 0.2, assumption: test}
    route_bachelor: {value: {education_min: bachelor}, assumption: test}
no_take_up_from_2015:
  description: take_up ends in 2014
  params:
    take_up: {value: 0.2, end: 2014-12-31, assumption: test}
    round_month: {value: 10, assumption: test}
typo:
  description: take_up misspelled
  params:
    round_month: {value: 10, assumption: test}
    take_upp: {value: 0.2, assumption: test}
bad_route:
  description: a route with a condition key the rule does not know
  params:
    take_up: {value: 0.2, assumption: test}
    round_month: {value: 10, assumption: test}
    route_bachelor: {value: {education_min: bachelor, age_under: 35}, assumption: test}
"""


def _regime_yaml(variant: str) -> str:
    return ("name: contract_test\ncity: guangzhou\nversions:\n  - label: only\n    start: 2011-01-01\n"
            f"    mechanisms:\n      talent_channel: {variant}\n")


@pytest.fixture
def test_variants(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The talent channel gains the variants of ``TALENT_VARIANTS``, read from a params file of the test."""
    params = tmp_path / "params.yaml"
    params.write_text(TALENT_VARIANTS, encoding="utf-8")
    extra = load_variants(params, "talent_channel")
    real: Callable[[str], dict[str, Variant]] = variants_of

    def with_extra(mechanism: str) -> dict[str, Variant]:
        return {**real(mechanism), **extra} if mechanism == "talent_channel" else real(mechanism)

    monkeypatch.setattr(regime_module, "variants_of", with_extra)
    return params


def _load(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "regime.yaml"
    path.write_text(text, encoding="utf-8")
    load_regime_file(path)
    return path


def test_a_complete_variant_loads(tmp_path: Path, test_variants: Path) -> None:
    """The fixture's complete variant passes: the failures below are the parameters', not the set-up's."""
    _load(tmp_path, _regime_yaml("complete"))


def test_missing_required_parameter_is_an_error_at_load(tmp_path: Path, test_variants: Path) -> None:
    """A variant without a parameter its role requires (round_month of a direct channel) is refused at load,
    naming the params file that lacks it and ``mechanism.variant.parameter``."""
    with pytest.raises(InputError) as err:
        _load(tmp_path, _regime_yaml("no_round_month"))
    assert err.value.file == str(test_variants)
    assert err.value.field == "talent_channel.no_round_month.round_month"
    assert "missing parameter" in err.value.message and "direct channel" in err.value.message


def test_parameter_missing_from_a_date_is_an_error_at_load(tmp_path: Path, test_variants: Path) -> None:
    """A parameter that stops resolving on a later date is found on that date, before the model reaches it."""
    with pytest.raises(InputError) as err:
        _load(tmp_path, _regime_yaml("no_take_up_from_2015"))
    assert err.value.field == "talent_channel.no_take_up_from_2015.take_up"
    assert "2015-01-01" in err.value.message


def test_misspelled_parameter_is_an_error_at_load(tmp_path: Path, test_variants: Path) -> None:
    """A parameter the mechanism does not read (``take_upp``) is refused with its file and line; before, the
    model read take_up with a default of 1.0."""
    with pytest.raises(InputError) as err:
        _load(tmp_path, _regime_yaml("typo"))
    assert err.value.file == str(test_variants)
    assert err.value.field == "talent_channel.typo.take_upp"
    assert err.value.line == TALENT_VARIANTS.splitlines().index("    take_upp: {value: 0.2, assumption: test}") + 1
    assert "unknown parameter" in err.value.message and "take_up" in err.value.message


def test_override_that_nulls_a_required_parameter_names_the_regime_file(tmp_path: Path) -> None:
    """A counterfactual that sets a required parameter to null from a date is refused when it loads (before, the
    model failed years into the run on float(None))."""
    text = ("name: x\nderive_from: guangzhou\noverrides:\n"
            "  talent_channel.guangzhou_2016.take_up: {value: null, start: 2016-01-01, assumption: test}\n")
    with pytest.raises(InputError) as err:
        _load(tmp_path, text)
    assert err.value.file == str(tmp_path / "regime.yaml")
    assert err.value.field == "talent_channel.guangzhou_2016.take_up"
    assert "override" in err.value.message


def test_unreadable_route_in_params_file_is_an_error_at_load(tmp_path: Path, test_variants: Path) -> None:
    """A route with an unknown condition key is refused at load with its file and line (before, a ValueError
    stopped the run at the channel's first round)."""
    with pytest.raises(InputError) as err:
        _load(tmp_path, _regime_yaml("bad_route"))
    assert err.value.file == str(test_variants)
    assert err.value.field == "talent_channel.bad_route.route_bachelor"
    assert err.value.line == TALENT_VARIANTS.splitlines().index(
        "    route_bachelor: {value: {education_min: bachelor, age_under: 35}, assumption: test}") + 1
    assert "unknown condition 'age_under'" in err.value.message


@pytest.mark.parametrize("override,field,message", [
    ("talent_channel.guangzhou_2016.route_bachelor: {value: {education_min: bachelour}, start: 2016-01-01, "
     "assumption: test}", "talent_channel.guangzhou_2016.route_bachelor.education_min", "'bachelour' is not one of"),
    ("points_channel.guangzhou_2016.insurance_months_min: {value: {pensions: 48}, assumption: test}",
     "points_channel.guangzhou_2016.insurance_months_min", "unknown insurance 'pensions'"),
    ("services_tiers.guangzhou_2016.tier_1: {value: {permit_month_min: 12}, assumption: test}",
     "services_tiers.guangzhou_2016.tier_1", "unknown condition 'permit_month_min'"),
    ("spatial_levers.guangzhou_2018.industry_relocation: {value: {kind: relocate}, start: 2019-01-01, "
     "assumption: test}", "spatial_levers.guangzhou_2018.industry_relocation.kind", "unknown kind 'relocate'"),
])
def test_unreadable_override_is_an_error_at_load(tmp_path: Path, override: str, field: str, message: str) -> None:
    """A counterfactual's override that the rules cannot read is refused when it loads, naming the regime
    file and the parameter (before, the run stopped with a traceback when it reached the rule)."""
    with pytest.raises(InputError) as err:
        _load(tmp_path, f"name: x\nderive_from: guangzhou\noverrides:\n  {override}\n")
    assert err.value.file == str(tmp_path / "regime.yaml")
    assert err.value.field == field
    assert message in err.value.message


def _without(name: str, member: str) -> types.ModuleType:
    """A copy of a mechanism's rules module without one of its members."""
    real = MECHANISMS[name]
    fake = types.ModuleType(real.__name__)
    fake.__dict__.update({k: v for k, v in vars(real).items() if k != member})
    return fake


@pytest.mark.parametrize("mechanism,member,regime", [
    ("points_channel", "admit_ties", "guangzhou"),      # was probed with hasattr in sim/phases/settlement.py
    ("points", "district_bonus", "chengdu"),            # was probed with hasattr in sim/government.py
    ("family_channel", "eligible", "shenzhen"),
    ("services_tiers", "school_tier", "shenzhen"),
    ("talent_channel", "CHANNEL", "shenzhen"),          # was read with a default ("other") by the calculator
    ("tax_channel", "PARAMETERS", "shenzhen"),
])
def test_module_missing_a_member_is_an_error_at_load(monkeypatch: pytest.MonkeyPatch, mechanism: str, member: str,
                                                      regime: str) -> None:
    """A rules module without a function or constant of its role's protocol is refused when a regime using it
    loads, naming the module's file and ``mechanism.member``."""
    monkeypatch.setitem(MECHANISMS, mechanism, _without(mechanism, member))
    with pytest.raises(InputError) as err:
        load_regime_file(REGIME_DIR / f"{regime}.yaml")
    assert err.value.field == f"{mechanism}.{member}"
    assert err.value.file == MECHANISMS[mechanism].__file__


def test_unknown_role_or_column_is_an_error() -> None:
    """A module declaring a role or a channel column the contract does not know is refused."""
    fake = _without("talent_channel", "")
    fake.KIND = "lottery"
    with pytest.raises(InputError, match="no role 'channel' of kind 'lottery'"):
        check_rules("talent_channel", fake)
    fake = _without("talent_channel", "")
    fake.CHANNEL = "gold"
    with pytest.raises(InputError, match="unknown column 'gold'"):
        check_rules("talent_channel", fake)


def test_command_line_reports_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``hukou points`` with such a regime file: one line naming file and field, exit code 2, no traceback."""
    regime = tmp_path / "regime.yaml"
    regime.write_text("name: x\nderive_from: guangzhou\noverrides:\n"
                      "  points.guangzhou_2016.threshold: {value: null, assumption: test}\n", encoding="utf-8")
    profile = tmp_path / "profile.yaml"
    profile.write_text("age: 30\neducation: bachelor\n", encoding="utf-8")
    code = main(["points", "--regime", str(regime), "--date", "2017-06-01", "--profile", str(profile)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith(f"hukou: error: {regime}: ")
    assert "points.guangzhou_2016.threshold: missing parameter" in err


def test_every_role_has_a_protocol_and_requirements() -> None:
    """The eight roles of the contract, their functions, and the parameters each requires of every mechanism."""
    assert set(ROLES) == {"permit", "points", "direct_channel", "hazard_channel", "quota_channel", "services",
                          "spatial", "control"}
    assert members(ROLES["quota_channel"].protocol) == (("ROLE", "PARAMETERS", "CHANNEL", "KIND"),
                                                        ("eligible", "rank_keys", "admit_ties"))
    assert members(ROLES["permit"].protocol)[1] == ("eligible",)
    assert ROLES["permit"].requires == ("take_up", "gates_insured_work")
    assert set(ROLES["direct_channel"].requires) == {"take_up", "round_month"}
    assert set(ROLES["hazard_channel"].requires) == {"rate", "round_month"}
    assert {"take_up", "quota", "round_month", "admit_ties"} <= set(ROLES["quota_channel"].requires)
    assert ROLES["points"].requires == ("threshold",)


def test_parameters_spec() -> None:
    """``Parameters``: required, optional, prefixed and value-dependent names."""
    spec = Parameters(required=("a",), optional=("b",), prefixes=("route_",),
                      depends=lambda p: ("c",) if p.get("b") else ())
    assert spec.knows("a") and spec.knows("b") and spec.knows("route_x") and not spec.knows("d")
    assert spec.needed({}) == ("a",) and spec.needed({"b": 1}) == ("a", "c")
    assert Parameters(any_name=True).knows("anything")


def test_missing_counts_null_as_missing() -> None:
    """A required parameter set to null is missing; an optional one is not."""
    params = variants_of("talent_channel")["shenzhen_2017"].at(dt.date(2018, 1, 1))
    rules = MECHANISMS["talent_channel"]
    assert missing(rules, params) == []
    assert params["route_points_senior_title"] is None   # a route switched off is no missing parameter
    assert missing(rules, {**params, "take_up": None}) == ["take_up"]


def test_shipped_regimes_pass_the_contract() -> None:
    """Every regime a user can name loads, so every shipped mechanism and variant meets its role's contract."""
    for regimes in available().values():
        for regime in regimes.values():
            regime.check()


def test_route_channels_share_one_rule() -> None:
    """Talent, tax and open entry have one eligibility rule; they differ in their parameters and column."""
    rules = [MECHANISMS[m] for m in ("talent_channel", "tax_channel", "open_channel")]
    assert len({r.eligible for r in rules}) == 1 and len({id(r.PARAMETERS) for r in rules}) == 1
    assert [r.CHANNEL for r in rules] == ["talent", "other", "other"]


def test_typed_views_match_the_role() -> None:
    """The model reaches a mechanism's rules through its role's protocol (``as_points``, ``as_quota``, …); asking
    for another role's view is an error, not a silent attribute lookup."""
    snap = load_regime_file(REGIME_DIR / "guangzhou.yaml")["guangzhou"].snapshot(dt.date(2017, 6, 1))
    points, quota, talent = (snap.mechanisms[m] for m in ("points", "points_channel", "talent_channel"))
    assert points.as_points is MECHANISMS["points"] and quota.as_quota is MECHANISMS["points_channel"]
    assert talent.as_channel.KIND == "direct"
    with pytest.raises(TypeError, match="not quota channel"):
        _ = talent.as_quota
    with pytest.raises(TypeError, match="is a points mechanism"):
        _ = points.as_permit
