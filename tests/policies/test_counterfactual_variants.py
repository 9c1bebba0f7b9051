"""Counterfactuals without code: variants of their own (new routes, tiers, levers), overrides that reach the
variants extending the overridden one, another city's levers aimed at one's own districts, and the refusals."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from hukou_cli.main import main
from policies.catalogue import REGIME_DIR, load_regime_file, resolve
from policies.errors import InputError
from policies.mechanisms import variants_of
from policies.parameters import DatedValue
from policies.regime import with_overrides

EXAMPLE = REGIME_DIR / "counterfactuals" / "guangzhou_renewal_like_shenzhen.yaml"
GUANGZHOU = 4401


def _file(tmp_path: Path, text: str, name: str = "cf.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _params(regime_file: Path, city: str, mechanism: str, date: dt.date) -> dict[str, object]:
    regime = load_regime_file(regime_file)[city]
    return dict(regime.snapshot(date).mechanisms[mechanism].params)


# -- new routes, tiers and levers ---------------------------------------------------------------------------------

CHENGDU_ROUTE = """\
    name: chengdu_master_route
    derive_from: chengdu
    from: 2019-01-01
    variants:
      talent_channel:
        chengdu_2018_master:
          description: chengdu_2018 plus a route for masters of any age
          extends: chengdu_2018
          params:
            route_master_any_age:
              value: {education_min: master}
              assumption: "test: masters settle whatever their age"
    swap:
      talent_channel: chengdu_2018_master
