"""The points calculator (policies/calculator.py) and its commands (hukou_cli/policy_commands.py)."""

from __future__ import annotations

import datetime as dt
import json
import types
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from policies import catalogue
from policies.calculator import calculate, calculate_file, load_profile, regime_for
from policies.decision import Decision, Points, decide
from policies.errors import InputError
from policies.mechanisms import MECHANISMS, variants_of
from policies.regime import ActiveMechanism, PolicySnapshot
from policies.schema import Persons, Profile

REGIME_YAML = """\
name: points_test
title: Guangzhou points only (test regime)
cities: [guangzhou]
documents: ["2015年广州市积分制入户申办指南", "穗来穗〔2016〕24号"]
versions:
  - label: 2011–2015 table
    start: 2011-01-01
    end: 2016-10-31
    ref: 穗来穗〔2014〕19号
    mechanisms: {points: guangzhou_2011}
  - label: 2016 table
    start: 2016-11-01
    ref: 穗来穗〔2016〕24号
    mechanisms: {points: guangzhou_2016}
"""

PROFILE_YAML = """\
age: 30
education: bachelor
skill_level: grade3
housing: {type: rented, district: 440118}
tax_paid_3y: 120000
blood_donations_by_year: {2014: 1}
"""


@pytest.fixture()
def regime_file(tmp_path: Path) -> Path:
    path = tmp_path / "points_test.yaml"
    path.write_text(REGIME_YAML, encoding="utf-8")
    return path


@pytest.fixture()
def profile_file(tmp_path: Path) -> Path:
    path = tmp_path / "me.yaml"
    path.write_text(PROFILE_YAML, encoding="utf-8")
    return path


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the calculator ---------------------------------------------------------------------------------


def test_calculate_scores_with_citations(regime_file: Path, profile_file: Path) -> None:
    """2015年广州市积分制入户申办指南 分值表: 60 + 40 + 20 + 2 = 122, each part citing its parameter."""
    result = calculate_file(profile_file, str(regime_file), "2015-06-01")
    assert (result.regime, result.city) == ("points_test", "guangzhou")
    assert result.points_variant == "guangzhou_2011"
    assert result.total == 122
    assert result.threshold == 60
    assert result.reaches_threshold
    rows = {r.indicator: r for r in result.breakdown}
    assert rows["education"].points == 60 and "文化程度" in rows["education"].ref
    assert rows["technical_ability"].points == 40
    assert rows["tax"].points == 20
    assert rows["blood_donation"].points == 2
    assert sum(r.points for r in result.breakdown) == result.total
    assert result.channels == ()


def test_calculate_follows_the_date(regime_file: Path, profile_file: Path) -> None:
    """From 2016-11-01 the 2016 variant applies: 增城's assumed 职住区域 bonus, cited as assumption."""
    result = calculate_file(profile_file, str(regime_file), dt.date(2017, 3, 1))
    rows = {r.indicator: r for r in result.breakdown}
    assert result.points_variant == "guangzhou_2016"
    assert rows["district_bonus"].points == 5
    assert rows["district_bonus"].ref.startswith("assumption:")
    assert rows["blood_donation"].points == 2  # 2014 is inside 2012–2016
    assert result.total == 60 + 40 + 20 + 2 + 5


def _fake_channel(name: str, label: str, kind: str, rule: object) -> ActiveMechanism:
    module = types.SimpleNamespace(ROLE="channel", CHANNEL=label, KIND=kind, eligible=rule)
    return ActiveMechanism(name, module, "test", {"min_points": 100}, {"min_points": "test"})


def _reaches(persons: Persons, params: dict, points: Points | None) -> Decision:
    total = points.total if points is not None else np.zeros(len(persons))
    return decide({"below the points line": total >= params["min_points"]}, len(persons))


def _young(persons: Persons, params: dict, points: Points | None) -> Decision:
    return decide({"age 35 or over": persons.age < 35}, len(persons))


