"""Shenzhen's 2016 district shares read two ways: as published, and with the residents the 2020 census found added.

The 2016 yearbook's district table (../shared/data/calibration/district_year_population.csv) sums to the pre-revision
city total, 11.91 m. A constant growth rate between the 2010 and 2020 censuses puts the city at 14.34 m at the end
of 2016. The official series hold the non-hukou residents nearly flat from 2011 to 2019 (7.79 m to 8.49 m) and find
12.12 m in 2021, after the census (../shared/data/city_population.csv), so the missing residents are taken to be
non-hukou residents and are given to each district in proportion to its non-hukou residents in the table. This is a
reading of the data, not data: it shows how much of the model's miss depends on taking the table's shares as exact.

Usage, from the project root (the two runs of ../shared/checks/district-shares):
    for s in 1 2; do
      hukou run --regimes historical --start 2010 --end 2016 --scale 500 --seed $s --out /tmp/ds/s$s
    done
    python docs/validation/undercount_sensitivity.py /tmp/ds
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "calibration" / "district_year_population.csv"
CENSUS_2010, CENSUS_2020 = 10_358_381, 17_560_061      # Shenzhen residents on the census days (city_population.csv)
CENSUS_DAY = 10.0 / 12.0                                # 1 November as a fraction of the year


def simulated_shares(runs: list[pd.DataFrame], year: float) -> pd.Series:
    """Shenzhen's district shares at a year-end, averaged over runs."""
    parts = [r[~r["census_day"].astype(bool) & (r["year"].round(2) == year) & (r["city"] == "shenzhen")]
             .groupby("district")["residents"].sum() for r in runs]
    s = pd.concat(parts, axis=1).mean(axis=1)
    return s / s.sum()


def main(folder: Path) -> None:
    runs = [pd.read_parquet(p / "district_year.parquet") for p in sorted(folder.iterdir()) if p.is_dir()]
    first = runs[0]
    census = first[first["census_day"].astype(bool) & (first["year"] < 2011) & (first["city"] == "shenzhen")]
    persistence = census.groupby("district")["residents"].sum()
    persistence = persistence / persistence.sum()
    table = pd.read_csv(DATA)
    table = table[(table["city"] == "Shenzhen") & (table["year"] == 2016)].copy()
    years = 2016 + 1.0 - (2010 + CENSUS_DAY)
    implied = CENSUS_2010 * (CENSUS_2020 / CENSUS_2010) ** (years / 10.0)
    missing = implied - table["resident"].sum()
    unregistered = table["resident"] - table["registered"]
    table["adjusted"] = table["resident"] + missing * unregistered / unregistered.sum()
    model = simulated_shares(runs, 2016.0)
    print(f"city at the end of 2016: table {table['resident'].sum() / 1e6:.2f} m, census trend {implied / 1e6:.2f} m, "
          f"model {np.mean([simulated_total(r) for r in runs]) / 1e6:.2f} m")
    named = table[table["adcode"].notna()].set_index(table.loc[table["adcode"].notna(), "adcode"].astype(int))
    for column, label in (("resident", "as published"), ("adjusted", "missing residents added")):
        observed = named[column] / table[column].sum()     # Dapeng (no adcode) stays in the denominator
        m = 100 * (model.reindex(observed.index) - observed).abs().mean()
        p = 100 * (persistence.reindex(observed.index) - observed).abs().mean()
        print(f"2016 shares {label}: model {m:.2f} pp, 2010 carried forward {p:.2f} pp")


def simulated_total(run: pd.DataFrame) -> float:
    """Shenzhen's simulated residents at the end of 2016."""
    rows = run[~run["census_day"].astype(bool) & (run["year"].round(2) == 2016.0) & (run["city"] == "shenzhen")]
    return float(rows["residents"].sum())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
