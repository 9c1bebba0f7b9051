"""District shares (issue 9): the moment, the persistence comparison on tiny synthetic frames, the generated
findings, the targets as shipped, and bad targets refused with file, line and field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.calibration.findings import city_series, gets_right, still_wrong
from experiments.calibration.shares import base_shares, persistence_errors, share_rows
from experiments.calibration.smm import objective
from experiments.calibration.targets import load_targets, simulated_moments
from policies.errors import InputError


def _districts() -> pd.DataFrame:
    """City A with districts 1, 2, 3 and city B with 9: the 2010 census day, year-end 2012, and a 2020 census day
    labelled close to nothing whole (it must never be read as a year end)."""
    rows = []
    for year, census, res in ((2010.83, True, (50, 30, 20, 100)), (2012.0, False, (40, 40, 20, 100)),
                              (2020.83, True, (10, 10, 80, 100))):
        for district, city, value in zip((1, 2, 3, 9), "AAAB", res, strict=True):
            rows.append({"run_id": "r1", "year": year, "census_day": census, "city": city, "district": district,
                         "district_name": f"D{district}", "zone": "core" if district == 1 else "outer",
                         "residents": float(value)})
    return pd.DataFrame(rows)


def _targets(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["target_id", "city", "year", "measure", "target_kind", "observed",
                                        "districts"])
    return frame.assign(sigma_rel=0.05, comparison="equal", note="", source="test", confidence="high")


def test_district_share_moment_reads_the_year_end_row_of_its_city() -> None:
    targets = _targets([("a1", "A", 2012.0, "district_share", "calibration", 0.4, "1"),
                        ("a23", "A", 2012.0, "district_share", "calibration", 0.6, "2 3"),
                        ("b9", "B", 2012.0, "district_share", "validation", 0.99, "9"),
                        ("late", "A", 2015.0, "district_share", "validation", 0.3, "1")])
    city = pd.DataFrame({"city": ["A"], "year": [2012.0], "residents": [100.0], "hukou_residents": [1.0]})
    values = simulated_moments(city, _districts(), targets)
    assert values[:3] == pytest.approx([0.4, 0.6, 1.0]) and np.isnan(values[3])
    assert np.isnan(simulated_moments(city, None, targets)[0])  # no district table: no share


def test_persistence_comparison_on_a_tiny_frame() -> None:
    shares = pd.DataFrame({"city": ["A", "A", "A", "B", "B"], "year": [2012.0, 2012.0, 2012.0, 2015.0, 2015.0],
                           "target_kind": ["calibration"] * 3 + ["validation"] * 2,
                           "observed_share": [0.40, 0.40, 0.20, 0.50, 0.30],
                           "simulated_share": [0.41, 0.39, 0.20, 0.40, np.nan],
                           "persistence_share": [0.50, 0.30, 0.20, 0.45, 0.30]})
    errors = persistence_errors(shares).set_index("city")
    a, b = errors.loc["A"], errors.loc["B"]
    assert a["districts"] == 3 and a["model_mae_pp"] == pytest.approx(2 / 3)
    assert a["persistence_mae_pp"] == pytest.approx(20 / 3) and a["ratio"] == pytest.approx(0.1)
    assert a["beats_persistence"] and a["beats_half"]
    # B: the district without a simulated share drops out of both means
    assert b["districts"] == 1 and b["model_mae_pp"] == pytest.approx(10)
    assert b["persistence_mae_pp"] == pytest.approx(5)
    assert not b["beats_persistence"] and not b["beats_half"] and b["target_kind"] == "validation"
    assert persistence_errors(shares.iloc[0:0]).empty


def test_share_rows_carry_the_2010_shares_forward() -> None:
    base = base_shares(_districts())
    assert base.set_index("district")["base_share"].to_dict() == pytest.approx({1: 0.5, 2: 0.3, 3: 0.2, 9: 1.0})
    targets = _targets([("a1", "A", 2012.0, "district_share", "calibration", 0.45, "1"),
                        ("a23", "A", 2012.0, "district_share", "calibration", 0.55, "2 3"),
                        ("res", "A", 2012.0, "residents", "calibration", 100.0, "")])
    table = targets.assign(simulated_mean=[0.4, 0.6, 100.0], simulated_lo=[0.39, 0.59, 99.0],
                           simulated_hi=[0.41, 0.61, 101.0])
    rows = share_rows(table, targets, base).set_index("target_id")
    assert list(rows.index) == ["a1", "a23"]
    assert rows.loc["a1", "persistence_share"] == pytest.approx(0.5)
    assert rows.loc["a23", "persistence_share"] == pytest.approx(0.5) and rows.loc["a23", "district_name"] == "D2+D3"
    assert rows.loc["a1", "model_error_pp"] == pytest.approx(-5)
    assert rows.loc["a1", "persistence_error_pp"] == pytest.approx(5)


def test_findings_are_generated_from_the_numbers() -> None:
    shares = pd.DataFrame({"city": ["shenzhen"] * 2, "year": [2016.0] * 2, "district": ["1", "2"],
                           "district_name": ["Bao'an", "Futian"], "zone": ["outer_suburb", "core"],
                           "target_kind": ["calibration"] * 2, "observed_share": [0.6, 0.4],
                           "simulated_share": [0.5, 0.5], "persistence_share": [0.61, 0.39]})
    shares["model_error_pp"] = 100 * (shares["simulated_share"] - shares["observed_share"])
    errors = persistence_errors(shares)
    table = pd.DataFrame({"city": ["shenzhen", "shenzhen"], "year": [2019.0, 2020.83],
                          "measure": ["residents_original", "residents"], "target_kind": ["validation"] * 2,
                          "observed": [13.4e6, 17.5e6], "simulated_mean": [12.4e6, 12.5e6], "z": [-0.3, -30.0]})
    table["relative_error"] = table["simulated_mean"] / table["observed"] - 1
    lines = still_wrong(table, shares, errors)
    assert lines[0].startswith("Shenzhen 2016: the simulated district shares are no closer")
    assert any(line.startswith("Bao'an (Shenzhen) 2016: too few residents") for line in lines)
    assert any("outer suburb districts together hold 50.0%" in line for line in lines)
    assert any("Shenzhen residents 2020.83 (census day)" in line and "-28.6%" in line for line in lines)
    assert not any("2019" in line for line in lines)  # the pre-revision series is shown, never listed as a miss
    assert gets_right(errors) == []
    series = city_series(table)
    assert list(series.columns) == ["city", "year", "revised", "original", "survey", "simulated_mean"]
    assert series["original"].iloc[0] == 13.4e6 and np.isnan(series["revised"].iloc[0])


def test_shipped_targets_hold_the_issue_9_rows() -> None:
    t = load_targets().set_index("target_id")
    assert t[["source", "confidence"]].ne("").all().all() and (t["sigma_rel"] > 0).all()
    shares = t[t["measure"] == "district_share"]
    for year in (2012.0, 2016.0):  # all ten Shenzhen units, Dapeng as the model's 440399
        part = shares[(shares["city"] == "shenzhen") & (shares["year"] == year)]
        assert len(part) == 10 and set(part["target_kind"]) == {"calibration"}
        assert part["observed"].sum() == pytest.approx(1, abs=1e-5) and "440399" in set(part["districts"])
    assert t.loc["shenzhen_district_share_440306_2012", "observed"] == pytest.approx(2684400 / 10547400, abs=1e-6)
    sz19 = shares[(shares["city"] == "shenzhen") & (shares["year"] == 2019.0)]
    assert len(sz19) == 7 and set(sz19["target_kind"]) == {"validation"}
    cd15 = shares[(shares["city"] == "chengdu") & (shares["year"] == 2015.0)]
    assert len(cd15) == 20 and (cd15["sigma_rel"] >= 0.2).all() and {"510117", "510118"} <= set(cd15["districts"])
    assert set(shares[shares["city"] == "guangzhou"]["target_kind"]) == {"validation"}
    for city in ("guangzhou", "chengdu"):
        for year in (2015, 2018, 2019):
            assert t.loc[f"{city}_residents_{year}", "target_kind"] == "calibration"
    original = t[t["measure"] == "residents_original"]
    assert set(original["target_kind"]) == {"validation"} and len(original[original["city"] == "shenzhen"]) == 8
    assert "inconsistent with both censuses" in original.loc["shenzhen_residents_original_2019", "note"]
    assert t.loc["guangzhou_residents_survey_2015", "target_kind"] == "validation"
    census = t[(t["year"] % 1 > 0.5) & (t["year"] > 2020) & (t["measure"] != "other_province")]
    assert set(census["target_kind"]) == {"validation"} and len(census) >= 7
    # The one 2020 census figure fitted: residents with a hukou in another province (a sub-population; its note
    # says why), never the city totals.
    other = t[(t["measure"] == "other_province") & (t["year"] > 2020)]
    assert set(other["target_kind"]) == {"calibration"} and "not the city total" in other["note"].iloc[0]


@pytest.mark.parametrize(("change", "field", "line"), [
    ({"observed": "1.2"}, "observed", 2), ({"districts": ""}, "districts", 2),
    ({"districts": "4403x"}, "districts", 2), ({"year": "2012.5"}, "year", 2),
    ({"measure": "district_shares"}, "measure", 2), ({"sigma_rel": "0"}, "sigma_rel", 2),
    ({"target_id": "first"}, "target_id", 3)])
def test_bad_share_targets_name_file_line_and_field(tmp_path: Path, change: dict, field: str, line: int) -> None:
    good = {"target_id": "first", "city": "shenzhen", "year": "2012.0", "measure": "district_share",
            "target_kind": "calibration", "observed": "0.25", "sigma_rel": "0.05", "comparison": "equal",
            "districts": "440306", "note": "n", "source": "s", "confidence": "high"}
    duplicate = "target_id" in change  # the second row repeats the first's id
    first = good if duplicate else {**good, **change}
    second = {**good, **change} if duplicate else {**good, "target_id": "second"}
    path = tmp_path / "targets.csv"
    pd.DataFrame([first, second]).to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        load_targets(path)
    text = str(info.value)
    assert str(path) in text and f":{line}" in text and field in text and "\n" not in text


def test_objective_takes_logs_of_shares_not_of_one_person() -> None:
    targets = pd.DataFrame({"target_id": ["s"], "observed": [0.02], "sigma_rel": [0.1], "comparison": ["equal"],
                            "measure": ["district_share"]})
    value = objective(pd.DataFrame({"scenario": [1], "s": [0.03]}), targets)["objective"].iloc[0]
    assert value == pytest.approx((np.log(1.5) / 0.1) ** 2)


def test_calibration_refuses_fit_targets_after_its_end(tmp_path: Path) -> None:
    from experiments.calibration import calibrate, calibration_spec_from_dict

    spec = calibration_spec_from_dict({"name": "late", "parameters": {"beta_wage": {"low": 1, "high": 2}},
                                       "end": 2016, "explore": {"n": 2}, "refine": {"n": 2}})
    with pytest.raises(InputError) as info:
        calibrate(spec, tmp_path / "cal", targets=load_targets())
    text = str(info.value)
    assert "targets.csv" in text and "year" in text and "after the spec's end 2016" in text
    assert not (tmp_path / "cal" / "explore").exists()
