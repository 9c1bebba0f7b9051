"""Scenario-builder levers: dated entries kept, only the intended numbers changed, bad input named."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.levers import Levers, build_overrides, indicator_choices, write_scenario


def test_quota_and_min_score_rewrite_each_dated_entry() -> None:
    over = build_overrides(Levers(base="guangzhou", quota_factor=2.0, min_score_shift=-20))
    quota = over["points_channel.guangzhou_2011.quota"]
    assert all(e["value"] == 9000 for e in quota) and all("assumption" in e for e in quota)
    assert over["points_channel.guangzhou_2018.min_score"][0]["value"] == 80
    assert not any(k.startswith("points_channel.chengdu") for k in over)  # the other cities keep their own rules


def test_indicator_weight_scales_points_not_thresholds() -> None:
    over = build_overrides(Levers(base="chengdu", indicator="education", indicator_factor=1.5))
    tiers = over["points.chengdu_2018.education"][0]["value"]["tiers"]
    assert [t["points"] for t in tiers] == [90, 60, 30]
    assert [t["education_min"] for t in tiers] == ["bachelor", "junior_college", "high_school"]
    assert "threshold" not in indicator_choices("chengdu")


def test_district_bonus_and_talent_ages() -> None:
    over = build_overrides(Levers(base="chengdu", district_bonus_factor=0.0, talent_age_shift=5))
    assert set(over["points.chengdu_2018.district_bonus"][0]["value"]["by_adcode"].values()) == {0}
    route = over["talent_channel.chengdu_2018.route_education_central"][0]["value"]
    assert route["age_at_most"] == 50


@pytest.mark.parametrize(("changes", "field"), [({"base": "../etc"}, "base regime"), ({"quota_factor": 99}, "quota"),
                                                ({"end": 2060}, "end"), ({"name": ""}, "name"),
                                                ({"indicator": "threshold"}, "indicator"),
                                                ({"replications": True}, "replications")])
def test_bad_levers_are_named(changes: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Levers(**changes).check()


def test_written_scenario_is_a_valid_counterfactual_and_spec(tmp_path: Path) -> None:
    from experiments.spec import spec_from_dict
    from policies.catalogue import load_regime_file

    ident, out, doc = write_scenario(Levers(base="historical", quota_factor=0.5, name="<script>x</script>",
                                            city="guangzhou"), tmp_path)
    assert ident.startswith("scenario-script-x-script-") and out == tmp_path / ident
    regime_file = Path(doc["levers"]["regimes"][1])
    assert regime_file.parent == tmp_path / "_regimes"
    regimes = load_regime_file(regime_file)
    assert set(regimes) == {"shenzhen", "guangzhou", "chengdu"}  # the other cities keep historical's rules
    import yaml

    overrides = yaml.safe_load(regime_file.read_text("utf-8"))["overrides"]
    assert overrides and all(key.startswith("points_channel.guangzhou_") for key in overrides)
    assert spec_from_dict(doc).levers.regimes[0] == "historical"
    with pytest.raises(ValueError, match="no lever"):
        write_scenario(Levers(city="shenzhen"), tmp_path)


def test_levers_act_on_one_named_city() -> None:
    """First-use review: levers had no city; with ``historical`` a quota lever hit all three cities."""
    with pytest.raises(ValueError, match="city: the levers act on one city of historical: shenzhen | guangzhou"):
        Levers(quota_factor=2).check()
    assert Levers(base="guangzhou", quota_factor=2).check().city == "guangzhou"  # its only city
    with pytest.raises(ValueError, match="city"):
        Levers(base="guangzhou", quota_factor=2, city="chengdu").check()
    over = build_overrides(Levers(base="historical", quota_factor=2, district_bonus_factor=2,
                                  city="chengdu").check())
    assert over and all(".chengdu_" in key for key in over)


def test_a_lever_on_rules_another_city_shares_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import levers

    real = levers._uses
    monkeypatch.setattr(levers, "_uses", lambda base: {**real(base), "shenzhen": real(base)["guangzhou"]})
    with pytest.raises(ValueError, match="also shenzhen's"):
        write_scenario(Levers(base="historical", quota_factor=2, city="guangzhou"), tmp_path)


def test_a_name_in_chinese_keeps_an_identifier() -> None:
    from dashboard.levers import scenario_id

    ident = scenario_id(Levers(base="guangzhou", min_score_shift=-20, name="广州积分线降低20分"))
    assert ident.startswith("scenario-20-")
    assert scenario_id(Levers(base="guangzhou", min_score_shift=-20, name="广州积分线")).count("-") == 1