"""


def test_new_route_extends_a_variant_and_is_swapped_in(tmp_path: Path) -> None:
    """A talent route added by a counterfactual's variant is in force from ``from`` on, next to the inherited
    routes; before that date the historical variant applies, and the shared variants are unchanged."""
    path = _file(tmp_path, CHENGDU_ROUTE)
    regime = load_regime_file(path)["chengdu"]
    after = regime.snapshot(dt.date(2019, 6, 1)).mechanisms["talent_channel"]
    assert after.variant == "chengdu_2018_master"
    assert after.params["route_master_any_age"] == {"education_min": "master"}
    assert after.params["route_bachelor"] == variants_of("talent_channel")["chengdu_2018"].at(
        dt.date(2019, 6, 1))["route_bachelor"]
    assert after.refs["route_master_any_age"] == "assumption: test: masters settle whatever their age"
    before = regime.snapshot(dt.date(2018, 6, 1)).mechanisms["talent_channel"]
    assert before.variant == "chengdu_2018" and "route_master_any_age" not in before.params
    assert "chengdu_2018_master" not in variants_of("talent_channel")


def test_new_tier_and_new_lever(tmp_path: Path) -> None:
    """A school tier (``tier_*``) and a spatial lever (any name) added through ``extends``."""
    path = _file(tmp_path, """\
        name: more
        derive_from: shenzhen
        from: 2017-01-01
        variants:
          services_tiers:
            shenzhen_2016_four:
              extends: shenzhen_2016
              params:
                tiers: {value: 5, assumption: "test: one more tier"}
                tier_4: {value: {permit_months_min: 1}, assumption: "test: any permit holder"}
                tier_3: {value: {permit_months_min: 6}, assumption: "test: six months of permit"}
          spatial_levers:
            shenzhen_2016_more:
              extends: shenzhen_2016
              params:
                longgang_housing:
                  value: {kind: housing, districts: [440307], annual_change: 0.02, start_year: 2017,
                          end_year: 2020, article: "test"}
                  assumption: "test: more housing in Longgang"
        swap:
          services_tiers: shenzhen_2016_four
          spatial_levers: shenzhen_2016_more
        """)
    assert set(load_regime_file(path)) == {"shenzhen"}  # derive_from a city, no cities: that city only
    day = dt.date(2018, 1, 1)
    tiers = _params(path, "shenzhen", "services_tiers", day)
    assert tiers["tiers"] == 5 and tiers["tier_4"] == {"permit_months_min": 1}
    assert tiers["tier_1"] == variants_of("services_tiers")["shenzhen_2016"].at(day)["tier_1"]
    levers = _params(path, "shenzhen", "spatial_levers", day)
    assert levers["longgang_housing"]["districts"] == [440307]
    assert set(variants_of("spatial_levers")["shenzhen_2016"].params) < set(levers)


def test_override_of_an_own_variant_and_a_chain_inside_the_file(tmp_path: Path) -> None:
    """A file's variant may extend another of the file's variants, and ``overrides:`` may name either."""
    path = _file(tmp_path, CHENGDU_ROUTE.replace("    swap:", """\
        chengdu_2018_master_young:
          extends: chengdu_2018_master
          params:
            take_up: {value: 0.2, assumption: "test"}
    overrides:
      talent_channel.chengdu_2018_master.route_master_any_age:
        value: {education_min: master, age_at_most: 50}
        start: 2020-01-01
        assumption: "test: an age limit from 2020"
    swap:""").replace("talent_channel: chengdu_2018_master\n", "talent_channel: chengdu_2018_master_young\n"))
    regime = load_regime_file(path)["chengdu"]
    at = {y: regime.snapshot(dt.date(y, 6, 1)).mechanisms["talent_channel"].params for y in (2019, 2020)}
    assert at[2019]["take_up"] == 0.2 and at[2019]["route_master_any_age"] == {"education_min": "master"}
    assert at[2020]["route_master_any_age"] == {"education_min": "master", "age_at_most": 50}


# -- overrides reach the variants that extend the overridden one --------------------------------------------------

def test_override_of_a_parent_reaches_the_variants_that_inherit_it(tmp_path: Path) -> None:
    """``talent_channel.shenzhen_2017`` extends ``shenzhen_2016`` and keeps its direct-approval routes: an override
    of ``shenzhen_2016.route_bachelor`` holds under both; ``shenzhen_2017`` sets ``route_points`` itself, so an
    override of ``shenzhen_2016.route_points`` stops at 2016; an override of the child wins over its parent's."""
    assert "route_bachelor" not in variants_of("talent_channel")["shenzhen_2017"].own
    assert "route_points" in variants_of("talent_channel")["shenzhen_2017"].own
    path = _file(tmp_path, """\
        name: sz_older_graduates
        derive_from: shenzhen
        overrides:
          talent_channel.shenzhen_2016.route_bachelor:
            value: {education_min: bachelor, full_time: true, age_below: 50, no_criminal: true}
            assumption: "test: the age limit raised to 50"
          talent_channel.shenzhen_2016.route_points:
            value: {score_min: 90, age_below: 45, insurance_months_min: {pension: 1}, no_criminal: true}
            assumption: "test: a lower line"
          talent_channel.shenzhen_2016.route_junior_college:
            value: {education_min: junior_college, full_time: true, age_below: 40, no_criminal: true}
            assumption: "test: parent's"
          talent_channel.shenzhen_2017.route_junior_college:
            value: {education_min: junior_college, full_time: true, age_below: 30, no_criminal: true}
            assumption: "test: child's own"
        """)
    regime = load_regime_file(path)["shenzhen"]
    historical = resolve(["historical"])["shenzhen"]
    at_2016 = regime.snapshot(dt.date(2016, 10, 1)).mechanisms["talent_channel"]
    at_2018 = regime.snapshot(dt.date(2018, 6, 1)).mechanisms["talent_channel"]
    assert (at_2016.variant, at_2018.variant) == ("shenzhen_2016", "shenzhen_2017")
    assert at_2016.params["route_bachelor"]["age_below"] == 50
    assert at_2018.params["route_bachelor"]["age_below"] == 50
    assert at_2018.refs["route_bachelor"] == "assumption: test: the age limit raised to 50"
    assert at_2016.params["route_points"]["score_min"] == 90
    assert at_2018.params["route_points"] == historical.snapshot(dt.date(2018, 6, 1)).mechanisms[
        "talent_channel"].params["route_points"]
    assert at_2016.params["route_junior_college"]["age_below"] == 40
    assert at_2018.params["route_junior_college"]["age_below"] == 30
    assert historical.snapshot(dt.date(2018, 6, 1)).mechanisms["talent_channel"].params[
        "route_bachelor"]["age_below"] == 45


