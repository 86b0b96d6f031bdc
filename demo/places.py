"""Names of places and offices: registration authorities, courts, tax offices, addresses."""

from __future__ import annotations

import random

from demo.vocab import BUILDING, ROAD_SUFFIX, ROADS, VILLAGE_SUFFIX
from riskgraph.divisions import Division, divisions, short_name


def county_label(county: Division) -> str:
    """``安阳市文峰区`` for districts (which need the city), ``林州市`` / ``滑县`` otherwise."""
    reg = divisions()
    if county.name.endswith("区") and not county.zone:
        return reg.name(county.parent) + county.name
    return county.name


def authority(county: Division, city_level: bool = False, old: bool = False) -> str:
    """The registration authority of a county (or the city's own bureau)."""
    reg = divisions()
    office = "工商行政管理局" if old else "市场监督管理局"
    city_name = reg.name(county.parent)
    if city_level:
        return city_name + office
    if county.zone:
        return f"{city_name}{office}{county.name.replace(short_name(city_name), '', 1)}分局"
    return county_label(county) + office


def civil_affairs(county: Division) -> str:
    """The civil-affairs bureau registering 社会团体 and 民办非企业单位."""
    if county.zone:
        return divisions().name(county.parent) + "民政局"
    return county_label(county) + "民政局"


def court(county: Division) -> str:
    """The basic people's court of a county (zones use the city's first district court)."""
    return county_label(county) + "人民法院"


def tax_office(county: Division) -> str:
    return "国家税务总局" + county_label(county) + "税务局"


def police_unit(county: Division, city_level: bool) -> str:
    reg = divisions()
    city_name = reg.name(county.parent)
    if city_level:
        return city_name + "公安局经济犯罪侦查支队"
    if county.name.endswith("区") and not county.zone:
        return f"{city_name}公安局{short_name(county.name)}分局"
    return county_label(county) + "公安局经侦大队"


def street_address(rng: random.Random, county: Division, with_city: bool) -> str:
    """A registered address inside ``county``, e.g. ``安阳市文峰区中华路128号``."""
    reg = divisions()
    head = (reg.name(county.parent) if with_city or county.zone else "") + county.name
    road = rng.choice(ROADS) + rng.choice(ROAD_SUFFIX)
    kind = rng.random()
    if kind < 0.55:
        return f"{head}{road}{rng.randint(1, 399)}号"
    if kind < 0.8:
        return f"{head}{road}{rng.randint(1, 199)}号{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元"
    if kind < 0.9:
        town = rng.choice(ROADS) + rng.choice(("镇", "乡"))
        village = (
            rng.choice(ROADS)[:1]
            + rng.choice(("家", "王", "李", "张"))
            + rng.choice(VILLAGE_SUFFIX)
        )
        return f"{head}{town}{village}{rng.randint(1, 120)}号"
    building = rng.choice(ROADS) + rng.choice(BUILDING)
    floor, room = rng.randint(2, 28), rng.randint(1, 30)
    return f"{head}{road}{rng.randint(1, 99)}号{building}{floor}层{room:02d}室"


def business_centre(rng: random.Random, county: Division) -> tuple[str, str]:
    """A shared business-centre address stem and its building (hundreds of firms register there)."""
    reg = divisions()
    road = rng.choice(ROADS) + "大道"
    building = rng.choice(ROADS) + "商务中心"
    stem = f"{reg.name(county.parent)}{county.name}{road}{rng.randint(1, 99)}号{building}"
    return stem, building
