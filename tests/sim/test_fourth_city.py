"""CONTRIBUTING.md's "Add a city", done step by step (issue 10, item 6): a fourth city's skeleton added to a copy
of the packages in ``tmp_path``, a small model run with it, and the count of files the city needed.

The city is fictional ("Sidian", 四甸, adcode prefix 4499, which GB/T 2260 does not assign, inside Guangdong so
that its home origin region is one of the model's): three districts with made-up 2010 counts, a regime with the
national residence permit and Guangzhou's 2016 talent routes. Nothing of it is shipped: the copy is built and
edited here, and the shipped data keep three cities. Each step below is one numbered step of the guide, in its
order, editing only the file the guide names; the test then checks that those are the only files that differ
from the repository, i.e. that adding a city needs no code.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sim", "policies", "hukou_cli", "experiments", "dashboard")
CITY, NAME_EN, NAME_CN = "sidian", "Sidian", "四甸"
FIXTURE = "fictional: a test fixture (tests/sim/test_fourth_city.py), not a real city"
# What the guide says a city needs: four data files and one regime file, no code.
FIRST_NEW_DISTRICT_LINE = len((ROOT / "sim/data/districts.csv").read_text(encoding="utf-8").splitlines()) + 1
EXPECTED_FILES = {"policies/data/cities.csv", "sim/data/districts.csv", "sim/data/drivers.csv",
                  "sim/data/behaviour.yaml", "policies/regimes/sidian.yaml"}


def _append_rows(path: Path, rows: list[dict[str, object]]) -> None:
    """Append rows to a CSV in its own column order (every column must be given)."""
    with path.open(encoding="utf-8") as f:
        columns = next(csv.reader(f))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    for row in rows:
        assert set(row) == set(columns), sorted(set(columns) ^ set(row))
        writer.writerow(row)
    text = path.read_text(encoding="utf-8")
    path.write_text(text + ("" if text.endswith("\n") else "\n") + out.getvalue(), encoding="utf-8")


def step_1_city_row(repo: Path) -> None:
    """1. A row of policies/data/cities.csv."""
    _append_rows(repo / "policies/data/cities.csv", [{
        "city": CITY, "name_en": NAME_EN, "name_cn": NAME_CN, "adcode_prefix": 4499, "home_origin": "guangdong",
        "out_of_province_table": "guangdong", "outer_zone": "outer_suburb", "source": FIXTURE}])


def step_2_districts(repo: Path) -> None:
    """2. Its districts in sim/data/districts.csv: 2010 residents, hukou and out-of-province counts, zone."""
    districts = [("449901", "甲区", "Jia", "core", 900_000, 600_000, 150_000),
                 ("449902", "乙区", "Yi", "inner-suburb", 1_300_000, 650_000, 350_000),
                 ("449903", "丙区", "Bing", "outer", 700_000, 500_000, 80_000)]
    _append_rows(repo / "sim/data/districts.csv", [{
        "city": NAME_EN, "district_cn": cn, "district_en": en, "adcode": adcode, "zone": zone,
        "zone_basis": FIXTURE, "pop_2010": residents, "pop_2010_note": "same unit", "hukou_2010": hukou,
        "res_hukou_other_province_2010": other, "share_hukou_outside_province_2010": round(other / residents, 4),
        "source": FIXTURE} for adcode, cn, en, zone, residents, hukou, other in districts])


def step_3_employment(repo: Path) -> None:
    """3. Its employment series in sim/data/drivers.csv (series ``employment``, key = the city code)."""
    _append_rows(repo / "sim/data/drivers.csv", [{
        "series": "employment", "key": CITY, "year": year, "value": round(120 * 1.04 ** (year - 2010), 2),
        "unit": "10,000 persons", "source": FIXTURE, "note": "4% a year"} for year in range(2010, 2021)])


def step_4_behaviour(repo: Path) -> None:
    """4. Its values in the per-city tables of sim/data/behaviour.yaml: origin_cost (from every origin),
    wage_index_2010, native_bachelor_share."""
    path = repo / "sim/data/behaviour.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for origin, cost in {"guangdong": 1.2, "sichuan_chongqing": 2.7, "central": 2.2, "other": 2.7}.items():
        doc["origin_cost"]["value"][origin][CITY] = cost
    doc["wage_index_2010"]["value"][CITY] = [1.8, 2.5, 4.5]
    doc["native_bachelor_share"]["value"][CITY] = 0.15
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=200), encoding="utf-8")


def step_5_regime(repo: Path) -> None:
    """5. A timeline policies/regimes/<city>.yaml naming one variant per mechanism (existing variants here)."""
    regime = {
        "name": CITY, "city": CITY, "title": f"{NAME_EN} — a fictional city", "description": FIXTURE,
        "documents": ["居住证暂行条例 (国务院令第663号)", "穗府〔2016〕3号 (talent routes, borrowed)"],
        "versions": [{"label": "residence permit and talent entry", "ref": "居住证暂行条例 第二条; 穗府〔2016〕3号",
                      "mechanisms": {"residence_permit": "national_2016", "talent_channel": "guangzhou_2016"}}]}
    (repo / f"policies/regimes/{CITY}.yaml").write_text(yaml.safe_dump(regime, allow_unicode=True, sort_keys=False),
                                                         encoding="utf-8")


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for package in PACKAGES for p in (root / package).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


STEPS = (step_1_city_row, step_2_districts, step_3_employment, step_4_behaviour, step_5_regime)


def _copy_with(tmp_path: Path, steps: tuple[Callable[[Path], None], ...]) -> Path:
    repo = tmp_path / "repo"
    for package in PACKAGES:
        shutil.copytree(ROOT / package, repo / package, ignore=shutil.ignore_patterns("__pycache__"))
    for step in steps:
        step(repo)
    return repo


def _run(repo: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(repo)}
    return subprocess.run([sys.executable, "-m", "hukou_cli", "run", "--end", "2015", "--scale", "2000",
                           "--seed", "1", "--out", str(out), "--quiet"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=600)


def test_a_fourth_city_is_data_and_one_regime_file(tmp_path: Path) -> None:
    """The steps of the guide add a city that the model runs and in which migrants settle, editing no code."""
    repo = _copy_with(tmp_path, STEPS)

    before, after = _digests(ROOT), _digests(repo)
    changed = {p for p in after if before.get(p) != after[p]}
    assert changed == EXPECTED_FILES
    assert set(before) <= set(after)

    out = tmp_path / "run"
    done = _run(repo, out)
    assert done.returncode == 0, done.stderr[-2000:]
    cities = pd.read_parquet(out / "city_year.parquet")
    sidian = cities[cities["city"] == CITY]
    assert {2011.0, 2015.0} <= set(sidian["year"])
    assert (sidian["residents"] > 2_000_000).all()
    assert sidian["settlements_talent"].sum() > 0, "migrants settle through the fourth city's talent channel"
    assert set(cities["city"]) == {"shenzhen", "guangzhou", "chengdu", CITY}
    districts = pd.read_parquet(out / "district_year.parquet")
    assert set(districts.loc[districts["city"] == CITY, "district"]) == {449901, 449902, 449903}


@pytest.mark.parametrize(("skipped", "named"), [
    (step_1_city_row, f"sim/data/districts.csv:{FIRST_NEW_DISTRICT_LINE}: city: unknown city 'Sidian'"),
    (step_3_employment, "sim/data/drivers.csv: key: no employment series (two years or more) for sidian"),
    (step_4_behaviour, "origin_cost.guangdong: no value for sidian"),
    (step_5_regime, "regimes: no regime for sidian"),
])
def test_a_step_left_out_is_one_line_naming_what_is_missing(tmp_path: Path, skipped: Callable[[Path], None],
                                                            named: str) -> None:
    """A contributor who forgets a step gets exit code 2 and one line naming the file or table, before any run."""
    repo = _copy_with(tmp_path, tuple(s for s in STEPS if s is not skipped))
    done = _run(repo, tmp_path / "run")
    lines = done.stderr.strip().splitlines()
    assert (done.returncode, len(lines)) == (2, 1), done.stderr[-2000:]
    assert named in lines[0]
    assert not (tmp_path / "run" / "city_year.parquet").exists()