class _StubRegime:
    """A regime whose snapshot has the real Shenzhen 2017 points table and two stand-in channel modules."""

    name, city = "stub", "shenzhen"

    def snapshot(self, date: dt.date) -> PolicySnapshot:
        variant = variants_of("points")["shenzhen_2017"]
        params = variant.at(date)
        refs = {p: e.provenance for p in params if (e := variant.entry(p, date)) is not None}
        mechanisms = {
            "points": ActiveMechanism("points", MECHANISMS["points"], "shenzhen_2017", params, refs),
            "talent_stub": _fake_channel("talent_stub", "talent", "direct", _young),
            "points_stub": _fake_channel("points_stub", "points", "quota", _reaches),
            "family_stub": _fake_channel("family_stub", "other", "direct", _young),
        }
        return PolicySnapshot("shenzhen", date, "stub", "stub version", mechanisms)


def test_channels_are_generic() -> None:
    """Any channel mechanism of the snapshot is asked, with the regime's points; 'other' ones go by name."""
    profile = Profile(age=36, education="junior_college", professional_title="intermediate")
    result = calculate(profile, _StubRegime(), "2017-06-01")  # type: ignore[arg-type]
    assert result.total == 100  # 大专+中级 100, age 36 -> 0
    channels = {c.channel: c for c in result.channels}
    assert set(channels) == {"talent", "points", "family_stub"}
    assert not channels["talent"].eligible and channels["talent"].reason == "age 35 or over"
    assert channels["points"].eligible and channels["points"].reason == "eligible"
    assert channels["points"].kind == "quota" and channels["points"].mechanism == "points_stub"
    doc = result.to_json()
    assert set(doc) >= {"total", "threshold", "breakdown", "channels"}
    assert doc["channels"][0] == {"channel": "talent", "eligible": False, "reason": "age 35 or over",
                                  "mechanism": "talent_stub", "kind": "direct", "category": "talent"}


def test_regime_without_points_or_channels() -> None:
    """The national baseline has no points mechanism: total 0, no line; the city comes from the home."""
    profile = Profile(age=30, education="bachelor", housing={"district": 440306})
    regime = regime_for("national_baseline", profile=profile)
    assert regime.city == "shenzhen"
    result = calculate(profile, regime, "2018-01-01")
    assert (result.total, result.threshold, result.breakdown, result.channels) == (0.0, None, (), ())
    assert result.reaches_threshold is None


def test_city_must_be_told_when_ambiguous() -> None:
    """A regime covering several cities needs --city or a home district in one of them."""
    with pytest.raises(InputError, match="--city"):
        regime_for("national_baseline", profile=Profile(age=30, education="bachelor"))
    assert regime_for("national_baseline", city="chengdu").city == "chengdu"
    with pytest.raises(InputError, match="no rules for 'beijing'"):
        regime_for("national_baseline", city="beijing")


def test_unknown_regime_lists_available() -> None:
    """catalogue.resolve names the available regimes."""
    with pytest.raises(InputError, match="available:.*national_baseline"):
        regime_for("atlantis")


@pytest.mark.parametrize(("text", "line", "field", "message"), [
    ("age: 30\neducation: bachelor\nfavourite_colour: red\n", 3, "favourite_colour", "unknown key"),
    ("age: 30\neducation: bachelor\nsocial_insurance_months:\n  medical: 12\n  pension: -3\n", 5,
     "social_insurance_months.pension", "greater than or equal to 0"),
    ("age: 30\neducation: phd\n", 2, "education", "Input should be"),
    ("education: bachelor\n", 1, "age", "Field required"),
    ("age: 30\neducation: bachelor\nhousing:\n  type: rented\n  owner: me\n", 5, "housing.owner",
     "unknown key"),
    ("age: 30\neducation: bachelor\nblood_donations_by_year: {2014: -1}\n", 3, "blood_donations_by_year",
     "negative"),
    ("age: [30\n", 2, None, "not valid YAML"),  # the parser notices at the end of the stream
])
def test_profile_errors_name_file_line_field(tmp_path: Path, text: str, line: int, field: str | None,
                                             message: str) -> None:
    """A bad profile is an InputError naming the file, the line and the dotted field."""
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_profile(path)
    err = info.value
    assert err.file == str(path)
    assert err.line == line
    assert err.field == field
    assert message in err.message


