"""Each regime's mechanism changes outcomes the way its text intends (model-level, small runs).

Quotas are raised by run overrides, the same in both arms of a comparison, so that a few thousand agents give a
clear signal; the comparison is always between a regime and the same regime without the mechanism.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.config import RunConfig
from sim.model import HukouModel


def _run(regimes: tuple[str, ...], overrides: dict, end: int, seed: int = 4, scale: float = 2000) -> HukouModel:
    return HukouModel(RunConfig(scale=scale, end=end, seed=seed, regimes=regimes, overrides=overrides)).run()


def _suburban_share_of_points_settlers(model: HukouModel) -> float:
    d = model.district_year()
    d = d[(d["city"] == "chengdu") & (~d["census_day"]) & (d["year"] >= 2018)]
    suburban = d.loc[d["zone"] != "core", "settled_points"].sum()
    return float(suburban / d["settled_points"].sum())


def test_chengdu_district_bonus_raises_the_suburban_share_of_points_settlers() -> None:
    """成府发〔2017〕23号 三（一）3, 三（二）3: region-differentiated points tilt points entry to suburban new towns."""
    overrides = {"points_channel.chengdu_2018.quota": 400_000}
    seeds = range(1, 7)
    with_bonus = [_suburban_share_of_points_settlers(_run(("historical",), overrides, 2021, s)) for s in seeds]
    without = [_suburban_share_of_points_settlers(_run(("points_without_district_bonus",), overrides, 2021, s))
               for s in seeds]
    # paired by seed (common random numbers); about 0.056 measured, with a standard error near 0.02
    assert np.mean(np.subtract(with_bonus, without)) > 0.02, (with_bonus, without)


def _long_term_low_skill_settlers(model: HukouModel) -> int:
    """Shenzhen settlers since 2016-09 without education beyond junior high (the tier the talent route skips)."""
    pop = model.population
    since = next(i for i, d in enumerate(model.clock.boundaries) if d.isoformat() >= "2016-09-01")
    shenzhen = model.geography.city[np.maximum(pop["district"], 0)] == 0
    mask = (pop["settled"] >= 0) & (pop["settle_step"] >= since) & (pop["tier"] == 0) & shenzhen
    return int(mask.sum())


def test_shenzhen_2016_residence_insurance_channel_settles_long_term_low_skill_residents() -> None:
    """深府〔2016〕58号 （七）: 增辟居住社保迁户渠道 for long-term residents, against the 2005 rules kept in force."""
    overrides = {"residence_insurance_channel.shenzhen_2016.quota": 200_000}
    reform = _long_term_low_skill_settlers(_run(("historical",), overrides, 2019))
    strict = _long_term_low_skill_settlers(_run(("strict_control",), overrides, 2019))
    assert reform > strict + 20, (reform, strict)


def test_a_counterfactual_file_runs_from_the_command_line_regime_list(tmp_path: Path) -> None:
    path = tmp_path / "no_quota.yaml"
    path.write_text(
        "name: guangzhou_no_points\n"
        "title: Guangzhou without points entry from 2016\n"
        "derive_from: guangzhou\n"
        "from: 2016-01-01\n"
        "swap: {points_channel: null}\n")
    model = HukouModel(RunConfig(scale=4000, end=2017, regimes=(str(path),)))
    model.run()
    assert model.regimes["guangzhou"].name == "guangzhou_no_points"
    rounds = [r for r in model.round_log if r["city"] == "guangzhou"]
    assert rounds and max(r["year"] for r in rounds) == 2015


def _guangzhou_without_2018(tmp_path: Path, swap: str) -> str:
    path = tmp_path / "guangzhou_without_2018.yaml"
    path.write_text("name: guangzhou_without_2018\ntitle: Guangzhou keeps part of its 2016 rules after 2018\n"
                    f"derive_from: guangzhou\nfrom: 2018-01-01\nswap: {swap}\n")
    return str(path)


def test_guangzhou_2018_makes_talent_entry_the_main_channel(tmp_path: Path) -> None:
    """穗府〔2018〕14号 一: talent entry the main channel, points entry a supplement, against the 2016 rules kept.

    Talent entries rise (the revised routes admit more) and stay most of all settlements; points entry settles
    fewer. The talent *share* is not compared: since the 2018 points round fills its documented quota (10,000, against
    4,500 under the 2016 rules; audit row 53), the share rises only a little (0.637 → 0.650 measured, 3 seeds) while
    talent entries rise by about a quarter (213 k → 267 k over 2018–2021 at seed 1).
    """
    kept_2016 = _guangzhou_without_2018(
        tmp_path, "{points: guangzhou_2016, talent_channel: guangzhou_2016, points_channel: guangzhou_2016}")

    def settled(regimes: tuple[str, ...]) -> np.ndarray:
        """Talent, points and all settlements 2018–2021, one row per seed."""
        rows = []
        for seed in (1, 2, 3):
            # 500 persons per agent: at 2,000 the 2016 points round admits a handful of agents
            c = _run(regimes, {}, 2021, seed, scale=500).city_year()
            c = c[(c["city"] == "guangzhou") & (~c["census_day"]) & (c["year"] >= 2018)]
            rows.append([c["settlements_talent"].sum(), c["settlements_points"].sum(), c["settlements_total"].sum()])
        return np.array(rows)

    reform, kept = settled(("historical",)), settled((kept_2016,))
    talent_share = reform[:, 0] / reform[:, 2]
    assert talent_share.mean() > 0.5, talent_share                       # the main channel
    assert np.all(reform[:, 1] < 0.5 * reform[:, 0]), reform             # points a supplement
    assert np.all(reform[:, 0] > 1.1 * kept[:, 0]), (reform, kept)       # paired by seed: talent entry widened


def test_guangzhou_2018_dispersal_levers_move_migrants_out_of_the_core(tmp_path: Path) -> None:
    """穗府〔2018〕14号 三（一）1-4: steering from the centre to the periphery (industry relocation, metro lines)."""
    no_levers = _guangzhou_without_2018(tmp_path, "{spatial_levers: null}")

    def dispersion(regimes: tuple[str, ...], seed: int) -> float:
        c = _run(regimes, {}, 2028, seed).city_year()
        return float(c[(c["city"] == "guangzhou") & (c["year"] == 2028)]["suburban_dispersion_migrants"].iloc[0])

    # Paired by seed (common random numbers). With school places that follow population (issue 11) the levers'
    # extra places matter less: measured +0.019, +0.012, -0.002, +0.004, +0.009, +0.005, +0.011, +0.007 (mean
    # 0.008, standard error 0.0023); the test asks for a mean gain above twice its standard error.
    gain = [dispersion(("historical",), seed) - dispersion((no_levers,), seed) for seed in range(1, 9)]
    standard_error = np.std(gain, ddof=1) / np.sqrt(len(gain))
    assert np.mean(gain) > max(2 * standard_error, 0.004), gain


def _insurance_months_of_shenzhen_workers_without_permit(gates: bool) -> tuple[float, float]:
    """Mean social-insurance months at the end of 2013 of Shenzhen's formal workers who arrived after the census
    day (no months from before it) a year or more ago, without a permit and with one."""
    overrides = {"residence_permit.shenzhen_2005.gates_insured_work": gates}
    model = HukouModel(RunConfig(scale=2000, end=2013, seed=2, regimes=("historical",), overrides=overrides))
    first_arrival = model.population.next_uid          # the census-day stock holds the uids below
    model.run()
    pop = model.population
    here = pop["district"] >= 0
    shenzhen = here & (model.geography.city[np.maximum(pop["district"], 0)] == 0) & (pop["settled"] < 0)
    since_census = (pop["months_in_city"] >= 12) & (pop["months_in_city"] <= 36)
    working = shenzhen & pop["formal"] & pop["employed"] & since_census & (pop["uid"] >= first_arrival)
    without, holding = working & ~pop["permit"], working & pop["permit"]
    assert without.sum() >= 10 and holding.sum() >= 10
    return float(pop["si_months"][without].mean()), float(pop["si_months"][holding].mean())


def test_shenzhen_2005_permit_gates_insured_work() -> None:
    """深圳市暂住人口证件和居住管理办法（试行） 第十六条: no hiring registered without a 暂住证, so no insurance months;
    turning the gate off gives workers without a permit insurance months again, and holders are not affected."""
    gated_without, gated_holding = _insurance_months_of_shenzhen_workers_without_permit(True)
    open_without, open_holding = _insurance_months_of_shenzhen_workers_without_permit(False)
    assert gated_without + 6 < open_without, (gated_without, open_without)
    assert gated_holding > 6 and open_holding > 6


def test_chengdu_2018_family_entry_settles_long_term_residents(tmp_path: Path) -> None:
    """成府发〔2017〕23号 三（一）1: conditional entry under national policy includes family entry (投靠)."""
    path = tmp_path / "chengdu_no_family.yaml"
    path.write_text("name: chengdu_no_family\ntitle: Chengdu without family entry\nderive_from: chengdu\n"
                    "from: 2018-01-01\nswap: {family_channel: null}\n")

    def other_settlements(regimes: tuple[str, ...]) -> float:
        c = _run(regimes, {}, 2019, seed=3, scale=4000).city_year()
        rows = c[(c["city"] == "chengdu") & ~c["census_day"] & (c["year"] >= 2018)]
        return float(rows["settlements_other"].sum())

    assert other_settlements(("historical",)) > 10_000 > other_settlements((str(path),)) == 0


def test_guangzhou_2018_points_entry_stays_open_as_a_supplement() -> None:
    """穗府〔2018〕14号 一, 三（二）6: points entry a supplement, not closed: each 2018–2020 round has at least as
    many applicants above the 100-point line as places, so it fills its quota.

    Before the line was re-anchored (points.guangzhou_2018 scored the 100 line on the 2011–2015 indicators, built for
    60) these rounds had 0–2 applicant agents for 5 places at this scale (audit row 53).
    """
    for seed in (1, 2):
        model = _run(("historical",), {}, 2020, seed)
        rounds = [r for r in model.round_log
                  if r["city"] == "guangzhou" and r["channel"] == "points_channel" and r["year"] >= 2018]
        assert [r["year"] for r in rounds] == [2018, 2019, 2020], rounds
        for r in rounds:
            assert r["quota_agents"] > 0 and r["applicants"] >= r["quota_agents"], (seed, r)
            assert r["admitted"] >= r["quota_agents"], (seed, r)


def test_guangzhou_holds_one_points_round_a_year_across_the_2016_change() -> None:
    """穗府〔2016〕3号 (issued 2016-02-29) and its points rules (穗府规〔2016〕6号, 2016-10-26): the 2011–2015 scheme's
    last round is 2015's (September), the new rules' first is November 2016; no year has two rounds or none."""
    model = HukouModel(RunConfig(scale=4000, end=2017, seed=1)).run()
    years = [r["year"] for r in model.round_log if r["city"] == "guangzhou" and r["channel"] == "points_channel"]
    assert years == list(range(2011, 2018)), years
