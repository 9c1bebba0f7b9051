"""District shares of residents: the model against the observed shares and against persistence (issue 9).

A district's share is its residents over its city's residents on a year-end row (targets.py, ``district_share``).
The benchmark a spatial model has to beat is *persistence*: the 2010 census-day shares carried forward unchanged.
A model whose shares are no closer to the bulletins than the 2010 census adds nothing about where migrants went.

Everything here is a pure function of frames, so the report (validate.py), the dashboard and the tests share it:

- ``base_shares``: the 2010 census-day shares from a sweep's district rows (the model's initial state, which is the
  census by construction);
- ``share_rows``: one row per district-share target with the observed, simulated and persistence shares;
- ``persistence_errors``: mean absolute error in percentage points per city and year, model against persistence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.calibration.targets import district_codes

__all__ = ["base_shares", "share_rows", "persistence_errors", "SHARE_COLUMNS", "ERROR_COLUMNS", "BEAT_RATIO"]

SHARE_COLUMNS = ("city", "year", "district", "district_name", "district_name_cn", "zone", "target_id",
                 "target_kind", "confidence", "observed_share", "simulated_share", "simulated_lo", "simulated_hi",
                 "persistence_share", "model_error_pp", "persistence_error_pp")
ERROR_COLUMNS = ("city", "year", "target_kind", "districts", "model_mae_pp", "persistence_mae_pp", "ratio",
                 "beats_persistence", "beats_half")
# The bar of the district shares: the model's error at most half that of persistence (the 2010 census carried on).
BEAT_RATIO = 0.5


def base_shares(census_rows: pd.DataFrame) -> pd.DataFrame:
    """Each district's share of its city's residents on the 2010 census day, averaged over runs.

    ``census_rows``: district rows with ``year``, ``census_day``, ``city``, ``district``, ``residents`` and
    optionally ``run_id``, ``district_name``, ``district_name_cn``, ``zone`` (carried into the result). Only the
    2010 census-day rows are used. Result: ``city``, ``district``, ``base_share`` and the name columns present.
    """
    rows = census_rows[census_rows["census_day"].astype(bool) & (census_rows["year"] < 2011)]
    names = [c for c in ("district_name", "district_name_cn", "zone") if c in rows.columns]
    mean = rows.groupby(["city", "district"], sort=False)["residents"].mean().reset_index()
    mean["base_share"] = mean["residents"] / mean.groupby("city")["residents"].transform("sum")
    out = mean.drop(columns="residents")
    if names:
        out = out.merge(rows[["district", *names]].drop_duplicates("district"), on="district", how="left")
    return out


def share_rows(table: pd.DataFrame, targets: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    """One row per district-share target: observed, simulated (mean and seed band) and persistence shares, and
    the two errors in percentage points (simulated − observed, persistence − observed).

    ``table`` is the comparison table (targets.comparison_table), ``targets`` the targets it was made from (for the
    ``districts`` of each target), ``base`` the output of ``base_shares``. A target naming several districts is
    their sum; its name columns are joined with "+".
    """
    share = table[table["measure"] == "district_share"]
    codes = targets.set_index("target_id")["districts"]
    lookup = base.set_index(["city", "district"])
    rows = []
    for r in share.itertuples(index=False):
        ds = district_codes(codes.get(r.target_id, ""))
        keys = [(r.city, d) for d in ds if (r.city, d) in lookup.index]
        part = lookup.loc[keys] if keys else lookup.iloc[0:0]
        persistence = float(part["base_share"].sum()) if len(keys) == len(ds) and ds else float("nan")

        def names(col: str, part: pd.DataFrame = part) -> str:
            return "+".join(str(v) for v in part[col]) if col in part.columns and len(part) else ""

        rows.append({"city": r.city, "year": float(r.year), "district": " ".join(map(str, ds)),
                     "district_name": names("district_name"), "district_name_cn": names("district_name_cn"),
                     "zone": names("zone"), "target_id": r.target_id, "target_kind": r.target_kind,
                     "confidence": getattr(r, "confidence", ""), "observed_share": float(r.observed),
                     "simulated_share": float(r.simulated_mean), "simulated_lo": float(r.simulated_lo),
                     "simulated_hi": float(r.simulated_hi), "persistence_share": persistence})
    out = pd.DataFrame(rows, columns=list(SHARE_COLUMNS))
    out["model_error_pp"] = 100 * (out["simulated_share"] - out["observed_share"])
    out["persistence_error_pp"] = 100 * (out["persistence_share"] - out["observed_share"])
    return out


def persistence_errors(shares: pd.DataFrame) -> pd.DataFrame:
    """Per city and year: the mean absolute error of the district shares in percentage points, of the model and of
    persistence (the 2010 census shares carried forward), over the districts with an observed share.

    ``shares`` needs ``city``, ``year``, ``observed_share``, ``simulated_share``, ``persistence_share`` (fractions)
    and optionally ``target_kind``. Districts where either forecast is missing are left out of both means, so the
    two are always over the same districts. ``ratio`` = model / persistence; ``beats_half``: the ratio is at most
    ``BEAT_RATIO`` (the bar the district shares are held to).
    """
    if shares.empty:
        return pd.DataFrame(columns=list(ERROR_COLUMNS))
    frame = shares.copy()
    if "target_kind" not in frame.columns:
        frame["target_kind"] = ""
    frame = frame[np.isfinite(frame["simulated_share"]) & np.isfinite(frame["persistence_share"])
                  & np.isfinite(frame["observed_share"])]
    frame = frame.assign(m=(frame["simulated_share"] - frame["observed_share"]).abs() * 100,
                         p=(frame["persistence_share"] - frame["observed_share"]).abs() * 100)
    rows = []
    for (city, year), part in frame.groupby(["city", "year"], sort=False):
        model, persistence = float(part["m"].mean()), float(part["p"].mean())
        ratio = model / persistence if persistence > 0 else float("nan")
        rows.append({"city": city, "year": float(year), "target_kind": "/".join(sorted(set(part["target_kind"]))),
                     "districts": len(part), "model_mae_pp": model, "persistence_mae_pp": persistence,
                     "ratio": ratio, "beats_persistence": bool(model < persistence),
                     "beats_half": bool(model <= BEAT_RATIO * persistence)})
    return pd.DataFrame(rows, columns=list(ERROR_COLUMNS))
