"""Unit tests of the vectorised analytics passes and the domain refinements of indicators
(tiny hand-checkable graphs, no Neo4j)."""

from __future__ import annotations

from datetime import date
from itertools import combinations

import numpy as np
import pytest

from analytics import groups as grp
from analytics import indicators as ind
from analytics import propagation as prop
from analytics import regions
from analytics.facts import Facts, gather
from analytics.projection import add_node_lists, add_rel_lists, empty_projection

CTX = ind.Context(as_of=date(2024, 6, 30))


def _facts(ent: dict | None = None, **kinds: list[dict]) -> Facts:
    f = Facts(0, "X", ent or {"name": "某某公司"})
    for k, v in kinds.items():
        f.by_kind[k] = [{"role": "", "_node": i + 1, **x} for i, x in enumerate(v)]
    return f


def test_off_topic_verified_tip_is_weak() -> None:
    wage = _facts(tips=[{"status": "属实", "summary": "反映该公司拖欠员工工资3个月。"}])
    fund = _facts(tips=[{"status": "属实", "summary": "该公司承诺高息，招揽群众投资。"}])
    fn = ind.INDICATOR_BY_ID["tips.verified"].fn
    weak, strong = fn(wage, CTX), fn(fund, CTX)
    assert weak is not None and strong is not None
    assert weak.strength < 0.1 and strong.strength >= 0.75


def test_police_clue_other_crime_is_weaker() -> None:
    fn = ind.INDICATOR_BY_ID["police.clue"].fn
    fr = fn(_facts(police=[{"status": "已立案", "crime": "非法吸收公众存款"}]), CTX)
    other = fn(_facts(police=[{"status": "已立案", "crime": "合同诈骗"}]), CTX)
    assert fr is not None and other is not None and other.strength < 0.5 * fr.strength


def test_licensed_local_finance_not_key_sector() -> None:
    fn = ind.INDICATOR_BY_ID["reg.key_sector"].fn
    lic = _facts({"name": "安阳市某某小额贷款有限公司",
                  "scope": "发放小额贷款；提供财务咨询（凭有效许可证经营）"})
    bad = _facts({"name": "安阳市某某财富管理有限公司", "scope": "投资理财；资产管理"})
    assert fn(lic, CTX) is None
    hit = fn(bad, CTX)
    assert hit is not None and hit.strength == 1.0


def test_many_payers_damped_for_schools() -> None:
    payers = [{"node": 100 + i, "amount_yuan": 5000.0} for i in range(40)]
    school = _facts({"name": "某培训学校", "industry_code": "P8393"})
    school.payers = payers
    firm = _facts({"name": "某投资公司", "industry_code": "L7212"})
    firm.payers = payers
    fn = ind.INDICATOR_BY_ID["bank.many_payers"].fn
    a, b = fn(school, CTX), fn(firm, CTX)
    assert a is not None and b is not None and a.strength < 0.5 * b.strength


def test_indicators_skip_absent_sources() -> None:
    assert all(i.needs for i in ind.INDICATORS if not i.id.startswith("reg.")
               or i.id == "reg.frequent_changes")
    assert ind.evaluate(_facts(), CTX) == {}


def _random_projection(seed: int = 3, n_e: int = 60):
    rng = np.random.default_rng(seed)
    p = empty_projection()
    ents = [p.add_node("Enterprise", f"E{i}", {"county": "410502"}) for i in range(n_e)]
    people = [p.add_node("Person", f"P{i}", {}) for i in range(40)]
    phones = [p.add_node("Phone", f"T{i}", {}) for i in range(10)]
    for e in ents:
        p.graph.add_edge(int(rng.choice(people)), e, key="LEGAL_REP_OF")
        p.graph.add_edge(int(rng.choice(people)), e, key="SHAREHOLDER_OF",
                         ratio=float(rng.uniform(0.1, 1)))
        if rng.random() < 0.5:
            p.graph.add_edge(e, int(rng.choice(phones)), key="HAS_PHONE")
        if rng.random() < 0.2:
            p.graph.add_edge(int(rng.choice(ents)), e, key="SHAREHOLDER_OF", ratio=0.6)
    return p


