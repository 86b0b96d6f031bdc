"""Key sectors (重点领域) and their supervising departments, as data.

The table follows ``shared/spec/source-formats.md`` (谁审批、谁监管；谁主管、谁监管).
Each sector has keywords matched against the business scope (经营范围), the name and the
enterprise type; ``risk`` is how strongly a non-licensed firm in that sector suggests
illegal fundraising (1 for pure finance words, lower for sectors where most firms are legitimate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Sector:
    """A key sector: id, names, supervising department, keywords and risk weight."""

    id: str
    zh: str
    department: str
    keywords: tuple[str, ...]
    risk: float


SECTORS: tuple[Sector, ...] = (
    Sector("local_finance", "融资担保、小额贷款、典当等地方金融组织", "地方金融管理部门",
           ("融资担保", "小额贷款", "典当", "融资租赁", "商业保理"), 0.8),
    Sector("venture", "创业投资企业", "发展改革部门", ("创业投资", "股权投资", "风险投资"), 0.7),
    Sector("education", "民办学校、民办教育培训机构", "教育部门",
           ("教育培训", "民办学校", "培训学校"), 0.2),
    Sector("elderly", "养老机构", "民政部门",
           ("养老床位", "养老服务", "养老机构", "养老公寓", "康养", "候鸟式养老"), 0.5),
    Sector("real_estate_agency", "房地产中介", "住房城乡建设部门",
           ("房地产中介", "房地产经纪", "房产中介"), 0.2),
    Sector("coop_finance", "农民专业合作社、农村资金互助", "农业农村部门",
           ("资金互助", "信用合作", "吸收社员存款", "社员存款", "入股分红"), 0.6),
    Sector("coop", "农民专业合作社、农村资金互助", "农业农村部门", ("农民专业合作社",), 0.3),
    Sector("consulting", "投资咨询、非融资性担保、广告", "市场监管部门",
           ("投资咨询", "投资管理", "非融资性担保", "企业管理咨询", "会员"), 0.5),
    Sector("private_finance", "私募基金、P2P 网络借贷、投资理财、第三方支付",
           "金融管理部门派出机构",
           ("投资理财", "理财", "资产管理", "财富管理", "私募", "众筹", "P2P", "p2p",
            "网络借贷", "互联网金融", "第三方支付", "供应链金融", "数字货币", "虚拟货币",
            "区块链金融"), 1.0),
)
"""Sector lookup; the first match wins for routing, the highest ``risk`` for scoring."""

COUNTY_DESIGNATES = "县级政府指定部门"
"""Department when no sector matches (the county government designates one)."""

LICENSED_MARKERS: tuple[str, ...] = (
    "银行", "证券", "保险", "信托", "期货", "基金管理有限公司", "金融租赁", "消费金融",
    "信用社", "信用联社", "农村信用合作", "集团财务有限公司", "汽车金融", "货币经纪",
)
"""Name fragments of licensed financial institutions (not flagged for key-sector scope)."""

UNLICENSED_MARKERS: tuple[str, ...] = ("股权投资基金管理", "私募", "投资基金管理")
"""Private fund managers are only registered with the fund association (备案), not licensed:
a "基金管理有限公司" name with these words is not a licensed public fund company."""

SPECIAL_TYPES: dict[str, str] = {"农民专业合作社": "coop"}
"""Enterprise types that put a firm in a sector whatever its scope."""


_ANY_KEYWORD = re.compile("|".join(re.escape(k) for s in SECTORS for k in s.keywords))
_SECTOR_OF_KEYWORD: dict[str, list[int]] = {}
for _i, _s in enumerate(SECTORS):
    for _k in _s.keywords:
        _SECTOR_OF_KEYWORD.setdefault(_k, []).append(_i)


def _matching(text: str) -> list[Sector]:
    """Sectors with a keyword in ``text`` (one regex pass; overlapping keywords checked)."""
    if not _ANY_KEYWORD.search(text):
        return []
    return [s for s in SECTORS if any(k in text for k in s.keywords)]


def sectors_of(text: str, ent_type: str = "") -> list[Sector]:
    """Every key sector whose keywords occur in ``text`` (scope and name) or whose type matches."""
    found = _matching(text)
    for type_word, sector_id in SPECIAL_TYPES.items():
        if type_word in ent_type and all(s.id != sector_id for s in found):
            found.extend(s for s in SECTORS if s.id == sector_id)
    return found


def route(text: str, ent_type: str = "") -> tuple[str, str]:
    """``(sector zh, supervising department)`` for a firm; the riskiest matching sector wins."""
    if not _ANY_KEYWORD.search(text) and not any(t in ent_type for t in SPECIAL_TYPES):
        return "", COUNTY_DESIGNATES  # most firms: no sector (one regex pass, no lists)
    found = sectors_of(text, ent_type)
    if not found:
        return "", COUNTY_DESIGNATES
    best = max(found, key=lambda s: s.risk)
    return best.zh, best.department


def is_licensed(name: str) -> bool:
    """True when the name marks a licensed financial institution."""
    if any(m in name for m in UNLICENSED_MARKERS):
        return False
    return any(m in name for m in LICENSED_MARKERS)
