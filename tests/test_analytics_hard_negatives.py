"""Hard negatives: licensed institutions and ordinary corporate groups must not look like
fundraising schemes (tiny hand-checkable graphs, no Neo4j)."""

from __future__ import annotations

from datetime import date

from analytics import propagation as prop
from analytics import scoring, sectors
from analytics.projection import Projection, empty_projection
from riskgraph.settings import Settings


def ent(p: Projection, key: str, name: str, **props: object) -> int:
    return p.add_node("Enterprise", key, {"name": name, "county": "410502",
                                          "delivery": "20240630", **props})


def police(p: Projection, e: int, clue: str) -> None:
    c = p.add_node("PoliceClue", clue, {"status": "已立案", "amount_wan": 3000,
                                        "investors": 400, "delivery": "20240630"})
    p.graph.add_edge(e, c, key="SUBJECT_OF", role="嫌疑单位")


def test_licensed_bank_gets_no_capital_gap_or_payer_signals() -> None:
    """A rural commercial bank's capital is set by its regulator: no capital-gap hit, while
    an ordinary firm with the same figures gets one."""
    p = empty_projection()
    capital = {"reg_capital_wan": 50000, "paid_capital_wan": 1000}
    ent(p, "91410502BANK00000A", "安阳某某农村商业银行股份有限公司", **capital)
    ent(p, "91410502FIRM00000B", "安阳某某商贸有限公司", **capital)
    by = {r.uscc: r for r in scoring.compute(p, Settings()).records}
    assert "reg.capital_gap" not in by["91410502BANK00000A"].reasons
    assert "reg.capital_gap" in by["91410502FIRM00000B"].reasons
    assert by["91410502BANK00000A"].score < by["91410502FIRM00000B"].score


def test_parallel_ties_between_two_firms_count_once() -> None:
    """A subsidiary that also pays its parent is one tie, not two independent ones: it gets
    the same linked risk as with the ownership tie alone."""
    def build(with_pays: bool) -> float:
        p = empty_projection()
        a = ent(p, "91410502AAAAAAAA0A", "甲公司")
        b = ent(p, "91410502BBBBBBBB0B", "乙公司")
        police(p, a, "J1")
        p.graph.add_edge(a, b, key="SHAREHOLDER_OF", ratio=100)
        if with_pays:
            p.graph.add_edge(a, b, key="PAYS")
        la = prop.link_arrays(p)
        assert len(la.ee_src) == 2  # one edge each way
        by = {r.uscc: r.score for r in scoring.compute(p, Settings()).records}
        return by["91410502BBBBBBBB0B"]

    assert build(True) == build(False) > 0


def test_branch_does_not_echo_head_office_registration() -> None:
    """A branch of a key-sector firm carries no registration signal of its own, so it does not
    raise its head office by echoing the head office's own scope back to it."""
    p = empty_projection()
    head = ent(p, "91410502HEAD00000A", "安阳某某投资管理有限公司", scope="投资管理；资产管理")
    br = ent(p, "91410502HEAD00001B", "安阳某某投资管理有限公司文峰分公司",
             scope="投资管理；资产管理")
    p.graph.add_edge(br, head, key="BRANCH_OF")
    by = {r.uscc: r for r in scoring.compute(p, Settings()).records}
    assert "reg.key_sector" in by["91410502HEAD00000A"].reasons
    assert "reg.key_sector" not in by["91410502HEAD00001B"].reasons
    assert by["91410502HEAD00000A"].explanation["linked"] == 0


def test_private_fund_manager_is_not_a_licensed_institution() -> None:
    """A 股权投资基金管理 firm is only registered (备案), not licensed: its key-sector scope
    counts, while a public fund company (基金管理有限公司) stays exempt."""
    from analytics import indicators as ind
    from analytics import sectors

    assert sectors.is_licensed("某某基金管理有限公司")
    assert not sectors.is_licensed("安阳市某某股权投资基金管理有限公司")
    assert not ind.is_licensed("安阳市某某股权投资基金管理有限公司", "私募股权投资基金管理")
    p = empty_projection()
    ent(p, "91410502PEFM00000A", "安阳市某某股权投资基金管理有限公司",
        scope="私募股权投资基金管理、创业投资基金管理服务")
    rec = scoring.compute(p, Settings()).records[0]
    assert "reg.key_sector" in rec.reasons


def test_plain_cooperative_weighs_less_than_deposit_taking_one() -> None:
    """A 农民专业合作社 is in the agriculture sector by type (routing), but only one that takes
    members' money (资金互助, 信用合作) carries the full key-sector signal."""
    from analytics import indicators as ind
    from analytics.facts import Facts

    ctx = ind.Context(as_of=date(2026, 10, 31))
    coop = {"ent_type": "农民专业合作社"}
    plain = Facts(0, "X", {**coop, "name": "某某蔬菜种植专业合作社", "scope": "蔬菜种植、销售"})
    money = Facts(1, "Y", {**coop, "name": "某某种植专业合作社",
                           "scope": "蔬菜种植；组织社员开展资金互助"})
    hp, hm = ind.key_sector(plain, ctx), ind.key_sector(money, ctx)
    assert hp is not None and hm is not None and hp.strength < hm.strength
    assert sectors.route("蔬菜种植", "农民专业合作社")[1] == "农业农村部门"


def test_rural_credit_cooperative_is_licensed() -> None:
    assert sectors.is_licensed("某某县农村信用合作联社")
    assert sectors.is_licensed("某某市城郊信用社")
    assert not sectors.is_licensed("某某蔬菜种植专业合作社")
