"""Direct risk indicators, declared as data, and the direct score.

Each :class:`Indicator` has an id, a description in Chinese and English, the source it reads, a
weight ``w`` in [0, 1) and (optionally) the sectors where it applies. Its function maps an
enterprise's :class:`analytics.facts.Facts` to a :class:`Hit` — strength ``x`` in [0, 1], the
value shown to analysts, and the delivery of the evidence — or None.

The direct score is the noisy-OR used by :mod:`analytics.calibration`::

    direct = 100 * (1 - prod_i (1 - w_i * x_i))

so ``riskgraph calibrate`` can refit exactly these weights (:func:`weights`).

Weights separate *fundraising-specific* evidence (key-sector scope, promises in ads and tips,
police clues for fundraising crimes, private-lending suits by many people, money collected from
many people, suspicious account patterns) from *distress* evidence (tax 非正常户 / D grade /
zero filings, credit blacklists, thin operations): distress is common among ordinary failing
small firms, so it corroborates but alone stays below the transmission threshold of the linked
risk (:data:`analytics.propagation.T0`) and far from the warning levels. Distress signals travel
together (a failing firm is 非正常户, D grade and zero-filing at once; overdue, 代偿 and
enforcement follow one default), so each weighs little: the usual picture of a failing small
firm (three or four of them) adds up to less than a key-sector scope. Ads promising returns
weigh most among the early signals: a public (公开性) promise of returns (利诱性) is itself two of
the four legal elements of 非法集资.

Registration facts (key-sector scope, outsized or unpaid capital, frequent changes) are what a
firm chose to write into its own record and are shared by thousands of legitimate firms: without
evidence from another source family they count only :data:`UNCORROBORATED` of their strength
(:func:`corroborate`, applied by :func:`evaluate`, so the strengths shown, calibrated and
combined are the same).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from analytics import sectors
from analytics.facts import (
    DEFENDANT_ROLES,
    Facts,
    first,
    has_text,
    num,
    parse_date,
    text_of,
)
from graph.model import NODE_BY_LABEL

PROMISE_WORDS: tuple[str, ...] = (
    "高息", "高回报", "高收益", "保本", "保息", "稳赚", "稳赚不赔", "零风险", "无风险", "返利",
    "返本", "原始股", "静态收益", "动态收益", "拉人头", "躺赚", "日息", "月息", "年化", "分红",
    "股权众筹", "养老床位", "以房养老", "消费返还", "全额返还", "定期返还", "固定收益", "保底",
)
"""Promise words of fundraising ads and tips (高息, 保本, 稳赚, 返利, 原始股 …)."""

LENDING_CAUSES = ("民间借贷", "借款合同")
CRIMINAL_CAUSES = ("非法吸收公众存款", "集资诈骗", "组织、领导传销", "组织领导传销", "传销",
                   "合同诈骗")
ENFORCEMENT_WORDS = ("执行", "终结本次执行", "终本")


@dataclass(frozen=True)
class Hit:
    """An indicator that fired: strength in [0, 1], shown value, evidence delivery."""

    strength: float
    value: Any
    delivery: str = ""


@dataclass(frozen=True)
class Context:
    """Run-wide inputs of indicators (reference date and windows)."""

    as_of: date
    plaintiff_window_days: int = 365
    recent_years: int = 2


@dataclass(frozen=True)
class Indicator:
    """A declared indicator."""

    id: str
    zh: str
    en: str
    source: str
    weight: float
    fn: Callable[[Facts, Context], Hit | None]
    sectors: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    """Fact kinds (or ``payers``/``plaintiffs``) the indicator reads: when the enterprise has
    none of them it cannot fire and is skipped (registration indicators read the node)."""
    until: Callable[[Facts, Context], date | None] | None = None
    """For an indicator that reads the reference date (``ctx.as_of``): the first reference
    date from which its result on these facts may differ (``None``: never, the date only
    moves forward). Indicators without it do not depend on the date. Lets a rescore reuse
    the hits of an enterprise whose facts did not change (:func:`evaluate_raw_until`)."""


def _clip(x: float) -> float:
    return max(0.0, min(1.0, x))


def _delivery(items: Sequence[Mapping[str, Any]]) -> str:
    ds = [str(f.get("delivery") or f.get("edge_delivery") or "") for f in items]
    ds = [d for d in ds if d]
    return max(ds) if ds else ""


def _active(f: Mapping[str, Any]) -> bool:
    """A fact not ended / removed / withdrawn."""
    if f.get("ended") or f.get("edge_ended"):
        return False
    if first(f, "removed", "removed_date", "delisted", "移出日期"):
        return False
    return True


# --- registration -------------------------------------------------------------------------


LICENCE_PHRASES = ("凭许可证经营", "凭有效许可证", "经银行业监督管理机构批准", "金融许可证",
                   "经中国人民银行批准")
"""Scope phrases of a licensed (supervised) financial business."""
LICENSED_TYPES = ("小额贷款有限公司", "小额贷款股份有限公司", "融资担保有限公司",
                  "融资担保股份有限公司", "典当有限责任公司", "典当有限公司", "农村商业银行",
                  "村镇银行")
"""Name endings of licensed local financial organisations (approved by the local financial
regulator); key-sector scope in them is their licence, not a warning."""


@functools.lru_cache(maxsize=4096)  # asked twice per enterprise (exemptions, key sector)
def is_licensed(name: str, scope: str) -> bool:
    return (sectors.is_licensed(name) or any(t in name for t in LICENSED_TYPES)
            or any(p in scope for p in LICENCE_PHRASES))


def key_sector(f: Facts, ctx: Context) -> Hit | None:
    name = str(f.ent.get("name") or "")
    if is_licensed(name, str(f.ent.get("scope") or "")):
        return None
    found = sectors.sectors_of(f"{f.ent.get('scope') or ''} {name}",
                               str(f.ent.get("ent_type") or ""))
    if not found:
        return None
    best = max(found, key=lambda s: s.risk)
    return Hit(best.risk, best.zh, str(f.ent.get("delivery") or ""))


def capital_gap(f: Facts, ctx: Context) -> Hit | None:
    reg = num(f.ent, "reg_capital_wan") or 0.0
    paid = num(f.ent, "paid_capital_wan")
    if reg < 1000 or paid is None:
        return None
    ratio = paid / reg
    if ratio >= 0.2:
        return None
    size = _clip(math.log10(reg / 1000 + 1) / math.log10(11))  # 1000万 → 0.29, 1亿 → 1
    return Hit(_clip((1 - ratio / 0.2) * (0.4 + 0.6 * size)), f"{paid:g}/{reg:g}万",
               str(f.ent.get("delivery") or ""))


def _young_strength(f: Facts) -> tuple[float, float]:
    """(strength if young, registered capital): outsized capital or many branches."""
    reg = num(f.ent, "reg_capital_wan") or 0.0
    cap = _clip(math.log10(max(reg, 1) / 1000) / 1.0) if reg > 1000 else 0.0
    br = _clip((f.branches - 1) / 4) if f.branches >= 2 else 0.0
    return max(cap, br), reg


YOUNG_DAYS = 730


def young_outsized(f: Facts, ctx: Context) -> Hit | None:
    founded = parse_date(f.ent.get("founded"))
    if founded is None or (ctx.as_of - founded).days > YOUNG_DAYS:
        return None
    x, reg = _young_strength(f)
    if x <= 0:
        return None
    return Hit(x, f"{founded.isoformat()} {reg:g}万 {f.branches}分支",
               str(f.ent.get("delivery") or ""))


def young_outsized_until(f: Facts, ctx: Context) -> date | None:
    """A young firm stops being young the day after :data:`YOUNG_DAYS`; an old one, or one
    without outsized capital or branches, never changes."""
    founded = parse_date(f.ent.get("founded"))
    if founded is None or (ctx.as_of - founded).days > YOUNG_DAYS or _young_strength(f)[0] <= 0:
        return None
    return founded + timedelta(days=YOUNG_DAYS + 1)


CHANGE_ITEMS = ("法定代表人", "住所", "地址", "经营范围", "负责人")


def _recent_changes(f: Facts, ctx: Context) -> list[tuple[dict[str, Any], date | None]]:
    """Changes of legal representative, address or scope within ``recent_years`` (undated
    ones count), with their dates."""
    since = ctx.as_of - timedelta(days=365 * ctx.recent_years)
    items = []
    for c in f.of("changes"):
        what = str(first(c, "item", "变更事项") or "")
        d = parse_date(first(c, "date", "changed", "change_date", "变更日期"))
        if any(k in what for k in CHANGE_ITEMS) and (d is None or d >= since):
            items.append((c, d))
    return items


def frequent_changes(f: Facts, ctx: Context) -> Hit | None:
    items = [c for c, _d in _recent_changes(f, ctx)]
    if len(items) < 2:
        return None
    return Hit(_clip((len(items) - 1) / 4), len(items), _delivery(items))


def frequent_changes_until(f: Facts, ctx: Context) -> date | None:
    """The day the oldest dated change counted leaves the window. Fewer than two changes in
    the window never becomes more as the date moves on."""
    items = _recent_changes(f, ctx)
    dated = [d for _c, d in items if d is not None]
    if len(items) < 2 or not dated:
        return None
    return min(dated) + timedelta(days=365 * ctx.recent_years + 1)


# --- tax ------------------------------------------------------------------------------------


TAX_PARTS = NODE_BY_LABEL["TaxYear"].parts
"""The tables delivering parts of a tax year (纳税人信息: status and grade; 申报汇总: the
declaration), each ended by its own full snapshot (:mod:`graph.model`)."""


def current_tax(t: dict[str, Any]) -> dict[str, Any] | None:
    """A tax year as the indicators read it: None when it has ended (or its FILED_TAX has),
    else without the properties of a part whose table's full snapshot no longer holds it (a
    status the tax office stopped listing no longer counts; the declaration beside it does)."""
    if not _active(t):
        return None
    ended = [part for part in TAX_PARTS if t.get(part.ended)]
    if not ended:
        return t
    gone = {name for part in ended for name in part.props}
    return {k: v for k, v in t.items() if k not in gone}


def _latest_tax(f: Facts) -> list[dict[str, Any]]:
    """The two latest current tax years (:func:`current_tax`; read by four indicators:
    sorted once per enterprise)."""
    latest = f.memo.get("latest_tax")
    if latest is None:
        current = [c for c in map(current_tax, f.of("tax")) if c is not None]
        years = sorted(current, key=lambda t: str(first(t, "year") or ""), reverse=True)
        latest = f.memo["latest_tax"] = years[:2]
    return latest


def tax_abnormal(f: Facts, ctx: Context) -> Hit | None:
    hits = [t for t in _latest_tax(f) if has_text(t, "非正常")]
    return Hit(1.0, "非正常户", _delivery(hits)) if hits else None


def tax_grade_d(f: Facts, ctx: Context) -> Hit | None:
    hits = []
    for t in _latest_tax(f):
        grade = first(t, "credit_grade", "grade", "tax_grade", "rating", "纳税信用等级")
        if grade is None:
            grade = next((v for k, v in t.items() if "grade" in k or "rating" in k), None)
        if str(grade or "").strip().upper() == "D":
            hits.append(t)
    return Hit(1.0, "D", _delivery(hits)) if hits else None


def tax_zero_filing(f: Facts, ctx: Context) -> Hit | None:
    best: tuple[float, dict[str, Any]] | None = None
    for t in _latest_tax(f):
        m = num(t, "zero_months", "zero")
        if m is not None and m >= 6 and (best is None or m > best[0]):
            best = (m, t)
    if best is None:
        return None
    return Hit(_clip((best[0] - 3) / 9), f"{best[0]:g}月", _delivery([best[1]]))


def tax_thin_operation(f: Facts, ctx: Context) -> Hit | None:
    """Revenue tiny for the claimed scale, or few / no 社保 staff for a big or branched firm."""
    reg = num(f.ent, "reg_capital_wan") or 0.0
    big = reg >= 1000 or f.branches >= 2
    if not big:
        return None
    for t in _latest_tax(f)[:1]:
        rev = num(t, "revenue_yuan", "revenue", "income")
        staff = num(t, "social_insurance", "insured", "staff", "employees", "social")
        x = 0.0
        if rev is not None and reg > 0 and rev < reg * 1e4 * 0.01:
            x = max(x, 0.6)
        if staff is not None and staff <= 3:
            x = max(x, 0.7 if staff == 0 else 0.4)
        if x > 0:
            return Hit(x, f"收入{rev}元 社保{staff}人", _delivery([t]))
    return None


# --- credit ---------------------------------------------------------------------------------


def _listing(kinds: Sequence[str]) -> Callable[[Facts, Context], Hit | None]:
    def fn(f: Facts, ctx: Context) -> Hit | None:
        hits = [x for x in f.of("credit_list")
                if _active(x) and any(k in str(first(x, "list_type") or text_of(x))
                                      for k in kinds)]
        if not hits:
            return None
        return Hit(_clip(0.7 + 0.15 * (len(hits) - 1)), len(hits), _delivery(hits))
    return fn


def credit_overdue(f: Facts, ctx: Context) -> Hit | None:
    hits = [r for r in f.of("credit_report") if (num(r, "overdue_wan", "overdue") or 0) > 0]
    if not hits:
        return None
    amount = max(num(r, "overdue_wan", "overdue") or 0 for r in hits)
    return Hit(_clip(0.5 + 0.5 * math.log10(1 + amount) / 3), f"{amount:g}万", _delivery(hits))


def credit_compensation(f: Facts, ctx: Context) -> Hit | None:
    hits = [r for r in f.of("credit_report")
            if (num(r, "guarantee_paid", "compensations", "compensation") or 0) > 0]
    if not hits:
        return None
    n = max(num(r, "guarantee_paid", "compensations", "compensation") or 0 for r in hits)
    return Hit(_clip(0.6 + 0.1 * n), f"{n:g}笔", _delivery(hits))


# --- court ----------------------------------------------------------------------------------


def _cause(c: Mapping[str, Any]) -> str:
    return str(first(c, "cause", "案由") or "")


def _defendant_cases(f: Facts) -> list[dict[str, Any]]:
    return [c for c in f.of("court") if c["role"] in DEFENDANT_ROLES]


def court_lending(f: Facts, ctx: Context) -> Hit | None:
    hits = [c for c in _defendant_cases(f) if any(k in _cause(c) for k in LENDING_CAUSES)]
    if not hits:
        return None
    return Hit(_clip(len(hits) / 4), len(hits), _delivery(hits))


def court_plaintiffs(f: Facts, ctx: Context) -> Hit | None:
    """Distinct natural-person plaintiffs over lending causes within a sliding window."""
    lending = {str(c.get("key") or c["_node"]): c for c in _defendant_cases(f)
               if any(k in _cause(c) for k in LENDING_CAUSES)}
    events: list[tuple[date, int]] = []
    undated: set[int] = set()
    for key, plist in f.plaintiffs.items():
        if key not in lending:
            continue
        for filed, person in plist:
            d = parse_date(filed)
            if d is None:
                undated.add(person)
            else:
                events.append((d, person))
    events.sort()
    best = 0
    window = timedelta(days=ctx.plaintiff_window_days)
    start = 0
    for end in range(len(events)):
        while events[end][0] - events[start][0] > window:
            start += 1
        best = max(best, len({p for _, p in events[start:end + 1]}))
    best = max(best, len(undated))
    if best < 3:
        return None
    return Hit(_clip((best - 1) / 8), best, _delivery(list(lending.values())))


def court_enforcement(f: Facts, ctx: Context) -> Hit | None:
    hits = [c for c in f.of("court")
            if c["role"] in ("被执行人", "executed")
            or (c["role"] in DEFENDANT_ROLES
                and any(k in f"{_cause(c)} {first(c, 'status', '案件状态') or ''}"
                        for k in ENFORCEMENT_WORDS))]
    if not hits:
        return None
    return Hit(_clip(0.5 + 0.25 * (len(hits) - 1)), len(hits), _delivery(hits))


def court_criminal(f: Facts, ctx: Context) -> Hit | None:
    hits = [c for c in _defendant_cases(f) if any(k in _cause(c) for k in CRIMINAL_CAUSES)]
    if not hits:
        return None
    strong = any(k in _cause(c) for c in hits for k in CRIMINAL_CAUSES[:3])
    return Hit(1.0 if strong else 0.6, _cause(hits[0]), _delivery(hits))


# --- police, tips, bank, ads, payers ------------------------------------------------------


FUNDRAISING_CRIMES = ("非法吸收公众存款", "集资诈骗", "传销")
OTHER_CRIME = 0.35


def police_clue(f: Facts, ctx: Context) -> Hit | None:
    best = 0.0
    hits = []
    for c in f.of("police"):
        status = str(first(c, "status", "状态") or "")
        if "撤案" in status:
            continue
        role = c["role"]
        x = 1.0 if ("嫌疑" in role or not role) else 0.6
        crime = str(first(c, "crime", "涉嫌罪名", "title") or "")
        if crime and not any(k in crime for k in FUNDRAISING_CRIMES):
            x *= OTHER_CRIME  # 合同诈骗, 其他: a police matter, not a fundraising case
        amount = num(c, "amount_wan", "amount") or 0.0
        investors = num(c, "investors", "participants", "victims", "集资参与人数") or 0.0
        x *= 0.7 + 0.15 * _clip(math.log10(1 + amount) / 3) + 0.15 * _clip(investors / 100)
        if "立案" in status or "侦查" in status or "起诉" in status:
            x = min(1.0, x + 0.1)
        best = max(best, x)
        hits.append(c)
    return Hit(_clip(best), len(hits), _delivery(hits)) if hits else None


def _status_in(status: str, statuses: Sequence[str]) -> bool:
    """``status`` is one of ``statuses`` (不属实 is not 属实)."""
    status = status.strip()
    if status.startswith("不") and not any(s.startswith("不") for s in statuses):
        return False
    return any(s in status for s in statuses)


FUNDRAISING_WORDS: tuple[str, ...] = PROMISE_WORDS + (
    "集资", "吸收存款", "吸存", "投资", "理财", "入股", "存款", "借款", "收益", "利息",
    "众筹", "募集", "返还", "养老", "回报", "本金", "传销",
)
"""Words that make a tip (举报) about fundraising rather than an ordinary complaint. Not 会员
alone: a membership card that cannot be refunded (预付卡 无法退卡) is a consumer dispute; an
elderly-care membership that promises returns names the returns (保本, 返利, 利息 …)."""
TIP_AMOUNT_BONUS = 0.25
"""Strength added to a fundraising tip that states the money involved (涉及金额): the caller
reports money already handed over (a victim's loss), not a rumour or an advertisement."""
OFF_TOPIC_TIP = 0.15
"""Strength factor of a tip whose text names no fundraising at all (wage arrears, noise …):
a verified consumer complaint is not evidence of illegal fundraising."""


def _tip_text(t: Mapping[str, Any]) -> str:
    return str(first(t, "summary", "content", "内容摘要") or text_of(t))


def _tips(statuses: Sequence[str]) -> Callable[[Facts, Context], Hit | None]:
    def fn(f: Facts, ctx: Context) -> Hit | None:
        hits = [t for t in f.of("tips")
                if _status_in(str(first(t, "status", "核查状态") or ""), statuses)]
        if not hits:
            return None
        on_topic = [t for t in hits if any(w in _tip_text(t) for w in FUNDRAISING_WORDS)]
        promise = any(w in _tip_text(t) for t in on_topic for w in PROMISE_WORDS)
        money = any((num(t, "amount_wan", "amount") or 0.0) > 0 for t in on_topic)
        n = len(on_topic)
        if n:
            x = _clip(0.5 + 0.25 * (n - 1) + (0.25 if promise else 0.0)
                      + (TIP_AMOUNT_BONUS if money else 0.0))
        else:
            x = OFF_TOPIC_TIP * _clip(0.5 + 0.25 * (len(hits) - 1))
        return Hit(x, f"{n}/{len(hits)}", _delivery(on_topic or hits))
    return fn


BANK_PATTERNS: dict[str, float] = {
    "分散转入集中转出": 1.0, "定期批量小额转出": 0.85, "快进快出": 0.45, "其他": 0.2,
}
"""Strength per alert pattern. Collecting from many and moving out in bulk (分散转入集中转出)
and regular batches of small payouts (定期批量小额转出: "interest") are the fundraising shapes;
fast in-fast out (快进快出) and other alerts are generic anti-money-laundering patterns that
trade, logistics and construction accounts trip routinely, so they only corroborate."""


def bank_alert(f: Facts, ctx: Context) -> Hit | None:
    best, hits = 0.0, []
    for a in f.of("bank"):
        pattern = str(first(a, "pattern", "异动特征") or "")
        x = next((v for k, v in BANK_PATTERNS.items() if k in pattern), BANK_PATTERNS["其他"])
        cps = num(a, "in_counterparties", "counterparties", "in_parties") or 0.0
        x = x * (0.7 + 0.3 * _clip(cps / 50))
        best = max(best, x)
        hits.append(a)
    return Hit(best, len(hits), _delivery(hits)) if hits else None


def ads_promise(f: Facts, ctx: Context) -> Hit | None:
    words: set[str] = set()
    hits = []
    for ad in f.of("ads"):
        text = text_of(ad)
        found = {w for w in PROMISE_WORDS if w in text}
        if found:
            words |= found
            hits.append(ad)
    if not hits:
        return None
    return Hit(_clip(0.5 + 0.25 * (len(words) - 1)), "、".join(sorted(words)[:5]),
               _delivery(hits))


CONSUMER_SECTIONS = ("P", "H")
"""GB/T 4754 sections whose customers pay them directly (education, hotels and catering)."""
CONSUMER_DIVISIONS = ("F52", "O80", "R88", "R89")
"""Retail, household services, sports and entertainment."""
CONSUMER_DAMP = 0.3
CONSUMER_TICKET_YUAN = 5_000.0
"""A median paid per payer at or below this is what customers pay (fees of a care home, a
shop's regulars), not what investors put in."""
DEPOSIT_TICKET_YUAN = 20_000.0
"""A median paid per payer from this up is investment-sized (the tickets of wealth products,
memberships and P2P lending run to tens of thousands of yuan a person)."""
CONSUMER_TICKET_FLOOR = 0.2
"""Share of its strength ``bank.many_payers`` keeps for consumer-sized payments."""


def ticket_factor(amounts: Sequence[float]) -> float:
    """How investment-sized the payments are: 1 when the median paid per payer is at least
    :data:`DEPOSIT_TICKET_YUAN`, :data:`CONSUMER_TICKET_FLOOR` at or below
    :data:`CONSUMER_TICKET_YUAN`, on a log scale between. Many people paying a firm a few
    thousand yuan each are its customers; many paying tens of thousands each are depositors.
    (Demo city, scale 1, seed 47: hard negatives in the top k 0.062 → 0.051, the care homes and
    shops whose customers pay a few thousand yuan each leaving it; seeds 11/23 unchanged.)"""
    if not amounts:
        return 1.0
    median = sorted(amounts)[len(amounts) // 2]
    if median >= DEPOSIT_TICKET_YUAN:
        return 1.0
    if median <= CONSUMER_TICKET_YUAN:
        return CONSUMER_TICKET_FLOOR
    share = math.log(median / CONSUMER_TICKET_YUAN) / math.log(DEPOSIT_TICKET_YUAN
                                                                / CONSUMER_TICKET_YUAN)
    return CONSUMER_TICKET_FLOOR + (1.0 - CONSUMER_TICKET_FLOOR) * share


def many_small_payers(f: Facts, ctx: Context) -> Hit | None:
    """Natural persons paying in (at most 200,000 yuan each: members of the public, not
    institutions), weighed by how investment-sized their payments are (:func:`ticket_factor`)."""
    payers = {p["node"]: p for p in f.payers}
    if len(payers) < 5:
        return None
    amounts = [num(p, "amount_yuan", "amount") or 0.0 for p in payers.values()]
    small_amounts = [a for a in amounts if a <= 200_000]
    small = len(small_amounts)
    if small < 5:
        return None
    x = _clip((small - 3) / 27) * ticket_factor(small_amounts)
    code = str(f.ent.get("industry_code") or "").strip().upper()
    if code[:1] in CONSUMER_SECTIONS or code[:3] in CONSUMER_DIVISIONS:
        x *= CONSUMER_DAMP  # schools, shops, restaurants: many small customers are normal
    return Hit(x, small, _delivery(list(payers.values())))


INDICATORS: tuple[Indicator, ...] = (
    Indicator("reg.key_sector",
              "非持牌企业经营范围涉及重点领域（投资理财、资产管理、私募、众筹、养老等）",
              "Non-licensed firm with a key-sector business scope", "registration", 0.30,
              key_sector),
    Indicator("reg.capital_gap", "认缴注册资本远高于实缴", "Subscribed capital far above paid-in",
              "registration", 0.15, capital_gap),
    Indicator("reg.young_outsized", "新设企业注册资本畸高或分支机构多",
              "Young firm with outsized capital or many branches", "registration", 0.25,
              young_outsized, until=young_outsized_until),
    Indicator("reg.frequent_changes", "频繁变更法定代表人、住所或经营范围",
              "Frequent changes of legal representative, address or scope", "registration", 0.20,
              frequent_changes, until=frequent_changes_until),
    Indicator("tax.abnormal", "税务非正常户", "Tax status 'abnormal taxpayer'", "tax", 0.06,
              tax_abnormal),
    Indicator("tax.grade_d", "纳税信用等级D级", "Tax credit grade D", "tax", 0.05, tax_grade_d),
    Indicator("tax.zero_filing", "长期零申报", "Many months of zero tax filings", "tax", 0.04,
              tax_zero_filing),
    Indicator("tax.thin_operation", "营业收入或社保人数与规模不符",
              "Revenue or insured staff tiny for the claimed scale", "tax", 0.06,
              tax_thin_operation),
    Indicator("credit.dishonest", "失信被执行人", "Listed as dishonest judgment debtor", "credit",
              0.15, _listing(("失信被执行人",))),
    Indicator("credit.abnormal_ops", "列入经营异常名录", "On the abnormal-operations list",
              "credit", 0.08, _listing(("经营异常",))),
    Indicator("credit.serious", "严重违法失信名单或重大税收违法失信主体",
              "On the serious-violation or major tax-violation list", "credit", 0.15,
              _listing(("严重违法", "重大税收违法"))),
    Indicator("credit.overdue", "贷款逾期", "Overdue loans", "credit", 0.15, credit_overdue),
    Indicator("credit.compensation", "担保代偿", "Guarantees paid out on its behalf", "credit",
              0.15, credit_compensation),
    Indicator("court.lending_defendant", "民间借贷/借款合同纠纷被告",
              "Defendant in private-lending cases", "court", 0.35, court_lending),
    Indicator("court.many_plaintiffs", "短期内多名自然人原告起诉（民间借贷）",
              "Many distinct natural-person plaintiffs within a window", "court", 0.85,
              court_plaintiffs),
    Indicator("court.enforcement", "被执行/终结本次执行", "Enforcement or terminated enforcement",
              "court", 0.20, court_enforcement),
    Indicator("court.criminal", "涉非法集资等刑事案件",
              "Criminal case (illegal fundraising, fraud)", "court", 0.90, court_criminal),
    Indicator("police.clue", "公安经侦线索涉及", "Named in a police clue or case", "police", 0.92,
              police_clue),
    Indicator("tips.verified", "举报经核查属实", "Public tip verified true", "tips", 0.70,
              _tips(("属实",))),
    # a pending tip is often the first and only trace of an early scheme: one naming promised
    # returns (strength 0.75+) scores 0.375 on its own, an off-topic complaint 0.04
    Indicator("tips.pending", "举报待核查", "Public tip awaiting verification", "tips", 0.50,
              _tips(("待核查", "核查中"))),
    Indicator("bank.alert", "可疑资金异动（分散转入集中转出等）", "Suspicious account pattern",
              "bank", 0.55, bank_alert),
    Indicator("ads.promise", "广告含高息、保本、返利等承诺",
              "Ads promising high or guaranteed returns", "ads", 0.80, ads_promise),
    Indicator("bank.many_payers", "大量自然人小额转入", "Many small payments from natural persons",
              "bank", 0.60, many_small_payers),
)
"""Every direct indicator of the model."""

_NEEDS_BY_PREFIX: dict[str, tuple[str, ...]] = {
    "reg.frequent_changes": ("changes",), "tax.": ("tax",),
    "credit.overdue": ("credit_report",), "credit.compensation": ("credit_report",),
    "credit.": ("credit_list",), "court.": ("court",), "police.": ("police",),
    "tips.": ("tips",), "bank.alert": ("bank",), "bank.many_payers": ("payers",),
    "ads.": ("ads",),
}
INDICATORS = tuple(
    replace(i, needs=next((v for k, v in _NEEDS_BY_PREFIX.items() if i.id.startswith(k)), ()))
    for i in INDICATORS)

INDICATOR_BY_ID: dict[str, Indicator] = {i.id: i for i in INDICATORS}
DATED: tuple[Indicator, ...] = tuple(i for i in INDICATORS if i.until is not None)
"""The indicators that read the reference date."""
MODEL_VERSION = "rg-direct-5"


def weights(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """Indicator id → weight (the declared ones, replaced by calibrated ``overrides``)."""
    out = {i.id: i.weight for i in INDICATORS}
    for k, v in (overrides or {}).items():
        if k in out:
            out[k] = float(v)
    return out


LICENSED_EXEMPT = frozenset({"reg.capital_gap", "reg.young_outsized", "bank.many_payers",
                             "bank.alert"})
"""Indicators that do not apply to a licensed financial institution: its capital is set and
checked by the regulator, and many small payments from natural persons (depositors, borrowers
repaying) and pooled inflows are its licensed business, not a sign of illegal deposit-taking."""


BRANCH_SUFFIXES = ("分公司", "分行", "支行", "营业部", "分店", "办事处")
BRANCH_EXEMPT = frozenset({"reg.key_sector", "reg.capital_gap", "reg.young_outsized"})
"""A branch (分支机构) has no capital and no scope of its own: its registration signals are its
head office's, which reach it through BRANCH_OF; counting them again on the branch would only
echo the head office's own registration back to it."""


def is_branch(name: str) -> bool:
    return name.strip().endswith(BRANCH_SUFFIXES)


UNCORROBORATED = 0.6
"""Factor on the strength of registration indicators that no other source family corroborates."""
SELF_DECLARED = frozenset({"reg.key_sector", "reg.young_outsized", "reg.capital_gap",
                           "reg.frequent_changes"})
"""Indicators read from the registration record alone (see :func:`corroborate`)."""
CORROBORATING_SOURCES = frozenset({"court", "police", "tips", "bank", "ads", "credit", "tax"})
"""Source families whose evidence corroborates the registration indicators."""
DORMANCY: frozenset[str] = frozenset({"tax.zero_filing", "tax.abnormal", "tax.grade_d",
                                      "credit.abnormal_ops"})
"""Indicators that say a firm is dormant (files nothing, cannot be reached: the picture of the
many shells registered with a finance-sounding scope and never used) rather than that it is
active and raising money: they do not corroborate registration facts."""


DORMANT_ALIKE: frozenset[str] = frozenset({"tax.thin_operation"})
"""Indicators that a dormant firm shows too: tiny revenue and no insured staff for its
registered capital are what a shell that files zero or cannot be reached reports. Beside a
:data:`DORMANCY` signal they are the same picture and corroborate nothing; alone (a firm that
files and trades, thinly for its size) they do. (Demo city, scale 1, seed 47: hard negatives
in the top k 0.051 → 0.045; seeds 11/23 unchanged.)"""


DISTRESS: frozenset[str] = frozenset({"credit.dishonest", "credit.abnormal_ops", "credit.serious",
                                      "credit.overdue", "credit.compensation",
                                      "court.enforcement"})
"""Indicators that say a firm is failing (debts owed to banks and creditors: overdue loans,
guarantees paid out, enforcement, credit listings) rather than that it takes money from the
public: they do not corroborate registration facts either. A finance-sounding firm that owes
its bank is an ordinary failing firm; one that takes the public's money shows it in lawsuits by
private lenders, tips, ads, police clues or account patterns (seed 11/23: P@k .764/.813 →
.770/.818, early recall .554/.595 → .566/.608)."""


def corroborate(hits: Mapping[str, Hit]) -> dict[str, Hit]:
    """Registration facts need corroboration: thousands of legitimate consultancies, fund
    managers and elderly-care firms carry key-sector words in their 经营范围, and subscribed
    capital, youth and changes are what the firm chose to register. Without evidence from
    another source family (:data:`CORROBORATING_SOURCES`, :data:`DORMANCY` and
    :data:`DISTRESS` signals excepted, and :data:`DORMANT_ALIKE` ones beside a dormancy
    signal) the :data:`SELF_DECLARED` indicators count :data:`UNCORROBORATED` of their
    strength; with it they count fully."""
    dormant = not DORMANCY.isdisjoint(hits)
    if any(INDICATOR_BY_ID[k].source in CORROBORATING_SOURCES and k not in DORMANCY
           and k not in DISTRESS and not (dormant and k in DORMANT_ALIKE) for k in hits):
        return dict(hits)
    return {k: (Hit(h.strength * UNCORROBORATED, h.value, h.delivery) if k in SELF_DECLARED
                else h) for k, h in hits.items()}


def evaluate(f: Facts, ctx: Context) -> dict[str, Hit]:
    """Every indicator that fires for one enterprise (after :func:`corroborate`)."""
    return corroborate(evaluate_raw(f, ctx))


def evaluate_raw(f: Facts, ctx: Context) -> dict[str, Hit]:
    """Every indicator that fires for one enterprise, each on its own evidence."""
    out: dict[str, Hit] = {}
    present = set(f.by_kind)
    if f.payers:
        present.add("payers")
    name = str(f.ent.get("name") or "")
    licensed = is_licensed(name, str(f.ent.get("scope") or ""))
    skip = (LICENSED_EXEMPT if licensed else frozenset()) | (
        BRANCH_EXEMPT if is_branch(name) else frozenset())
    for ind in INDICATORS:
        if ind.needs and present.isdisjoint(ind.needs):
            continue
        if ind.id in skip:
            continue
        hit = ind.fn(f, ctx)
        if hit is not None and hit.strength > 0:
            out[ind.id] = Hit(_clip(hit.strength), hit.value, hit.delivery)
    return out


def evaluate_raw_until(f: Facts, ctx: Context) -> tuple[dict[str, Hit], date | None]:
    """:func:`evaluate_raw` and the first reference date from which it may give another
    result on the same facts (``None``: never): the earliest ``until`` of the date-dependent
    indicators (also of those the enterprise is exempt from: earlier is only cautious)."""
    hits = evaluate_raw(f, ctx)
    ends = [d for d in (i.until(f, ctx) for i in DATED if i.until) if d is not None]
    return hits, min(ends) if ends else None


def noisy_or(hits: Mapping[str, Hit], w: Mapping[str, float]) -> float:
    """``1 - prod(1 - w_i x_i)`` in [0, 1]."""
    q = 1.0
    for k, h in hits.items():
        q *= 1.0 - w.get(k, 0.0) * h.strength
    return 1.0 - q


def contributions(hits: Mapping[str, Hit], w: Mapping[str, float], total: float
                  ) -> dict[str, float]:
    """Score points (0-100) per indicator, summing to ``total`` (log-share of the noisy-OR)."""
    logs = {k: -math.log1p(-min(w.get(k, 0.0) * h.strength, 1 - 1e-12))
            for k, h in hits.items()}
    s = sum(logs.values())
    if s <= 0:
        return {k: 0.0 for k in hits}
    return {k: total * v / s for k, v in logs.items()}