def test_run_overrides_reach_inheriting_variants_too() -> None:
    """A run's ``overrides:`` (``with_overrides``) derive a regime that uses only the child variant as well."""
    entry = (DatedValue({"education_min": "bachelor", "age_below": 50}, assumption="test"),)
    regimes = with_overrides(resolve(["historical"]), {"talent_channel.shenzhen_2016.route_bachelor": entry})
    assert regimes["shenzhen"].snapshot(dt.date(2019, 1, 1)).mechanisms["talent_channel"].params[
        "route_bachelor"]["age_below"] == 50
    assert regimes["guangzhou"] is resolve(["historical"])["guangzhou"]


# -- another city's levers ----------------------------------------------------------------------------------------

def test_shipped_example_borrows_shenzhen_levers_for_guangzhou_districts() -> None:
    """The example runs Shenzhen's 2016 levers in Guangzhou from 2017: every active lever names Guangzhou
    districts only, 前海 is off, and the sizes are Shenzhen's where the file does not change them."""
    regime = resolve(["guangzhou_renewal_like_shenzhen"])["guangzhou"]
    for year in (2017, 2019, 2020):
        spatial = regime.snapshot(dt.date(year, 6, 1)).mechanisms["spatial_levers"]
        assert spatial.variant == "guangzhou_like_shenzhen_2016"
        levers = spatial.as_spatial.levers(spatial.params)
        assert levers and all(d // 100 == GUANGZHOU for lever in levers
                              for d in (*lever.districts, *lever.to_districts))
        assert spatial.params["qianhai"] is None
    assert regime.snapshot(dt.date(2016, 6, 1)).mechanisms["spatial_levers"].variant == "guangzhou_2011"
    shenzhen = variants_of("spatial_levers")["shenzhen_2016"].at(dt.date(2017, 6, 1))
    spatial = regime.snapshot(dt.date(2017, 6, 1)).mechanisms["spatial_levers"].params
    assert spatial["urban_renewal_sez"]["annual_change"] == shenzhen["urban_renewal_sez"]["annual_change"]
    assert resolve(["historical"])["guangzhou"].snapshot(dt.date(2019, 6, 1)).mechanisms[
        "spatial_levers"].variant == "guangzhou_2018"