def test_bad_date_is_input_error(regime_file: Path, profile_file: Path) -> None:
    """--date must be YYYY-MM-DD."""
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        calculate_file(profile_file, str(regime_file), "2015/06/01")


# --- the commands -------------------------------------------------------------------------------------


def _tiny_app() -> typer.Typer:
    from hukou_cli.policy_commands import points, regimes

    app = typer.Typer(add_completion=False)
    app.command()(points)
    app.command()(regimes)
    return app


def _run(args: list[str]) -> tuple[int, str]:
    """Invoke like the root app: an InputError becomes exit code 2 and its one-line message."""
    result = CliRunner().invoke(_tiny_app(), args)
    if isinstance(result.exception, InputError):
        return 2, result.exception.one_line()
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_points_json(regime_file: Path, profile_file: Path) -> None:
    """--json prints the document of docs/contracts.md §6."""
    code, out = _run(["points", "--regime", str(regime_file), "--date", "2015-06-01", "--profile",
                      str(profile_file), "--json"])
    assert code == 0, out
    doc = json.loads(out)
    assert doc["total"] == 122 and doc["threshold"] == 60
    assert {"indicator", "points", "ref"} <= set(doc["breakdown"][0])
    assert doc["channels"] == []


def test_points_table(regime_file: Path, profile_file: Path) -> None:
    """Without --json, a table of the breakdown and the channels."""
    code, out = _run(["points", "--regime", str(regime_file), "--date", "2015-06-01", "--profile",
                      str(profile_file)])
    assert code == 0, out
    assert "education" in out and "122" in out and "reaches the line" in out
    assert "no settlement channel" in out


def test_points_bad_profile_is_one_line_exit_2(tmp_path: Path, regime_file: Path) -> None:
    """A bad profile: exit code 2 and one line naming file:line: field."""
    bad = _write(tmp_path, "age: 30\neducation: bachelor\nsocial_insurance_months:\n  pension: -1\n")
    code, message = _run(["points", "--regime", str(regime_file), "--date", "2015-06-01",
                          "--profile", str(bad)])
    assert code == 2
    assert "\n" not in message
    assert message.startswith(f"{bad}:4: social_insurance_months.pension: ")


def test_points_unknown_regime_lists_available(profile_file: Path) -> None:
    """An unknown regime name: exit 2, the message lists the available ones."""
    code, message = _run(["points", "--regime", "atlantis", "--date", "2015-06-01", "--profile",
                          str(profile_file)])
    assert code == 2 and "available:" in message


def test_regimes_lists_every_name(monkeypatch: pytest.MonkeyPatch, regime_file: Path) -> None:
    """`regimes` prints each name of catalogue.available() with its city, title, documents and versions."""
    listed = {"points_test": catalogue.load_regime_file(regime_file),
              "national_baseline": catalogue.resolve(["national_baseline"])}
    monkeypatch.setattr(catalogue, "available", lambda: listed)
    code, out = _run(["regimes"])
    assert code == 0, out
    for name in listed:
        assert name in out
    assert "guangzhou" in out and "Guangzhou points only" in out and "2011–2015 table" in out
    assert max(len(line) for line in out.splitlines()) <= 80  # the terminal's width (80 here), not 200 columns
    monkeypatch.setenv("COLUMNS", "240")  # a wide terminal: the documents' names unbroken
    code, out = _run(["regimes", "--documents"])
    assert code == 0 and "穗来穗〔2016〕24号" in out