def _dict_links(la: prop.LinkArrays, control: dict) -> dict[tuple[int, int], float]:
    """Reference: the enterprise links as find_groups first built them, a dict keyed by
    node-id pairs, controller ties raised to 1 in place or appended in controller order."""
    out = {(int(la.ents[a]), int(la.ents[b])): w
           for (a, b), w in grp.enterprise_links(la).items()}
    by_ctl: dict[int, list[int]] = {}
    for e, c in control.items():
        by_ctl.setdefault(c.controller, []).append(e)
    for firms in by_ctl.values():
        firms.sort()
        for f in firms[1:]:
            out[(firms[0], f)] = max(out.get((firms[0], f), 0.0), 1.0)
    return out


def _shuffled_positions(la: prop.LinkArrays, seed: int) -> None:
    """Renumber the enterprise positions so that node ids no longer grow with them."""
    perm = np.random.default_rng(seed).permutation(len(la.ents))
    back = np.argsort(perm)
    la.ents = la.ents[perm]
    la.ce_e, la.ee_src, la.ee_dst = back[la.ce_e], back[la.ee_src], back[la.ee_dst]


def _links_case(seed: int, n_e: int) -> tuple:
    """A random projection, its link arrays (positions shuffled for odd seeds) and its
    controllers."""
    p = _random_projection(seed, n_e=n_e)
    la = prop.link_arrays(p)
    if seed % 2:
        _shuffled_positions(la, seed)
    return p, la, grp.controllers(p, 0.5)


def test_link_arrays_with_controller_ties_keep_the_dict_edges_in_order() -> None:
    raised = appended = 0
    for seed in range(8):
        p, la, control = _links_case(seed, 80)
        ref = _dict_links(la, control)
        pos = grp.enterprise_link_arrays(la)
        ents = np.asarray(la.ents, dtype=np.int64)
        plain = grp.Links(ents[pos.a], ents[pos.b], pos.w).as_dict()
        got = grp.with_controller_ties(grp.Links(ents[pos.a], ents[pos.b], pos.w), control)
        # same pairs, weights and order: igraph numbers the edges in this order
        assert list(got.as_dict().items()) == list(ref.items())
        raised += sum(1 for k in plain if ref[k] != plain[k])
        appended += len(ref) - len(plain)
    assert raised and appended  # both branches of the merge were exercised


def test_local_group_update_over_arrays_equals_the_dict_form() -> None:
    for seed in range(4):
        p, la, control = _links_case(seed, 120)
        digests: dict[str, str] = {}
        first = grp.find_groups(p, la, control, "leiden", None, None, digests)
        # one firm's links "changed" since the previous run: only it and its neighbours move
        changed = sorted(digests)[seed]
        prev = grp.LinkState({**digests, changed: "0"},
                             [sorted(p.keys[m] for m in g) for g in first])
        start = {str(i): set(g) for i, g in enumerate(prev.groups)}
        report: dict = {}
        got = grp.find_groups(p, la, control, "leiden", None, prev, None, report)
        assert report["movable"] < report["linked"]  # the local update ran
        # the reference in key order, where find_groups runs the detection
        order = grp.KeyOrder.of(p.keys, la.ents)
        ref = _ranked_dict_links(la, control, order)
        keys = order.keys
        free = grp.free_nodes(ref, grp.link_digests(ref, keys), prev.digests, keys)
        assert len(free) == report["movable"]
        initial = {int(order.rank[n]): c for n, c in grp.previous_membership(p, start).items()}
        want = grp.communities(sorted({n for k in ref for n in k}), ref, "leiden",
                               initial=initial, free=free)
        assert sorted(map(sorted, got)) == sorted(
            sorted(int(order.by_rank[r]) for r in c) for c in want if len(c) >= 2)


def _ranked_dict_links(la: prop.LinkArrays, control: dict, order: grp.KeyOrder
                       ) -> dict[tuple[int, int], float]:
    """:func:`_dict_links` over key ranks: pairs ``(low, high)`` sorted, weights rounded to
    12 places, then the controller ties (each firm to its controller's lowest-key firm)."""
    base = {}
    for (a, b), w in grp.enterprise_links(la).items():
        ra, rb = int(order.pos_rank[a]), int(order.pos_rank[b])
        base[(min(ra, rb), max(ra, rb))] = round(w, 12)
    out = dict(sorted(base.items()))
    by_ctl: dict[int, list[int]] = {}
    for e, c in control.items():
        by_ctl.setdefault(c.controller, []).append(int(order.rank[e]))
    for firms in by_ctl.values():
        firms.sort()
        for f in firms[1:]:
            out[(firms[0], f)] = max(out.get((firms[0], f), 0.0), 1.0)
    return out


