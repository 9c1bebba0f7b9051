"""Regimes: complete at every date, counterfactuals derived without touching their baselines, strict files."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest

from policies import catalogue
from policies.catalogue import available, load_regime_file, resolve
from policies.errors import InputError
from policies.mechanisms import MECHANISMS
from policies.parameters import DatedValue
from policies.regime import Regime

DATA = Path(__file__).parent / "data"
EXTRA_DATES = (dt.date(2010, 11, 1), dt.date(2035, 12, 31))
ALL = [(name, city, regime) for name, regimes in available().items() for city, regime in regimes.items()]


@pytest.mark.parametrize("name,city,regime", ALL, ids=[f"{n}-{c}" for n, c, _ in ALL])
def test_complete_at_every_change_date(name: str, city: str, regime: Regime) -> None:
    """Every regime resolves every parameter its mechanisms need at each date a rule starts or ends."""
    for date in (*regime.change_dates, *EXTRA_DATES):
        assert regime.missing_parameters(date) == [], f"{name}/{city} on {date}"


@pytest.mark.parametrize("name,city,regime", ALL, ids=[f"{n}-{c}" for n, c, _ in ALL])
def test_one_mechanism_per_single_role(name: str, city: str, regime: Regime) -> None:
    """At most one permit, points and services mechanism at any date (the model asks for ``one``)."""
    for date in (*regime.change_dates, *EXTRA_DATES):
        snap = regime.snapshot(date)
        for role in ("permit", "points", "services"):
            assert len(snap.by_role(role)) <= 1, f"{name}/{city} {role} on {date}"


def test_historical_documents_in_force() -> None:
    """The historical timelines switch on the documents' dates."""
    regimes = resolve(["historical"])
    sz, gz, cd = regimes["shenzhen"], regimes["guangzhou"], regimes["chengdu"]
    assert sz.snapshot(dt.date(2016, 8, 31)).mechanisms["residence_permit"].variant == "shenzhen_2005"
    assert sz.snapshot(dt.date(2016, 9, 1)).mechanisms["residence_permit"].variant == "shenzhen_2016"
    assert sz.snapshot(dt.date(2016, 12, 31)).mechanisms["points"].variant == "shenzhen_2015"
    assert sz.snapshot(dt.date(2017, 1, 1)).mechanisms["points"].variant == "shenzhen_2017"
    assert "residence_insurance_channel" not in sz.snapshot(dt.date(2016, 8, 31)).mechanisms
    assert gz.snapshot(dt.date(2015, 6, 1)).mechanisms["points_channel"].params["quota"] == 4500
    # 穗府〔2016〕3号 was issued on 2016-02-29; its points rules (穗府规〔2016〕6号) date from 2016-10-26 (the
    # version starts on the first of that month, where a model step starts)
    assert "population_control" not in gz.snapshot(dt.date(2016, 2, 28)).mechanisms
    assert "population_control" in gz.snapshot(dt.date(2016, 2, 29)).mechanisms
    assert gz.snapshot(dt.date(2016, 6, 1)).mechanisms["points"].variant == "guangzhou_2011"
    assert "points_channel" not in gz.snapshot(dt.date(2016, 6, 1)).mechanisms
    assert gz.snapshot(dt.date(2016, 10, 1)).mechanisms["points"].variant == "guangzhou_2016"
    assert gz.snapshot(dt.date(2016, 10, 1)).mechanisms["points_channel"].variant == "guangzhou_2016"
    assert gz.snapshot(dt.date(2018, 6, 1)).mechanisms["talent_channel"].variant == "guangzhou_2018"
    assert "points_channel" not in cd.snapshot(dt.date(2017, 12, 31)).mechanisms
    assert cd.snapshot(dt.date(2018, 1, 1)).mechanisms["points_channel"].variant == "chengdu_2018"


def test_every_mechanism_is_used_somewhere() -> None:
    """Each registered mechanism appears in some shipped regime."""
    used = {m for _, _, r in ALL for v in r.versions for m in v.mechanisms}
    assert set(MECHANISMS) <= used