def test_root_app_converts_input_errors(tmp_path: Path, regime_file: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Through the real root app (hukou_cli.main.main), a bad profile exits 2 with one line on stderr."""
    from hukou_cli.main import main

    bad = _write(tmp_path, "age: 30\neducation: bachelor\ncolour: red\n")
    code = main(["points", "--regime", str(regime_file), "--date", "2015-06-01", "--profile", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{bad}:3: colour: unknown key" in err.replace("\n", "")


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "profiles"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_shipped_example_profiles_score_under_their_city(path: Path) -> None:
    """The README's `hukou points` example names a file that did not exist; the examples now ship."""
    from policies.calculator import calculate_file

    city = path.stem.rsplit("_", 1)[-1]
    result = calculate_file(path, city, "2018-06-01")
    assert result.city == city and result.total > 0 and result.channels


def test_the_calculator_says_which_defaults_it_assumed_and_refuses_dates_before_its_rules(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hukou_cli.main import main

    minimal = _write(tmp_path, "age: 30\neducation: bachelor\nemployed: true\n")
    assert main(["points", "--regime", "shenzhen", "--date", "2018-06-01", "--profile", str(minimal), "--json"]) == 0
    assumed = json.loads(capsys.readouterr().out)["assumed_defaults"]
    assert assumed["full_time_degree"] is False and assumed["months_in_city"] == 0
    assert not {"age", "education", "employed"} & set(assumed)
    assert main(["points", "--regime", "shenzhen", "--date", "1990-01-01", "--profile", str(minimal)]) == 2
    assert "no documented rule applies on 1990-01-01" in capsys.readouterr().err


# The first-use review's profile: 30, full-time bachelor, employed, 36 months of every insurance, renting in Bao'an.
REVIEW_PROFILE = {"age": 30, "education": "bachelor", "full_time_degree": True, "employed": True,
                  "social_insurance_months": {k: 36 for k in ("pension", "medical", "unemployment", "work_injury",
                                                              "maternity")},
                  "residence_permit_months": 36, "months_in_city": 36, "work_district": 440306,
                  "housing": {"type": "rented", "district": 440306}}


def _review(**changes: object) -> object:
    from policies.calculator import calculate, regime_for
    from policies.schema import Profile

    doc = {**REVIEW_PROFILE, **changes}
    return calculate(Profile.model_validate(doc), regime_for("shenzhen"), "2025-06-01")


def test_a_registered_lease_is_a_stable_home_and_a_closed_route_is_said_beside_the_line() -> None:
    """First-use review: every renter read "no stable home", and 106 beside a line of 100 read as passing while the
    points route was closed. A registered lease opens the route (深府〔2016〕59号: rental allowed) and scores no
    points of its own (no city's points table scores it)."""
    renter = _review()
    leased = _review(housing={"type": "rented", "district": 440306, "registered_lease": True})
    assert renter.total == leased.total and renter.reaches_threshold
    assert renter.points_route_open is False and renter.points_route_reason == "no stable home"
    assert renter.line_status == "reached_route_closed" and "points" not in renter.open_channels
    assert leased.points_route_open and leased.line_status == "reached" and "points" in leased.open_channels
    from hukou_cli.policy_commands import headline

    assert "reaches the line but the points route is closed: no stable home" in headline(renter)
    assert renter.to_json()["line_status"] == "reached_route_closed"


def test_family_entry_is_closed_to_a_person_without_a_family_member_with_the_city_s_hukou() -> None:
    """First-use review: "family_channel: yes" for a single person (in the model the channel is a yearly chance
    among long-term residents, who have no family links there)."""
    from policies.calculator import NO_FAMILY_MEMBER

    single = {c.mechanism: c for c in _review().channels}["family_channel"]
    married = {c.mechanism: c for c in _review(family_hukou_member=True).channels}["family_channel"]
    assert not single.eligible and single.reason == NO_FAMILY_MEMBER
    assert married.eligible and married.kind == "hazard"


def test_indicators_scored_on_assumptions_are_marked_beside_their_points() -> None:
    """Much of Guangzhou's and Chengdu's scoring is guessed: each row says so, and so does the headline."""
    from policies.calculator import calculate, regime_for
    from policies.schema import Profile

    profile = Profile.model_validate({**REVIEW_PROFILE, "work_district": 440106,
                                      "housing": {"type": "rented", "district": 440106}})
    result = calculate(profile, regime_for("guangzhou"), "2025-06-01")
    assumed = [r for r in result.breakdown if r.assumed]
    assert assumed and all(r.ref.startswith("assumption") for r in assumed)
    assert result.assumed_indicators == tuple(r.indicator for r in assumed)
    assert not any(r.assumed for r in _review().breakdown if r.ref.startswith("深"))
    from hukou_cli.policy_commands import headline

    assert f"{len(assumed)} of {len(result.breakdown)} indicators scored on assumptions" in headline(result)
    assert all(set(row) >= {"assumed"} for row in result.to_json()["breakdown"])