def _linked_firms_content(seed: int, n_e: int) -> tuple[list, list]:
    """Nodes ``(label, key)`` and edges ``(from key, to key, type, props)`` of a random
    city of firms linked through people and phones (a few hubs, so groups touch)."""
    rng = np.random.default_rng(seed)
    nodes = ([("Enterprise", f"91410502{i:08d}X") for i in range(n_e)]
             + [("Person", f"P:{i:04d}") for i in range(n_e // 2)]
             + [("Phone", f"T:{i:03d}") for i in range(n_e // 8)])
    firms, people = nodes[:n_e], nodes[n_e:n_e + n_e // 2]
    phones = nodes[n_e + n_e // 2:]
    edges = []
    for _, f in firms:
        for rtype in ("LEGAL_REP_OF", "SHAREHOLDER_OF"):
            edges.append((people[int(rng.integers(len(people)))][1], f, rtype,
                          {"ratio": 0.4} if rtype == "SHAREHOLDER_OF" else {}))
        if rng.random() < 0.4:
            edges.append((f, phones[int(rng.integers(len(phones)))][1], "HAS_PHONE", {}))
    return nodes, edges


def _loaded_in_order(nodes: list, edges: list, order_seed: int):
    """A projection of ``nodes`` and ``edges`` added in an order shuffled by ``order_seed``
    (as two loads of the same data number their nodes differently)."""
    rng = np.random.default_rng(order_seed)
    p = empty_projection()
    ids = {}
    for i in rng.permutation(len(nodes)).tolist():
        label, key = nodes[i]
        ids[key] = p.add_node(label, key, {"county": "410502"} if label == "Enterprise" else {})
    for i in rng.permutation(len(edges)).tolist():
        u, v, rtype, props = edges[i]
        p.graph.add_edge(ids[u], ids[v], key=rtype, **props)
    return p


def _groups_by_key(p, **kw) -> set[frozenset[str]]:
    la = prop.link_arrays(p)
    found = grp.find_groups(p, la, grp.controllers(p, 0.5), "leiden", **kw)
    return {frozenset(p.keys[m] for m in g) for g in found}


def test_the_same_links_loaded_in_another_order_give_the_same_groups() -> None:
    """Leiden follows the order of its nodes and edges; node ids follow the load order. In
    key order (:class:`grp.KeyOrder`) the groups depend on the links alone."""
    nodes, edges = _linked_firms_content(5, 400)
    first = _loaded_in_order(nodes, edges, 0)
    want = _groups_by_key(first)
    assert len(want) > 10 and max(map(len, want)) > 5  # a partition with choices to make
    for order_seed in (1, 2, 3):
        again = _loaded_in_order(nodes, edges, order_seed)
        assert _groups_by_key(again) == want
        # a local update from the same previous groups is order-free as well
        digests: dict[str, str] = {}
        _groups_by_key(first, digests=digests)
        prev = grp.LinkState({**digests, sorted(digests)[7]: "0"},
                             [sorted(g) for g in want])
        assert _groups_by_key(again, previous_links=prev) == _groups_by_key(
            first, previous_links=prev)


def test_vectorised_links_match_pairwise_definition() -> None:
    p = _random_projection()
    la = prop.link_arrays(p)
    got = grp.enterprise_links(la, min_link=0.0)
    # reference: pairwise noisy-OR over shared connectors, max with direct edges
    free = {c: grp.FREE.get(str(la.conn_label[c]), 3.0) for c in range(len(la.conns))}
    members: dict[int, list[tuple[int, float]]] = {}
    for e, c, w in zip(la.ce_e.tolist(), la.ce_c.tolist(), la.ce_w.tolist(), strict=True):
        members.setdefault(c, []).append((e, w))
    ref: dict[tuple[int, int], float] = {}
    for c, m in members.items():
        if len(m) > grp.MAX_SHARED:
            continue
        d = min(1.0, free[c] / max(len(m), 1))
        for (a, wa), (b, wb) in combinations(m, 2):
            if a != b:
                k = (min(a, b), max(a, b))
                ref[k] = 1 - (1 - ref.get(k, 0.0)) * (1 - wa * wb * d)
    for s, t, w in zip(la.ee_src.tolist(), la.ee_dst.tolist(), la.ee_w.tolist(), strict=True):
        if s != t:
            k = (min(s, t), max(s, t))
            ref[k] = max(ref.get(k, 0.0), w)
    assert set(got) == {k for k, v in ref.items() if v >= 0.0}
    assert max(abs(got[k] - ref[k]) for k in ref) < 1e-9


def test_link_arrays_one_edge_per_pair_strongest_role() -> None:
    p = empty_projection()
    a = p.add_node("Enterprise", "A", {})
    x = p.add_node("Person", "X", {})
    p.graph.add_edge(x, a, key="OFFICER_OF")
    p.graph.add_edge(x, a, key="LEGAL_REP_OF")
    p.graph.add_edge(x, a, key="SHAREHOLDER_OF", ratio=0.1, ended="2024-01-01")
    la = prop.link_arrays(p)
    assert len(la.ce_e) == 1 and la.ce_t[0] == "LEGAL_REP_OF"
    assert la.ce_w[0] == prop.WEIGHTS["LEGAL_REP_OF"]


def _tie_projection(reverse: bool):
    """One person who is legal rep (0.6) and 50 % shareholder (0.3 + 0.6 * 0.5 = 0.6) of A,
    and a firm that both owns and pays B, plus a few links; edges added in either order."""
    p = empty_projection()
    a, b, c = (p.add_node("Enterprise", k, {}) for k in "ABC")
    x, y = p.add_node("Person", "X", {}), p.add_node("Phone", "T", {})
    edges = [(x, a, "SHAREHOLDER_OF", {"ratio": 0.5}), (x, a, "LEGAL_REP_OF", {}),
             (c, b, "SHAREHOLDER_OF", {"ratio": 1.0}), (c, b, "BRANCH_OF", {}),
             (b, y, "HAS_PHONE", {}), (c, y, "HAS_PHONE", {}), (x, c, "OFFICER_OF", {})]
    for u, v, k, d in (reversed(edges) if reverse else edges):
        p.graph.add_edge(u, v, key=k, **d)
    return p


def test_link_arrays_do_not_depend_on_edge_order() -> None:
    one, two = prop.link_arrays(_tie_projection(False)), prop.link_arrays(_tie_projection(True))
    for name in ("ce_e", "ce_c", "ce_w", "ce_t", "ee_src", "ee_dst", "ee_w", "ee_t"):
        assert getattr(one, name).tolist() == getattr(two, name).tolist(), name
    # equal weights: the tie goes by TIE_ORDER (a legal rep names the tie, a branch too)
    assert prop.WEIGHTS["LEGAL_REP_OF"] == 0.3 + prop.RATIO_WEIGHT * 0.5
    assert one.ce_t.tolist()[:1] == ["LEGAL_REP_OF"] and one.ce_e.tolist()[0] == 0
    assert "BRANCH_OF" in one.ee_t.tolist() and one.ee_t.tolist().count("SHAREHOLDER_OF") == 0
    assert one.ce_e.tolist() == sorted(one.ce_e.tolist())


def test_controllers_pick_largest_effective_share() -> None:
    p = empty_projection()
    a, b, c = (p.add_node("Enterprise", k, {}) for k in "ABC")
    x, y = p.add_node("Person", "X", {}), p.add_node("Person", "Y", {})
    p.graph.add_edge(x, a, key="SHAREHOLDER_OF", ratio=80)
    p.graph.add_edge(y, a, key="SHAREHOLDER_OF", ratio=20)
    p.graph.add_edge(a, b, key="SHAREHOLDER_OF", ratio=0.7)
    p.graph.add_edge(y, b, key="SHAREHOLDER_OF", ratio=0.3)
    p.graph.add_edge(y, c, key="SHAREHOLDER_OF", ratio=0.4)
    ctl = grp.controllers(p, 0.5)
    assert ctl[a].controller == x and abs(ctl[a].share - 0.8) < 1e-9
    assert ctl[b].controller == x and abs(ctl[b].share - 0.56) < 1e-9
    assert c not in ctl


def test_masked_party_region_from_id_prefix() -> None:
    assert regions.person_region({"id_masked": "410502********1234"}) == "410502"
    assert regions.person_region({"region": "410503", "id_masked": "410502****"}) == "410503"
    assert regions.person_region({"id_masked": "********"}) == ""


def test_compact_rows_build_the_same_projection() -> None:
    p = empty_projection()
    add_node_lists(p, "Enterprise", [["E1", "甲公司", None, "张三"], [None, "x"]])
    add_node_lists(p, "Person", [["P1", "张三", "张*", "410502"]])
    add_node_lists(p, "CourtCase", [["C1", {"cause": "民间借贷纠纷", "file": "x.csv"}]])
    add_rel_lists(p, "LEGAL_REP_OF", "Person", "Enterprise", [["P1", "E1", None, "20240630"],
                                                               ["P9", "E1", None, None]],
                  ("ended", "delivery"))
    add_rel_lists(p, "PARTY_TO", "Enterprise", "CourtCase", [["E1", "C1", None, None, "被告"]],
                  ("ended", "delivery", "role"))
    assert p.keys == ["E1", "P1", "C1"]
    assert p.graph.nodes[0] == {"label": "Enterprise", "key": "E1", "name": "甲公司",
                                "legal_rep": "张三"}
    assert p.graph.nodes[2] == {"label": "CourtCase", "key": "C1", "cause": "民间借贷纠纷"}
    assert p.graph.number_of_edges() == 2
    f = gather(p)[0]
    assert f.of("court")[0]["role"] == "被告"
    assert p.edges_by_type()["LEGAL_REP_OF"][2] == [{"delivery": "20240630"}]


def test_has_text_finds_what_text_of_finds() -> None:
    from analytics.facts import has_text, num, text_of

    fact = {"status": "正常", "notes": ["税务", "非正常户认定"], "year": 2024, "x": None}
    for needle in ("非正常", "正常", "税务", "认定", "欠税"):
        assert has_text(fact, needle) == (needle in text_of(fact)), needle
    # num: the exact name first, then a key containing one of the names
    assert num({"revenue_yuan": None, "annual_revenue": "12.5"}, "revenue_yuan", "revenue") == 12.5
    assert num({"staff_count": "x", "staff": 3}, "staff") == 3.0
    assert num({"other": 1}, "staff") is None


def test_tax_indicators_read_the_two_latest_years_once() -> None:
    f = _facts(tax=[{"year": "2021", "status": "非正常户"},
                    {"year": "2023", "status": "正常", "credit_grade": "D"},
                    {"year": "2024", "status": "正常", "zero_months": 12}])
    ctx = ind.Context(as_of=date(2025, 1, 1))
    assert ind.tax_abnormal(f, ctx) is None  # 2021 is not among the two latest years
    assert ind.tax_grade_d(f, ctx) is not None and ind.tax_zero_filing(f, ctx) is not None
    assert [t["year"] for t in f.memo["latest_tax"]] == ["2024", "2023"]
    f.by_kind["tax"][0]["year"] = "2025"  # the memo is per evaluation: facts do not change
    assert ind.tax_abnormal(f, ctx) is None


def test_tax_indicators_read_only_what_is_current() -> None:
    """An ended tax year counts for nothing and does not hide an older current one; a year
    whose 纳税人信息 part a full snapshot ended keeps only its declaration (and vice versa)."""
    f = _facts(tax=[{"year": "2024", "tax_status": "非正常户", "credit_grade": "D",
                     "zero_months": 8, "ended_taxpayer": "2024-02-01"},
                    {"year": "2023", "tax_status": "非正常户", "zero_months": 12,
                     "ended": "2024-02-01"},
                    {"year": "2022", "credit_grade": "D", "zero_months": 20,
                     "ended_declaration": "2024-03-01"}])
    ctx = ind.Context(as_of=date(2025, 1, 1))
    assert ind.tax_abnormal(f, ctx) is None  # 2024's status ended, 2023 ended whole
    assert [t["year"] for t in f.memo["latest_tax"]] == ["2024", "2022"]
    grade = ind.tax_grade_d(f, ctx)
    assert grade is not None and grade.value == "D"  # 2022's grade is still current
    zero = ind.tax_zero_filing(f, ctx)
    assert zero is not None and zero.value == "8月"  # 2024's declaration; 2022's has ended
    assert ind.current_tax({"year": "2021", "zero_months": 9, "edge_ended": "x"}) is None


def test_link_edges_skip_the_delivery_fact_edges_keep_it() -> None:
    from analytics.facts import FACT_EDGES
    from analytics.projection import LINK_ONLY_TYPES, REL_TYPES, rel_props

    assert rel_props("LEGAL_REP_OF") == ("ended",)
    assert rel_props("SHAREHOLDER_OF") == ("ended", "ratio", "holder_type")
    for t in REL_TYPES:  # facts and money flows keep it (indicators name the delivery)
        assert ("delivery" in rel_props(t)) == (t not in LINK_ONLY_TYPES)
    assert not LINK_ONLY_TYPES & set(FACT_EDGES) and "PAYS" not in LINK_ONLY_TYPES


@pytest.mark.parametrize("median, factor", [
    (3_000.0, 0.2), (5_000.0, 0.2), (10_000.0, 0.6), (20_000.0, 1.0), (150_000.0, 1.0)])
def test_ticket_factor_by_hand(median: float, factor: float) -> None:
    """Log scale from CONSUMER_TICKET_YUAN (floor) to DEPOSIT_TICKET_YUAN (1): 10,000 yuan is
    half way (0.2 + 0.8 * 0.5)."""
    amounts = [median * 0.5, median, median * 2]
    assert ind.ticket_factor(amounts) == pytest.approx(factor)


def test_many_customers_paying_fees_are_not_depositors() -> None:
    """Sixty people paying a care home a few thousand yuan each are its residents; sixty
    paying tens of thousands each into the same kind of firm are depositors."""
    fn = ind.INDICATOR_BY_ID["bank.many_payers"].fn
    home = _facts({"name": "某老年公寓", "industry_code": "Q8514"})
    home.payers = [{"node": 100 + i, "amount_yuan": 3_000.0 + 30 * i} for i in range(60)]
    scheme = _facts({"name": "某养老服务有限公司", "industry_code": "Q8514"})
    scheme.payers = [{"node": 100 + i, "amount_yuan": 60_000.0 + 500 * i} for i in range(60)]
    fees, deposits = fn(home, CTX), fn(scheme, CTX)
    assert deposits is not None and deposits.strength == pytest.approx(1.0)
    assert fees is not None and fees.strength == pytest.approx(ind.CONSUMER_TICKET_FLOOR)


def test_rel_attrs_decoder_keeps_the_non_null_properties_of_any_row() -> None:
    from itertools import product

    from analytics.projection import rel_attrs_decoder

    for props in ((), ("ended",), ("ended", "role"), ("ended", "ratio", "holder_type"),
                  ("ended", "delivery", "amount_yuan", "count")):
        decode = rel_attrs_decoder(props)
        for values in product((None, 0, "x"), repeat=len(props)):
            row = [7, 1, 2, *values]
            want = {k: v for k, v in zip(props, values, strict=True) if v is not None}
            assert decode(row) == want, (props, values)
        # a row cut short (or longer) is read as far as it goes
        assert decode([7, 1, 2]) == {}
        if props:
            assert decode([7, 1, 2, "e"]) == {props[0]: "e"}


def test_nonnull_picker_reads_node_rows_of_every_projected_label() -> None:
    """The generated picker equals a comprehension over the row for each label's declared
    properties, with null values left out, for full, short and long rows."""
    import random

    from analytics.projection import KEEP_PROPS, nonnull_picker

    rnd = random.Random(16)
    for label, keep in KEEP_PROPS.items():
        pick = nonnull_picker(keep, 2)
        for width in (len(keep), len(keep) - 1, len(keep) + 2, 0):
            for _ in range(20):
                values = [rnd.choice((None, 0, 1.5, "", "值", False))
                          for _ in range(max(width, 0))]
                row = [11, "K", *values]
                want = {k: v for k, v in zip(keep, values, strict=False) if v is not None}
                got = pick(row)
                assert got == want and list(got) == list(want), (label, width, values)
                assert got is not pick(row)  # a fresh dict per row