def test_counterfactuals_change_what_they_say() -> None:
    """Each shipped counterfactual differs from its baseline where and when it says."""
    hist = resolve(["historical"])
    d = dt.date(2019, 6, 1)
    opened = available()["open_registration"]
    for city in ("shenzhen", "guangzhou", "chengdu"):
        mechs = opened[city].snapshot(d).mechanisms
        assert mechs["open_channel"].variant == "open_registration"
        assert "points_channel" not in mechs and "residence_insurance_channel" not in mechs
    assert opened["guangzhou"].snapshot(dt.date(2015, 6, 1)).mechanisms == \
        hist["guangzhou"].snapshot(dt.date(2015, 6, 1)).mechanisms
    strict = available()["strict_control"]["shenzhen"].snapshot(d).mechanisms
    assert strict["residence_permit"].variant == "shenzhen_2005"
    assert "residence_insurance_channel" not in strict
    talent = available()["talent_only"]
    assert [m.name for m in talent["guangzhou"].snapshot(d).by_role("channel")] == ["talent_channel"]
    no_bonus = available()["points_without_district_bonus"]["chengdu"].snapshot(d).mechanisms["points"]
    assert no_bonus.params["district_bonus"] == {"by_adcode": {}}
    historical_bonus = hist["chengdu"].snapshot(d).mechanisms["points"].params["district_bonus"]
    assert historical_bonus["by_adcode"][510121] == 20
    gz_bonus = available()["guangzhou_chengdu_bonus"]["guangzhou"]
    assert gz_bonus.snapshot(d).mechanisms["points"].params["district_bonus"]["by_adcode"][440115] == 20
    assert gz_bonus.snapshot(dt.date(2017, 6, 1)).mechanisms["points"].params["district_bonus"][
        "by_adcode"][440111] == 10


def test_derive_never_mutates_the_baseline() -> None:
    """A counterfactual is a new regime: the baseline's versions, overrides and snapshots are unchanged."""
    base = resolve(["historical"])["guangzhou"]
    before_versions = copy.deepcopy(base.versions)
    before_overrides = dict(base.overrides)
    before = base.snapshot(dt.date(2017, 6, 1))
    derived = base.derive("what_if", title="what if", start=dt.date(2016, 6, 1),
                          swap={"points_channel": None, "open_channel": "open_registration"},
                          overrides={"talent_channel.guangzhou_2016.take_up":
                                     (DatedValue(0.9, assumption="what if"),)})
    assert base.versions == before_versions and dict(base.overrides) == before_overrides
    after = base.snapshot(dt.date(2017, 6, 1))
    assert after.mechanisms.keys() == before.mechanisms.keys()
    assert after.mechanisms["talent_channel"].params == before.mechanisms["talent_channel"].params
    got = derived.snapshot(dt.date(2017, 6, 1)).mechanisms
    assert "points_channel" not in got and got["talent_channel"].params["take_up"] == 0.9
    assert derived.base == "guangzhou"
    # the shared variant object is unchanged too
    assert resolve(["historical"])["guangzhou"].snapshot(dt.date(2017, 6, 1)).mechanisms[
        "talent_channel"].params["take_up"] == 0.3