def _example_without(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    return _file(tmp_path, text.replace(old, new, 1), "borrowed.yaml")


def test_a_borrowed_lever_left_on_the_other_city_is_refused(tmp_path: Path) -> None:
    """Without ``qianhai: null`` the inherited 前海 lever names Nanshan: refused at load, naming the lever, the
    counterfactual file and the variant's line, and saying where the lever comes from."""
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index("        qianhai:")
    path = _file(tmp_path, text[:start] + text[text.index("        district_population_plans:"):], "borrowed.yaml")
    with pytest.raises(InputError) as err:
        load_regime_file(path)
    assert err.value.file == str(path)
    assert err.value.line == text.splitlines().index("    guangzhou_like_shenzhen_2016:") + 1
    assert err.value.field == "spatial_levers.guangzhou_like_shenzhen_2016.qianhai"
    assert "districts outside guangzhou: [440305]" in err.value.message
    assert "inherited from spatial_levers.shenzhen_2016" in err.value.message


def test_a_redefined_lever_naming_the_other_city_is_refused(tmp_path: Path) -> None:
    """A lever of the file's own variant aimed at Shenzhen districts: refused at its line."""
    path = _example_without(tmp_path, "districts: [440111, 440112, 440113]", "districts: [440306, 440307]")
    line = path.read_text(encoding="utf-8").splitlines().index("        urban_renewal_outer:") + 1
    with pytest.raises(InputError) as err:
        load_regime_file(path)
    assert (err.value.file, err.value.line) == (str(path), line)
    assert err.value.field == "spatial_levers.guangzhou_like_shenzhen_2016.urban_renewal_outer"
    assert "districts outside guangzhou: [440306, 440307]" in err.value.message


# -- refusals: one line naming file, line and field ---------------------------------------------------------------

_HEAD = "name: x\nderive_from: chengdu\nvariants:\n"


@pytest.mark.parametrize("text,line,field,message", [
    # a key a mechanism has no family for: talent routes are route_*, tiers tier_*, points indicators are named
    (_HEAD + "  talent_channel:\n    v:\n      extends: chengdu_2018\n      params:\n"
     "        rout_master: {value: {education_min: master}, assumption: t}\n",
     8, "talent_channel.v.rout_master", "unknown parameter"),
    (_HEAD + "  services_tiers:\n    v:\n      extends: chengdu_2018\n      params:\n"
     "        teir_3: {value: {permit_months_min: 1}, assumption: t}\n",
     8, "services_tiers.v.teir_3", "unknown parameter"),
    (_HEAD + "  points:\n    v:\n      extends: chengdu_2018\n      params:\n"
     "        good_looks: {value: 5, assumption: t}\n",
     8, "points.v.good_looks", "unknown parameter"),
    (_HEAD + "  talent_channel:\n    v:\n      extends: atlantis_2016\n",
     6, "variants.talent_channel.v.extends", "extends an unknown variant 'atlantis_2016'"),
    (_HEAD + "  talent_channel:\n    chengdu_2018:\n      params: {}\n",
     5, "variants.talent_channel.chengdu_2018", "already has a variant 'chengdu_2018'"),
    (_HEAD + "  no_such_mechanism:\n    v: {}\n", 4, "variants.no_such_mechanism", "unknown mechanism"),
    (_HEAD + "  talent_channel:\n    v:\n      extends: chengdu_2018\n      colour: blue\n",
     7, "variants.talent_channel.v.colour", "unknown key"),
    (_HEAD + "  talent_channel:\n    v:\n      extends: w\n    w:\n      extends: v\n",
     5, "variants.talent_channel.v.extends", "cycle"),
    (_HEAD + "  talent_channel:\n    v:\n      extends: chengdu_2018\n      params:\n"
     "        route_master: {value: {education_min: master}}\n",
     8, "variants.talent_channel.v.params.route_master", "needs ref"),
    (_HEAD + "  talent_channel:\n    v:\n      extends: chengdu_2018\nswap:\n  talent_channel: w\n",
     8, "swap.talent_channel", "unknown variant 'w'"),
    (_HEAD + "  talent_channel:\n    v:\n      extends: chengdu_2018\noverrides:\n"
     "  talent_channel.v.route_nobody: {value: {education_min: master}, assumption: t}\n",
     8, "overrides.talent_channel.v.route_nobody", "unknown parameter"),
])
def test_bad_variants_name_file_line_and_field(tmp_path: Path, text: str, line: int, field: str,
                                               message: str) -> None:
    """Each refusal of a counterfactual's variants names the file, the line and the field."""
    path = _file(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_regime_file(path)
    assert (err.value.file, err.value.line, err.value.field) == (str(path), line, field)
    assert message in err.value.message


def test_command_line_refuses_in_one_line_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``hukou validate FILE``: a borrowed lever still on Shenzhen's districts is exit code 2 and one line."""
    path = _example_without(tmp_path, "districts: [440111, 440112, 440113]", "districts: [440306]")
    code = main(["validate", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith(f"hukou: error: {path}:")
    assert "spatial_levers.guangzhou_like_shenzhen_2016.urban_renewal_outer: districts outside guangzhou" in err
    assert main(["validate", str(EXAMPLE)]) == 0


def test_a_counterfactual_derived_from_one_with_variants_keeps_them(tmp_path: Path) -> None:
    """``derive_from`` a counterfactual with variants of its own: they stay in force and can be overridden."""
    path = _file(tmp_path, """\
        name: less_clearance
        derive_from: guangzhou_renewal_like_shenzhen
        overrides:
          spatial_levers.guangzhou_like_shenzhen_2016.baishizhou_clearance:
            value: null
            assumption: "test: no clearance"
        """)
    regime = load_regime_file(path)["guangzhou"]
    spatial = regime.snapshot(dt.date(2019, 6, 1)).mechanisms["spatial_levers"]
    assert spatial.variant == "guangzhou_like_shenzhen_2016"
    assert spatial.params["baishizhou_clearance"] is None
    assert spatial.params["urban_renewal_sez"]["districts"] == [440103, 440104, 440105, 440106]