def test_user_counterfactual_file() -> None:
    """The example override file loads and overrides, and leaves the shipped regime alone."""
    path = DATA / "my_counterfactual.yaml"
    regimes = resolve([str(path)])
    gz = regimes["guangzhou"]
    assert gz.name == "my_guangzhou_reform"
    assert gz.snapshot(dt.date(2016, 11, 1)).mechanisms["points_channel"].params["quota"] == 9000
    assert gz.snapshot(dt.date(2020, 11, 1)).mechanisms["points_channel"].params["quota"] == 20000
    assert gz.snapshot(dt.date(2015, 9, 1)).mechanisms["points_channel"].params["quota"] == 4500
    assert resolve(["historical"])["guangzhou"].snapshot(dt.date(2016, 11, 1)).mechanisms[
        "points_channel"].params["quota"] == 4500
    assert regimes["shenzhen"].name == "shenzhen"
    refs = gz.snapshot(dt.date(2016, 11, 1)).mechanisms["points_channel"].refs
    assert refs["quota"].startswith("assumption:")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text,line,field,message", [
    ("name: x\nderive_from: guangzhou\noverrides:\n"
     "  points_channel.guangzhou_2016.nonsense: {value: 1, ref: r}\n",
     4, "overrides.points_channel.guangzhou_2016.nonsense", "unknown parameter"),
    ("name: x\nderive_from: guangzhou\noverrides:\n  points_channel.guangzhou_2016.quota: {value: 1}\n",
     4, "overrides.points_channel.guangzhou_2016.quota", "needs ref"),
    ("name: x\nderive_from: guangzhou\nswap:\n  talent_channel: no_such_variant\n",
     4, "swap.talent_channel", "unknown variant"),
    ("name: x\nderive_from: guangzhou\nswap:\n  no_such_mechanism: x\n",
     4, "swap.no_such_mechanism", "unknown mechanism"),
    ("name: x\nderive_from: guangzhou\ncolour: blue\n", 3, "colour", "unknown key"),
    ("name: x\ncity: guangzhou\nversions:\n  - label: a\n    mechanisms:\n"
     "      talent_channel: guangzhou_2016\n"
     "      tax_channel: atlantis\n", 7, "versions[0].mechanisms.tax_channel", "unknown variant"),
    ("name: x\nderive_from: nowhere\n", 2, "derive_from", "unknown regime"),
    # issue 12 (review V5): override values were not checked; a negative quota ran to exit 0, a text or NaN quota
    # crashed with a traceback years into the run
    ("name: x\nderive_from: guangzhou\noverrides:\n  points_channel.guangzhou_2016.quota: {value: -8000, ref: r}\n",
     4, "overrides.points_channel.guangzhou_2016.quota", "cannot be negative"),
    ("name: x\nderive_from: guangzhou\noverrides:\n  points_channel.guangzhou_2016.quota: {value: lots, ref: r}\n",
     4, "overrides.points_channel.guangzhou_2016.quota", "a number is needed"),
    ("name: x\nderive_from: guangzhou\noverrides:\n  points_channel.guangzhou_2016.quota: {value: .nan, ref: r}\n",
     4, "overrides.points_channel.guangzhou_2016.quota", "NaN"),
    ("name: x\nderive_from: guangzhou\noverrides:\n  points_channel.guangzhou_2016.quota: {value: .inf, ref: r}\n",
     4, "overrides.points_channel.guangzhou_2016.quota", "infinity"),
    # issue 12 (review Y): an impossible date was a traceback from the YAML loader
    ("name: x\nderive_from: guangzhou\noverrides:\n"
     "  points_channel.guangzhou_2016.quota: {value: 100, ref: r, start: 2018-13-01}\n",
     4, "overrides.points_channel.guangzhou_2016.quota", "date"),
])
def test_bad_regime_files_name_file_line_and_field(tmp_path: Path, text: str, line: int, field: str,
                                                   message: str) -> None:
    """A bad regime or override file is an InputError naming the file, the line and the field."""
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_regime_file(path)
    assert err.value.file == str(path)
    assert err.value.line == line
    assert err.value.field == field
    assert message in err.value.message


def test_regime_names_are_listed() -> None:
    """The catalogue lists the three cities, the baseline and the six counterfactuals."""
    assert {"historical", "shenzhen", "guangzhou", "chengdu", "national_baseline", "open_registration",
            "strict_control", "talent_only", "points_without_district_bonus",
            "guangzhou_chengdu_bonus", "guangzhou_renewal_like_shenzhen"} <= set(available())
    assert catalogue.REGIME_DIR.is_dir()
