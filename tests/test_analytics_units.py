"""Unit tests of analytics on tiny hand-checkable graphs (no Neo4j)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics import groups as grp
from analytics import propagation as prop
from analytics import regions, scoring, sectors
from analytics.projection import Projection, empty_projection
from riskgraph.settings import Settings

U = {  # short names → USCC-like keys
    "A": "91410502AAAAAAAA0A", "B": "91410502BBBBBBBB0B", "C": "91410503CCCCCCCC0C",
    "D": "91410503DDDDDDDD0D", "E": "91410505EEEEEEEE0E",
}


def ent(p: Projection, name: str, county: str = "410502", **props: object) -> int:
    return p.add_node("Enterprise", U.get(name, name),
                      {"name": f"{name}公司", "county": county, "delivery": "20240630", **props})


def person(p: Projection, pid: str, region: str = "410502") -> int:
    return p.add_node("Person", pid, {"name": pid, "region": region})


def rel(p: Projection, u: int, v: int, rtype: str, **props: object) -> None:
    p.graph.add_edge(u, v, key=rtype, **props)


def police(p: Projection, e: int, clue: str, regions_: tuple[str, ...] = ()) -> int:
    c = p.add_node("PoliceClue", clue, {"status": "已立案", "amount_wan": 3000,
                                        "investors": 400, "delivery": "20240630"})
    rel(p, e, c, "SUBJECT_OF", role="嫌疑单位")
    for r in regions_:
        rn = p.add_node("Region", r, {"name": r})
        rel(p, c, rn, "INVOLVES_REGION")
    return c


def lending_case(p: Projection, e: int, case_no: str, plaintiffs: list[int],
                 filed: str = "2024-03-01") -> int:
    c = p.add_node("CourtCase", case_no, {"cause": "民间借贷纠纷", "filed": filed,
                                          "delivery": "20240630"})
    rel(p, e, c, "PARTY_TO", role="被告")
    for pl in plaintiffs:
        rel(p, pl, c, "PARTY_TO", role="原告")
    return c


def test_direct_noisy_or_and_police() -> None:
    p = empty_projection()
    a = ent(p, "A")
    police(p, a, "J1")
    res = scoring.compute(p, Settings())
    rec = res.records[0]
    assert rec.reasons[0] == "police.clue"
    assert rec.score > 80 and rec.level == "red"
    ind0 = rec.explanation["indicators"][0]
    assert ind0["source"] == "police" and ind0["delivery"] == "20240630"
    assert abs(sum(i["contribution"] for i in rec.explanation["indicators"])
               - rec.explanation["direct"]) < 0.05


def test_plaintiffs_distinct_within_window() -> None:
    p = empty_projection()
    a = ent(p, "A")
    people = [person(p, f"P:{i}") for i in range(6)]
    lending_case(p, a, "C1", people[:3], "2024-01-10")
    lending_case(p, a, "C2", people[2:6], "2024-02-10")   # one plaintiff repeats
    lending_case(p, a, "C3", people[:2], "2019-01-01")    # outside the window
    res = scoring.compute(p, Settings())
    hit = {i["id"]: i for i in res.records[0].explanation["indicators"]}
    assert hit["court.many_plaintiffs"]["value"] == 6


def rep_chain(p: Projection) -> tuple[int, int, int]:
    """A (police clue) -P:1 legal rep of both- B -P:2 officer of B, legal rep of- C."""
    a, b, c = ent(p, "A"), ent(p, "B"), ent(p, "C")
    police(p, a, "J1")
    p1, p2 = person(p, "P:1"), person(p, "P:2")
    rel(p, p1, a, "LEGAL_REP_OF")
    rel(p, p1, b, "LEGAL_REP_OF")
    rel(p, p2, b, "OFFICER_OF")
    rel(p, p2, c, "LEGAL_REP_OF")
    return a, b, c


def test_propagation_through_legal_rep_decays_with_distance() -> None:
    p = empty_projection()
    a, b, c = rep_chain(p)
    res = {r.uscc: r for r in scoring.compute(p, Settings()).records}
    sa, sb, sc = res[U["A"]].score, res[U["B"]].score, res[U["C"]].score
    assert sa > sb > sc > 0
    path = res[U["B"]].explanation["paths"][0]
    assert path["nodes"] == [U["A"], "P:1", U["B"]]
    assert path["rels"] == ["LEGAL_REP_OF", "LEGAL_REP_OF"]
    assert res[U["C"]].explanation["paths"][0]["nodes"][0] == U["A"]


def test_path_contributions_are_plain_floats_within_the_linked_points() -> None:
    """Paths carry Python floats (what ``marshal`` and the JSON of a record take as they are),
    the same values the risk arrays give: at most the linked points, two decimals."""
    p = empty_projection()
    a, b, c = rep_chain(p)
    la = prop.link_arrays(p)
    d = np.array([0.9 if int(n) == a else 0.0 for n in la.ents])
    total = prop.propagate(la, d)
    paths = prop.top_paths(p, la, d, total)
    assert paths and all(type(x.contribution) is float for ps in paths.values() for x in ps)
    for i, ps in paths.items():
        assert sum(x.contribution for x in ps) <= 100.0 * (total[i] - d[i]) + 1e-9
    into_c = paths[int(np.flatnonzero(la.ents == c)[0])]
    assert into_c[0].nodes == [U["A"], "P:1", U["B"], "P:2", U["C"]]
    assert type(into_c[0].as_dict()["contribution"]) is float

def test_hub_damping_shared_address() -> None:
    p = empty_projection()
    a = ent(p, "A")
    police(p, a, "J1")
    addr = p.add_node("Address", "A:hub", {})
    small = p.add_node("Address", "A:small", {})
    rel(p, a, addr, "REGISTERED_AT")
    rel(p, a, small, "REGISTERED_AT")
    for i in range(300):
        e = ent(p, f"X{i:03d}")
        rel(p, e, addr, "REGISTERED_AT")
    b = ent(p, "B")
    rel(p, b, small, "REGISTERED_AT")
    res = {r.uscc: r for r in scoring.compute(p, Settings()).records}
    assert res[U["B"]].score > 15
    assert res["X000"].score < 1.0


def test_no_echo_back_to_source() -> None:
    la = prop.LinkArrays(
        np.array([0, 1]), np.array([2]), np.array([0, 1]), np.array([0, 0]),
        np.array([0.8, 0.8]), np.array(["LEGAL_REP_OF"] * 2, dtype=object),
        np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0),
        np.zeros(0, dtype=object), np.array(["Person"], dtype=object))
    total = prop.propagate(la, np.array([0.9, 0.0]), rounds=1)
    assert total[0] == pytest.approx(0.9)
    assert total[1] == pytest.approx(prop.GAMMA * 0.64 * (0.9 - prop.T0) / (1 - prop.T0))


def test_no_echo_over_rounds_connector_and_direct() -> None:
    """A's own risk does not return to it in later rounds, whether it went out through a
    shared person or a branch tie (non-backtracking messages); B's linked risk is unchanged."""
    for direct_tie in (False, True):
        p = empty_projection()
        a, b = ent(p, "A"), ent(p, "B")
        police(p, a, "J1")
        if direct_tie:
            rel(p, b, a, "BRANCH_OF")
        else:
            p1 = person(p, "P:1")
            rel(p, p1, a, "LEGAL_REP_OF")
            rel(p, p1, b, "LEGAL_REP_OF")
        la = prop.link_arrays(p)
        d = np.array([0.9, 0.0])
        for rounds in (1, 3):
            total = prop.propagate(la, d, rounds=rounds)
            assert total[0] == pytest.approx(0.9)
        assert prop.propagate(la, d, rounds=3)[1] == pytest.approx(
            prop.propagate(la, d, rounds=1)[1])


def test_linked_risk_split_by_channel() -> None:
    """B shares only A's phone, C only A's legal rep, D both and receives A's money: each
    firm's linked evidence is split by the channel it came through, and the channels together
    give the linked risk of the propagation (1 - prod(1 - L_c) = L)."""
    p = empty_projection()
    a, b, c, d_ = ent(p, "A"), ent(p, "B"), ent(p, "C"), ent(p, "D")
    police(p, a, "J1")
    phone = p.add_node("Phone", "T:1", {})
    rep = person(p, "P:1")
    for e in (a, b, d_):
        rel(p, e, phone, "HAS_PHONE")
    for e in (a, c, d_):
        rel(p, rep, e, "LEGAL_REP_OF")
    rel(p, a, d_, "PAYS", amount_yuan=100000.0, count=3)
    la = prop.link_arrays(p)
    d = np.array([0.9, 0.0, 0.0, 0.0])
    total, state = prop.propagate_state(la, d)
    assert np.allclose(total, prop.propagate(la, d))
    ch = prop.linked_by_channel(la, state)
    pos = {int(n): i for i, n in enumerate(la.ents)}
    i_b, i_c, i_d = pos[b], pos[c], pos[d_]
    assert ch["phone"][i_b] > 0.1 and ch["people"][i_b] == 0 and ch["money"][i_b] == 0
    assert ch["people"][i_c] > 0.1 and ch["phone"][i_c] == 0
    assert min(ch["phone"][i_d], ch["people"][i_d], ch["money"][i_d]) > 0.1
    assert ch["address"][i_d] == ch["corporate"][i_d] == 0
    # a shared phone carries more than a shared legal rep (weights 0.95 vs 0.6)
    assert ch["phone"][i_b] > ch["people"][i_c]
    linked = (total - d) / ((1 - d) * prop.GAMMA)
    combined = 1 - np.prod([1 - ch[c_] for c_ in prop.CHANNELS], axis=0)
    assert np.allclose(combined, linked)
    # the feature frame carries them under linked.<channel>
    ev = scoring.evaluate_all(p, scoring.model_weights())
    frame = scoring.frame_of(ev)
    assert list(frame.columns[frame.columns.str.startswith("linked.")]) == \
        list(scoring.LINK_CHANNELS)
    ev_ch = prop.linked_by_channel(ev.la, ev.state)
    assert frame.loc[U["B"], "linked.phone"] == pytest.approx(ev_ch["phone"][i_b])
    assert ev_ch["phone"][i_b] > 0.1
    assert frame.loc[U["B"], "linked.people"] == 0
    assert frame.loc[U["C"], "linked.phone"] == 0
    assert prop.linked_by_channel(la, None)["people"].tolist() == [0.0] * 4
    # explanations split the linked points by channel (largest first, summing to them)
    recs = {r.uscc: r for r in scoring.compute(p, Settings()).records}
    b_exp, d_exp = recs[U["B"]].explanation, recs[U["D"]].explanation
    assert list(b_exp["linked_by"]) == ["phone"]
    assert b_exp["linked_by"]["phone"] == pytest.approx(b_exp["linked"], abs=0.05)
    assert set(d_exp["linked_by"]) == {"phone", "people", "money"}
    assert list(d_exp["linked_by"].values()) == sorted(d_exp["linked_by"].values(),
                                                       reverse=True)
    assert sum(d_exp["linked_by"].values()) == pytest.approx(d_exp["linked"], abs=0.15)
    for r in recs.values():  # split only where there are linked points to explain
        assert ("linked_by" in r.explanation) == (r.explanation["linked"] > 0.5)


def test_neighbour_features_see_strong_neighbours_but_not_through_hubs() -> None:
    """B shares A's phone (2 firms) and a business-centre address with A and 19 others; C is
    A's branch. B's strongest phone neighbour is A; the centre is too big to name anyone; C
    sees A directly; A sees only B's (zero) risk."""
    p = empty_projection()
    a, b, c = ent(p, "A"), ent(p, "B"), ent(p, "C")
    phone = p.add_node("Phone", "T:1", {})
    centre = p.add_node("Address", "A:centre", {})
    for e in (a, b):
        rel(p, e, phone, "HAS_PHONE")
        rel(p, e, centre, "REGISTERED_AT")
    for i in range(18):
        rel(p, ent(p, f"X{i:02d}"), centre, "REGISTERED_AT")
    rel(p, c, a, "BRANCH_OF")
    la = prop.link_arrays(p)
    pos = {int(n): i for i, n in enumerate(la.ents)}
    d = np.zeros(len(la.ents))
    d[pos[a]] = 0.8
    d[pos[b]] = 0.1
    f = prop.neighbour_features(la, d)
    assert f["hub.phone"][pos[b]] == 2 and f["hub.address"][pos[b]] == 20
    assert f["hub.people"][pos[b]] == 0 and f["hub.phone"][pos[c]] == 0
    assert f["source.phone"][pos[b]] == pytest.approx(0.8)
    assert f["source.phone"][pos[a]] == pytest.approx(0.1)   # not its own 0.8
    assert f["source.address"][pos[b]] == 0                  # 20 firms > PAIR_MAX
    assert f["source.direct"][pos[c]] == pytest.approx(0.8)
    assert f["source.direct"][pos[a]] == 0                   # C has no risk
    frame = scoring.frame_of(scoring.evaluate_all(p, scoring.model_weights()))
    assert set(scoring.NET_FEATURES) <= set(frame.columns)
    assert frame.loc[U["B"], "net.hub.address"] == 20


def test_money_flow_is_directed() -> None:
    """Receiving money from a risky firm (where its funds go) weighs more than paying into it."""
    p = empty_projection()
    a, b, c = ent(p, "A"), ent(p, "B"), ent(p, "C")
    police(p, a, "J1")
    rel(p, a, b, "PAYS", amount_yuan=500000.0, count=12)   # A pays B: B receives its money
    rel(p, c, a, "PAYS", amount_yuan=500000.0, count=12)   # C pays A
    res = {r.uscc: r for r in scoring.compute(p, Settings()).records}
    assert res[U["B"]].score > res[U["C"]].score > 0
    assert res[U["B"]].explanation["paths"][0]["rels"] == ["PAYS"]


def test_equity_penetration() -> None:
    p = empty_projection()
    x = person(p, "P:x")
    h, a, b = ent(p, "A"), ent(p, "B"), ent(p, "C")
    rel(p, x, h, "SHAREHOLDER_OF", ratio=0.8)
    rel(p, h, a, "SHAREHOLDER_OF", ratio=0.7)     # x: 0.56
    rel(p, h, b, "SHAREHOLDER_OF", ratio=0.3)     # x: 0.24 + 0.8*... via a below
    rel(p, a, b, "SHAREHOLDER_OF", ratio=0.5)     # x: 0.24 + 0.28 = 0.52
    ctl = grp.controllers(p, 0.5)
    assert ctl[h].controller == x and ctl[h].share == pytest.approx(0.8)
    assert ctl[a].share == pytest.approx(0.56)
    assert ctl[b].controller == x and ctl[b].share == pytest.approx(0.52)
    assert grp.controllers(p, 0.6).get(b) is None


def test_group_ids_stable_when_most_members_kept() -> None:
    prev = {"G1": {"a", "b", "c", "d"}, "G2": {"x", "y"}}
    new = [{"a", "b", "c", "e"}, {"x", "z", "w", "v"}, {"m", "n"}]
    ids = grp.assign_ids(new, prev)
    assert ids[0] == "G1"            # 3 of G1's 4 members kept
    assert ids[1] not in ("G1", "G2")  # only 1 of G2's 2: not most
    assert len(set(ids)) == 3
    assert grp.assign_ids(new, prev) == ids  # deterministic


def test_group_merged_into_a_bigger_one_keeps_its_id() -> None:
    # 8 of G1's 10 firms joined 7 new ones: Jaccard 8/17 < 0.5, but G1 kept most members
    g1 = {f"a{i}" for i in range(10)}
    g2 = {"b0", "b1", "b2"}
    merged = {f"a{i}" for i in range(8)} | {f"n{i}" for i in range(7)}
    ids = grp.assign_ids([merged | {"b0"}, {"a8", "a9", "b1", "b2"}], {"G1": g1, "G2": g2})
    assert ids[0] == "G1"
    assert ids[1] == "G2"  # 2 of G2's 3 members
    # two old groups with most of their members in one new group: the larger overlap wins
    ids = grp.assign_ids([g1 | g2], {"G1": g1, "G2": g2})
    assert ids == ["G1"]


def test_initial_membership_numbers_previous_groups() -> None:
    assert grp.initial_membership([5, 6, 7, 8], None) is None
    # 5 and 7 shared previous group 3; 6 and 8 had none and start alone
    assert grp.initial_membership([5, 6, 7, 8], {5: 3, 7: 3}) == [0, 1, 0, 2]


def test_previous_membership_maps_previous_groups_onto_node_ids() -> None:
    p = empty_projection()
    a, b, c = ent(p, "WA"), ent(p, "WB"), ent(p, "WC")
    prev = {"G2": {p.keys[c], "gone-uscc"}, "G1": {p.keys[a], p.keys[b]}}
    # groups numbered in id order; a member no longer in the graph is skipped
    assert grp.previous_membership(p, prev) == {a: 0, b: 0, c: 1}
    assert grp.previous_membership(p, None) == {}


def test_leiden_warm_start_keeps_an_equally_good_previous_partition() -> None:
    # a ring of 12: three arcs of 4 and four arcs of 3 have the same modularity (5/12), so
    # any rotation of the previous three arcs is a partition Leiden has no reason to leave
    n = 12
    links = {(min(i, (i + 1) % n), max(i, (i + 1) % n)): 1.0 for i in range(n)}
    for shift in range(4):
        before = {i: ((i + shift) % n) // 4 for i in range(n)}
        after = grp.communities(range(n), links, "leiden", initial=before)
        assert sorted(map(sorted, after)) == sorted(
            sorted(i for i in range(n) if before[i] == c) for c in range(3))


def test_link_digests_and_free_nodes_find_changed_links() -> None:
    keys = ["A", "B", "C", "D", "E", "F"]
    before = {(0, 1): 0.9, (1, 2): 0.5, (3, 4): 0.8}
    d0 = grp.link_digests(before, keys)
    assert set(d0) == {"A", "B", "C", "D", "E"}  # F has no link: no digest
    assert grp.link_digests(dict(reversed(before.items())), keys) == d0  # order-free
    assert grp.free_nodes(before, d0, d0, keys) == set()
    # the weight of D–E changed and F got a link to E: D, E, F changed; nothing else moves
    after = {(0, 1): 0.9, (1, 2): 0.5, (3, 4): 0.6, (4, 5): 0.7}
    d1 = grp.link_digests(after, keys)
    assert {k for k in d1 if d1[k] != d0.get(k)} == {"D", "E", "F"}
    assert grp.free_nodes(after, d1, d0, keys) == {3, 4, 5}
    # C lost its link to B: B and C changed, and A (B's neighbour) may move with them
    cut = {(0, 1): 0.9, (3, 4): 0.8}
    assert grp.free_nodes(cut, grp.link_digests(cut, keys), d0, keys) == {0, 1}


def test_local_update_moves_only_free_nodes() -> None:
    # two triangles joined by a weak tie; previously node 2 was (wrongly) with 3, 4, 5
    links = {(0, 1): 1.0, (1, 2): 1.0, (0, 2): 1.0, (3, 4): 1.0, (4, 5): 1.0, (3, 5): 1.0,
             (2, 3): 0.05}
    before = {0: 0, 1: 0, 2: 1, 3: 1, 4: 1, 5: 1}
    kept = grp.communities(range(6), links, "leiden", initial=before, free=set())
    assert sorted(map(sorted, kept)) == [[0, 1], [2, 3, 4, 5]]  # nothing may move
    moved = grp.communities(range(6), links, "leiden", initial=before, free={2})
    assert sorted(map(sorted, moved)) == [[0, 1, 2], [3, 4, 5]]  # 2 goes where it belongs
    # a node without a previous community stays alone unless free
    alone = grp.communities(range(7), {**links, (5, 6): 1.0}, "leiden", initial=before,
                            free=set())
    assert [6] in sorted(map(sorted, alone))


def test_local_update_splits_a_group_its_bridge_left() -> None:
    # 1 tied 0 and 2 together (weakly); it now belongs with 3 and 4: 0 and 2 are not linked
    # to each other, so they cannot stay one group
    links = {(0, 1): 0.3, (1, 2): 0.3, (1, 3): 1.0, (1, 4): 1.0, (3, 4): 1.0}
    before = {0: 0, 1: 0, 2: 0, 3: 1, 4: 1}
    after = grp.communities(range(5), links, "leiden", initial=before, free={1})
    assert sorted(map(sorted, after)) == [[0], [1, 3, 4], [2]]


def test_louvain_and_leiden_agree_on_small_graph() -> None:
    links = {(0, 1): 1.0, (1, 2): 1.0, (0, 2): 1.0, (3, 4): 1.0, (4, 5): 1.0, (3, 5): 1.0,
             (2, 3): 0.05}
    a = grp.communities(range(6), links, "louvain")
    b = grp.communities(range(6), links, "leiden")
    assert sorted(map(sorted, a)) == sorted(map(sorted, b)) == [[0, 1, 2], [3, 4, 5]]


def test_cross_region_detection() -> None:
    p = empty_projection()
    a = ent(p, "A", "410502")
    b = ent(p, "B", "410502")
    x = person(p, "P:x")
    rel(p, x, a, "LEGAL_REP_OF")
    rel(p, x, b, "LEGAL_REP_OF")
    plaintiffs = [person(p, f"P:{i}", "410526") for i in range(3)]  # 3 ≥ MIN_PEOPLE
    lending_case(p, a, "C1", plaintiffs)
    res = scoring.compute(p, Settings())
    g = res.groups[0]
    assert set(g.members) == {U["A"], U["B"]}
    assert g.counties == ["410502", "410526"] and g.cross_region
    assert g.lead_region == "410502"
    single = regions.summarise(["410502"], ["410500"])
    assert not single.cross_region
    assert regions.summarise(["410502"], ["410222"]).cross_region


def test_regions_over_the_strong_core_group() -> None:
    """Regions count over the core and the firms tied to it by ties a scheme makes: shares or
    money going out of the core, control, branches, a phone shared by few firms. A firm sharing
    only a legal rep or a hub phone with the core, paying the core, or merely under the same
    ultimate controller does not make it cross-region."""
    p = empty_projection()
    a = ent(p, "A", "410502")                      # core (police clue)
    b = ent(p, "B", "410503")                      # same legal rep as A: weak
    police(p, a, "J1")
    x = person(p, "P:x")
    rel(p, x, a, "LEGAL_REP_OF")
    rel(p, x, b, "LEGAL_REP_OF")
    hub = p.add_node("Phone", "13800000000", {})   # an agent's phone shared by 5 firms: weak
    rel(p, a, hub, "HAS_PHONE")
    for i in range(4):
        rel(p, ent(p, f"H{i}", "410526"), hub, "HAS_PHONE")
    scores = {a: 90.0, b: 30.0}
    assert regions.strong_core(p, a) == [a]
    rf = regions.region_facts(p, [a, b], scores)
    assert rf.counties == ["410502"] and not rf.cross_region and rf.lead_region == "410502"
    assert regions.region_facts(p, [a, b], scores, strong=False).cross_region
    # people ties can be switched on (person_max), a person-hub never ties
    assert regions.strong_core(p, a, [a, b], person_max=3) == sorted([a, b])
    # C under the same ultimate controller as A: weak unless siblings are switched on
    c = ent(p, "C", "410503")
    control = {a: grp.Control(a, 999, 0.8), c: grp.Control(c, 999, 0.6)}
    assert regions.strong_core(p, a, None, control) == [a]
    assert regions.strong_core(p, a, None, control, siblings=True) == sorted([a, c])
    # ... but a firm A itself controls is strong
    assert regions.strong_core(p, a, None, {c: grp.Control(c, a, 0.6)}) == sorted([a, c])
    # F pays A (a payer firm): weak; A pays G, A holds 5 % of L, K shares a phone with A only
    f_, g_, l_, k_ = (ent(p, n, "410505") for n in ("F", "G", "L", "K"))
    rel(p, f_, a, "PAYS", amount_yuan=1e6, count=3)
    rel(p, a, g_, "PAYS", amount_yuan=1e6, count=3)
    rel(p, a, l_, "SHAREHOLDER_OF", ratio=0.05)
    ph = p.add_node("Phone", "13900000000", {})
    rel(p, a, ph, "HAS_PHONE")
    rel(p, k_, ph, "HAS_PHONE")
    assert regions.strong_core(p, a) == sorted([a, g_, l_, k_])
    rf2 = regions.region_facts(p, [a, b], scores)
    assert rf2.cross_region and rf2.counties == ["410502", "410505"]
    assert rf2.lead_region == "410502"
    # a branch of a branch (two hops) is strong
    d = ent(p, "D", "410506")
    e = ent(p, "E", "410506")
    rel(p, d, a, "BRANCH_OF")
    rel(p, e, d, "BRANCH_OF")
    assert regions.strong_core(p, a) == sorted([a, d, e, g_, l_, k_])
    # the ties one run keeps in a memo give every core the same firms, with or without
    # a members filter, and the memo is what later calls read
    memo: dict[int, set[int]] = {}
    firms = p.of_label("Enterprise")
    for core in firms:
        assert regions.strong_core(p, core, ties_memo=memo) == regions.strong_core(p, core)
        assert regions.strong_core(p, core, [a, d, g_], ties_memo=memo) \
            == regions.strong_core(p, core, [a, d, g_])
    assert set(memo) <= set(firms) and a in memo and d in memo[a]
    memo[a] = set()
    assert regions.strong_core(p, a, ties_memo=memo) == [a]
    # every scored record carries the facts of its own strong core
    res = scoring.compute(p, Settings())
    by = {r.uscc: r for r in res.records}
    assert by[U["A"]].cross_region and by[U["A"]].lead_region == "410502"


def test_levels() -> None:
    s = Settings()
    assert [scoring.level_of(v, s.levels) for v in (95, 65, 45, 25, 5)] == [
        "red", "orange", "yellow", "blue", "none"]
    # the finder the records loop uses agrees at and around every threshold
    find = scoring.level_finder(s.levels)
    edges = [float(b) + d for b in s.levels.values() for d in (-0.01, 0.0, 0.01)]
    assert [find(v) for v in edges] == [scoring.level_of(v, s.levels) for v in edges]


def test_a_firm_without_a_sector_keyword_routes_to_the_county_designate() -> None:
    assert sectors.route("蔬菜种植 某某农业有限公司", "有限责任公司") == (
        "", sectors.COUNTY_DESIGNATES)
    assert sectors.route("蔬菜种植", "农民专业合作社")[1] == "农业农村部门"  # by type
    assert sectors.route("投资理财咨询 某某典当行", "")[1] == "金融管理部门派出机构"  # riskiest


def test_shared_legal_rep_transmits_less_than_a_branch() -> None:
    """A firm whose only tie to a risky firm is a shared legal representative (often a
    nominee) gets less linked risk than a branch of that firm."""
    p = empty_projection()
    a = ent(p, "A")
    b = ent(p, "B")
    c = ent(p, "C")
    police(p, a, "J1")
    x = person(p, "P:x")
    rel(p, x, a, "LEGAL_REP_OF")
    rel(p, x, b, "LEGAL_REP_OF")
    rel(p, c, a, "BRANCH_OF")
    by = {r.uscc: r.score for r in scoring.compute(p, Settings()).records}
    assert 0 < by[U["B"]] < by[U["C"]]
    assert prop.WEIGHTS["LEGAL_REP_OF"] < prop.WEIGHTS["BRANCH_OF"]


def test_tie_in_two_channel_families_transmits_more() -> None:
    """B shares only a legal rep with the risky A; C shares the legal rep and the phone: two
    independent channel families between the same two firms count more than twice one."""
    p = empty_projection()
    a, b, c = ent(p, "A"), ent(p, "B"), ent(p, "C")
    police(p, a, "J1")
    x, y = person(p, "P:x"), person(p, "P:y")
    for lr, firm in ((x, a), (x, b), (y, a), (y, c)):
        rel(p, lr, firm, "LEGAL_REP_OF")
    phone = p.add_node("Phone", "13800000000", {})
    rel(p, a, phone, "HAS_PHONE")
    rel(p, c, phone, "HAS_PHONE")
    la = prop.link_arrays(p)
    deg_c = np.bincount(la.ce_c, minlength=len(la.conns))
    ce_corr, _ = prop.corroboration(la, deg_c)
    pos = {int(n): i for i, n in enumerate(la.ents)}
    corr_of = {(int(la.ce_e[i]), str(la.conn_label[la.ce_c[i]])): bool(ce_corr[i])
               for i in range(len(la.ce_e))}
    assert not corr_of[(pos[b], "Person")]
    assert corr_of[(pos[c], "Person")] and corr_of[(pos[c], "Phone")]
    d = np.array([0.9, 0.0, 0.0])
    total = prop.propagate(la, d, rounds=1)
    one = prop.WEIGHTS["LEGAL_REP_OF"] ** 2 * damp_free(2, "Person")
    t = (0.9 - prop.T0) / (1 - prop.T0)
    assert total[pos[b]] == pytest.approx(prop.GAMMA * one * t)
    # the factor applies to the connector → receiver half of the tie (at most 1)
    lr, ph = prop.WEIGHTS["LEGAL_REP_OF"], prop.WEIGHTS["HAS_PHONE"]
    w_lr = lr * min(1.0, prop.CORROBORATED * lr * damp_free(2, "Person"))
    w_ph = ph * min(1.0, prop.CORROBORATED * ph * damp_free(2, "Phone"))
    expect = 1 - (1 - w_lr * t) * (1 - w_ph * t)
    assert total[pos[c]] == pytest.approx(prop.GAMMA * expect)
    assert total[pos[c]] > 2 * total[pos[b]]


def damp_free(degree: int, label: str) -> float:
    return float(prop.damp(np.array([degree]), prop.FREE[label])[0])


def test_same_family_twice_is_not_corroboration() -> None:
    """Two shared people (both from the registry's personnel records) are one channel family:
    no corroboration factor, only the noisy-OR of the two ties."""
    p = empty_projection()
    a, b = ent(p, "A"), ent(p, "B")
    for pid in ("P:1", "P:2"):
        x = person(p, pid)
        rel(p, x, a, "OFFICER_OF")
        rel(p, x, b, "OFFICER_OF")
    la = prop.link_arrays(p)
    ce_corr, ee_corr = prop.corroboration(la, np.bincount(la.ce_c, minlength=len(la.conns)))
    assert not ce_corr.any() and len(ee_corr) == 0


def test_registration_indicators_need_corroboration() -> None:
    """A key-sector scope alone counts UNCORROBORATED of its strength; beside evidence from
    another source family (an ad promising returns) it counts fully."""
    from analytics import indicators as ind

    p = empty_projection()
    alone = ent(p, "91410502KEYS00000A", "安阳某某财富管理有限公司", scope="财富管理；投资咨询")
    backed = ent(p, "91410502KEYS00001B", "安阳某某资产管理有限公司", scope="资产管理；投资咨询")
    ad = p.add_node("Ad", "AD-1", {"content": "年化15% 保本保息", "delivery": "20240630"})
    rel(p, backed, ad, "ADVERTISED_IN")
    by = {r.uscc: r for r in scoring.compute(p, Settings()).records}
    strength = {r.uscc: {i["id"]: i["strength"] for i in r.explanation["indicators"]}
                for r in by.values()}
    assert strength["91410502KEYS00000A"]["reg.key_sector"] == pytest.approx(
        ind.UNCORROBORATED)
    assert strength["91410502KEYS00001B"]["reg.key_sector"] == pytest.approx(1.0)
    w = ind.weights()["reg.key_sector"]
    assert by["91410502KEYS00000A"].score == pytest.approx(100 * w * ind.UNCORROBORATED,
                                                          abs=0.01)
    del alone, backed


def test_dormancy_does_not_corroborate_registration() -> None:
    """A finance-sounding shell that files zero tax returns stays uncorroborated: dormancy is
    not evidence of raising money."""
    from analytics import indicators as ind

    ks = ind.Hit(1.0, "私募", "20240630")
    zero = {"reg.key_sector": ks, "tax.zero_filing": ind.Hit(1.0, "12月")}
    assert ind.corroborate(zero)["reg.key_sector"].strength == pytest.approx(ind.UNCORROBORATED)
    assert ind.corroborate(zero)["tax.zero_filing"].strength == 1.0


@pytest.mark.parametrize("distress", ["credit.overdue", "credit.compensation",
                                      "credit.dishonest", "credit.serious",
                                      "credit.abnormal_ops", "court.enforcement"])
def test_distress_does_not_corroborate_registration(distress: str) -> None:
    """Debts owed to banks and creditors (overdue loans, guarantees paid out, enforcement,
    credit listings) say a firm is failing, not that it takes money from the public: a failing
    firm with an investment scope stays uncorroborated."""
    from analytics import indicators as ind

    ks = ind.Hit(1.0, "资产管理", "20240630")
    hits = {"reg.key_sector": ks, distress: ind.Hit(0.7, "x")}
    out = ind.corroborate(hits)
    assert out["reg.key_sector"].strength == pytest.approx(ind.UNCORROBORATED)
    assert out[distress].strength == 0.7


@pytest.mark.parametrize("evidence", ["court.lending_defendant", "tips.pending", "ads.promise",
                                      "bank.alert", "police.clue", "tax.thin_operation"])
def test_fundraising_evidence_corroborates_registration(evidence: str) -> None:
    from analytics import indicators as ind

    hits = {"reg.key_sector": ind.Hit(1.0, "资产管理"), evidence: ind.Hit(0.5, "x")}
    assert ind.corroborate(hits)["reg.key_sector"].strength == 1.0


def _tip_strength(*tips: dict[str, object]) -> float | None:
    from datetime import date

    from analytics import indicators as ind
    from analytics.facts import Facts

    f = Facts(0, "91410502TIPS00000A", {"name": "某公司"},
              {"tips": [{"role": "", **t} for t in tips]})
    hit = ind.INDICATOR_BY_ID["tips.pending"].fn(f, ind.Context(as_of=date(2024, 6, 30)))
    return None if hit is None else hit.strength


def test_tip_stating_money_involved_weighs_more() -> None:
    """A fundraising tip that states the money involved (涉及金额: a victim's loss) counts
    TIP_AMOUNT_BONUS more than the same tip without it; an off-topic one is not lifted."""
    from analytics import indicators as ind

    text = "该公司以投资理财为名吸收资金，投资人无法取回本金"
    plain = _tip_strength({"summary": text, "status": "待核查"})
    money = _tip_strength({"summary": text, "status": "待核查", "amount_wan": 35.5})
    assert plain == pytest.approx(0.5)
    assert money == pytest.approx(0.5 + ind.TIP_AMOUNT_BONUS)
    promise = _tip_strength({"summary": "承诺月息2%，保本保息", "status": "待核查",
                             "amount_wan": 12})
    assert promise == pytest.approx(1.0)
    noise = _tip_strength({"summary": "反映该单位噪音扰民", "status": "待核查", "amount_wan": 3})
    assert noise == pytest.approx(ind.OFF_TOPIC_TIP * 0.5)


def test_membership_card_complaint_is_not_a_fundraising_tip() -> None:
    """A prepaid membership card that cannot be refunded is a consumer dispute; a membership
    that promises returns is a fundraising tip."""
    from analytics import indicators as ind

    card = _tip_strength({"summary": "反映该公司办理会员卡后关门停业，无法退卡。",
                          "status": "待核查"})
    assert card == pytest.approx(ind.OFF_TOPIC_TIP * 0.5)
    elderly = _tip_strength({"summary": "以养老服务为名办理会员卡，承诺保本并返还高额利息",
                             "status": "待核查"})
    assert elderly == pytest.approx(0.75)


def _mixed_projection() -> Projection:
    p = empty_projection()
    for i in range(12):
        e = ent(p, f"E{i:02d}", reg_capital_wan=10000.0 if i % 3 == 0 else 50.0,
                paid_capital_wan=0.0, founded="2023-05-01",
                scope="投资理财咨询" if i % 2 else "五金")
        if i % 4 == 0:
            police(p, e, f"J{i}")
        if i % 5 == 0:
            lending_case(p, e, f"C{i}", [person(p, f"P{i}-{k}") for k in range(3)])
    return p


def test_indicators_in_forked_workers_equal_the_serial_evaluation(monkeypatch) -> None:
    from analytics import indicators as ind
    from analytics.facts import as_of_date, gather

    p = _mixed_projection()
    facts, ctx = gather(p), ind.Context(as_of=as_of_date(p))
    serial = scoring.evaluate_indicators(facts, ctx, workers=1)
    assert any(serial)
    monkeypatch.setattr(scoring, "PARALLEL_MIN", 1)
    assert scoring.evaluate_indicators(facts, ctx, workers=2) == serial
    assert scoring.evaluate_indicators(facts, ctx, workers=3) == serial


def test_forked_workers_evaluate_their_slice_in_another_process(monkeypatch) -> None:
    import os

    from analytics import indicators as ind
    from analytics.facts import as_of_date, gather

    p = _mixed_projection()
    facts, ctx = gather(p), ind.Context(as_of=as_of_date(p))
    monkeypatch.setattr(ind, "evaluate", lambda f, c: {"pid": ind.Hit(1.0, os.getpid())})
    monkeypatch.setattr(scoring, "PARALLEL_MIN", 1)
    pids = [h["pid"].value for h in scoring.evaluate_indicators(facts, ctx, workers=2)]
    assert len(pids) == len(facts)
    assert pids[-1] == os.getpid() and pids[0] != os.getpid()  # first half in the child
    assert [h["pid"].value for h in scoring.evaluate_indicators(facts, ctx, workers=1)] == [
        os.getpid()] * len(facts)


def test_a_worker_that_dies_fails_the_evaluation_instead_of_hanging(monkeypatch) -> None:
    import os

    from analytics import indicators as ind
    from analytics.facts import as_of_date, gather
    from riskgraph.errors import RiskgraphError

    p = _mixed_projection()
    facts, ctx = gather(p), ind.Context(as_of=as_of_date(p))
    parent = os.getpid()

    def die_in_child(f: object, c: object) -> dict:
        if os.getpid() != parent:
            os._exit(9)  # as if killed for memory
        return {}

    monkeypatch.setattr(ind, "evaluate", die_in_child)
    monkeypatch.setattr(scoring, "PARALLEL_MIN", 1)
    with pytest.raises(RiskgraphError, match="worker process died"):
        scoring.evaluate_indicators(facts, ctx, workers=2)


def _record(**changes: object) -> scoring.Record:
    base: dict[str, object] = dict(
        uscc="91410500MA0000000X", name="甲公司", county="410502", score=61.5, level="orange",
        reasons=["scope.finance"], explanation={"direct": 0.4, "indicators": [
            {"id": "scope.finance", "contribution": 12.5}], "paths": []},
        group_id="G1", cross_region=True, lead_region="410502", sector="finance",
        department="金融局", model_version="handset-x")
    base.update(changes)
    return scoring.Record(**base)  # type: ignore[arg-type]


def test_record_digest_covers_what_a_record_says_but_not_its_points() -> None:
    from dataclasses import fields

    from analytics.pipeline import MATERIAL_FIELDS, RECORD_FIELDS, record_digest

    stored = set(_record().props("run-1")) - {"run_id"}
    assert set(RECORD_FIELDS) == stored
    assert set(MATERIAL_FIELDS) == stored - {"score", "explanation"}
    assert record_digest(_record()) == record_digest(_record())  # built apart, same content
    changed = {"uscc": "X", "name": "乙", "county": "410503", "level": "red",
               "reasons": [], "explanation": {"direct": 0.4, "indicators": [], "paths": []},
               "group_id": "G2", "cross_region": False, "lead_region": "410503",
               "sector": "", "department": "", "model_version": "handset-y"}
    assert set(changed) | {"score"} == {f.name for f in fields(_record())}
    digests = {record_digest(_record(**{k: v})) for k, v in changed.items()}
    assert len(digests) == len(changed) and record_digest(_record()) not in digests
    # the points follow the score (compared with a tolerance), not the digest
    base = _record().explanation
    same = [{"score": 61.9}, {"explanation": {**base, "direct": 0.7}},
            {"explanation": {**base, "indicators": [
                {"id": "scope.finance", "contribution": 13.0}]}}]
    assert {record_digest(_record(**c)) for c in same} == {record_digest(_record())}
    path = {"from": "A", "nodes": ["A", "P1", "B"], "rels": ["LEGAL_REP_OF", "OFFICER_OF"]}
    linked = {**base, "linked": 3.0, "linked_by": {"people": 3.0},
              "paths": [{**path, "contribution": 2.5}]}
    again = {**base, "linked": 3.4, "linked_by": {"people": 3.4},
             "paths": [{**path, "contribution": 2.9}]}
    assert record_digest(_record(explanation=linked)) == record_digest(_record(explanation=again))
    other = [{**linked, "linked_by": {"phone": 3.0}},
             {**linked, "paths": [{**path, "nodes": ["A", "P2", "B"], "contribution": 2.5}]},
             {**base, "indicators": [{"id": "scope.finance", "strength": 0.9,
                                      "contribution": 12.5}]}]
    digests = {record_digest(_record(explanation=e)) for e in other}
    assert len(digests) == 3 and record_digest(_record(explanation=linked)) not in digests


def test_an_empty_explanation_has_the_shape_the_general_case_gives() -> None:
    from analytics.pipeline import EMPTY_SHAPE, explanation_shape

    empty = {"indicators": [], "paths": [], "direct": 0.0, "linked": 0.3}
    assert explanation_shape(empty) == EMPTY_SHAPE == ((), (), (), None)
    # anything said makes another shape, each part where the general case puts it
    assert explanation_shape({**empty, "linked_by": {"people": 0.3}}) == (
        (), (), ("people",), None)
    assert explanation_shape({**empty, "model": {"version": "v2", "kind": "lgbm"}}) == (
        (), (), (), ("v2", "lgbm"))
    assert explanation_shape({**empty, "indicators": [{"id": "x", "contribution": 1.0}]}) == (
        ((("id", "x"),),), (), (), None)


def test_record_digest_takes_numpy_values() -> None:
    from analytics.pipeline import record_digest

    def rec(strength: float) -> scoring.Record:
        return _record(explanation={"indicators": [{"id": "x", "strength": strength}]})

    odd = rec(np.float64(0.5))  # marshal refuses it: the JSON form is used
    assert record_digest(odd) == record_digest(rec(np.float64(0.5)))
    assert record_digest(odd) != record_digest(rec(np.float64(0.6)))


def test_changed_records_keep_a_record_within_the_tolerance_and_its_score() -> None:
    """A record saying the same with a score less than the tolerance away stays, and the
    digests left for the next run carry the stored score: drift never adds up unseen."""
    from analytics.pipeline import changed_records, record_digest

    def result(score: float) -> scoring.ScoringResult:
        return scoring.ScoringResult([_record(score=score)], [], [], "handset-x")

    uscc, digest = _record().uscc, record_digest(_record())
    stored: dict[str, tuple[str | None, float | None]] = {uscc: (digest, 61.5)}
    out: dict[str, tuple[str | None, float | None]] = {}
    rows, gone = changed_records(result(61.8), "r2", 2, stored, out, tolerance=0.5)
    assert rows == [] and gone == [] and out == {uscc: (digest, 61.5)}
    rows, _ = changed_records(result(62.1), "r3", 3, out, out, tolerance=0.5)
    assert [r["props"]["score"] for r in rows] == [62.1] and out[uscc] == (digest, 62.1)
    rows, _ = changed_records(result(61.8), "r2", 2, stored, None, tolerance=0.0)
    assert len(rows) == 1 and rows[0]["props"]["digest"] == digest
    rows, _ = changed_records(result(61.5), "r2", 2, stored, None, tolerance=0.0)
    assert rows == []  # no tolerance: the same score still stays
    # a record of the old format (no score) or another digest is rewritten
    for cur in ((digest, None), ("old", 61.5), (None, None)):
        rows, _ = changed_records(result(61.5), "r4", 4, {uscc: cur}, None, tolerance=0.5)
        assert len(rows) == 1, cur
    rows, gone = changed_records(result(61.5), "r5", 5, {**stored, "GONE": ("d", 1.0)},
                                 None, tolerance=0.5)
    assert rows == [] and gone == [{"uscc": "GONE"}]


def test_score_stage_measures_worker_cpu_and_run_queue_wait() -> None:
    import os
    import sys

    from analytics import pipeline

    before = pipeline._children_cpu()
    pid = os.fork()
    if pid == 0:  # a child that burns a little CPU, like a forked indicator worker
        sum(i * i for i in range(1_000_000))
        os._exit(0)
    os.waitpid(pid, 0)
    assert pipeline._children_cpu() > before
    waited = pipeline._runq_wait()  # None where the kernel keeps no schedstat
    assert waited is None or waited >= 0.0
    if not sys.platform.startswith("linux"):
        assert waited is None


def _grouped_projection() -> Projection:
    """Three pairs of firms, each pair under one legal representative, one pair with a
    police clue and one tied to it by a shared shareholder."""
    p = _mixed_projection()
    firms = p.of_label("Enterprise")
    for k in range(3):
        rep = person(p, f"R{k}")
        rel(p, rep, firms[2 * k], "LEGAL_REP_OF")
        rel(p, rep, firms[2 * k + 1], "LEGAL_REP_OF")
    holder = person(p, "H")
    rel(p, holder, firms[1], "SHAREHOLDER_OF", ratio=60.0)
    rel(p, holder, firms[2], "SHAREHOLDER_OF", ratio=80.0)
    return p


def _scored(p: Projection, fork: bool) -> tuple[tuple[list, list], scoring.ScoringResult]:
    res = scoring.compute(p, Settings(groups_in_child=fork))
    return ([(r.uscc, r.score, r.group_id, r.explanation) for r in res.records],
            [(g.group_id, g.members, g.score, g.lead_region) for g in res.groups]), res


def test_groups_found_in_a_forked_process_equal_the_serial_ones(monkeypatch) -> None:
    p = _grouped_projection()
    serial, res1 = _scored(p, False)
    assert serial[1] and any(gid for _u, _s, gid, _e in serial[0])  # groups were found
    assert "in_child" not in res1.stats["grouping"]
    monkeypatch.setattr(scoring, "PARALLEL_MIN", 1)
    forked, res2 = _scored(p, True)
    assert res2.stats["grouping"]["in_child"] is True
    assert forked == serial
    assert res2.link_digests == res1.link_digests


def test_a_group_process_that_dies_leaves_the_groups_to_the_scoring_process(
        monkeypatch) -> None:
    import os

    p = _grouped_projection()
    serial, _ = _scored(p, False)
    parent = os.getpid()
    real = grp.find_groups

    def die_in_child(*args: object, **kwargs: object) -> object:
        if os.getpid() != parent:
            os._exit(9)  # as if killed for memory
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(grp, "find_groups", die_in_child)
    monkeypatch.setattr(scoring, "PARALLEL_MIN", 1)
    forked, res = _scored(p, True)
    assert res.stats["grouping"]["child_died"] is True
    assert forked == serial


def test_managing_partner_ties_as_a_controller_not_by_its_stake() -> None:
    """A fund manager running a partnership as its 执行事务合伙人 with a 0.5 % stake passes its
    risk at the managing-partner weight (the strongest of the two ties between the pair
    carries); a token shareholder alone passes far less. By hand: B gets
    GAMMA * w * p(A) with w = WEIGHTS[MANAGING_PARTNER_OF], C gets the same with the
    shareholder weight of a 0.005 ratio."""
    p = empty_projection()
    a, b, c = ent(p, "A"), ent(p, "B"), ent(p, "C")
    police(p, a, "J1")
    rel(p, a, b, "MANAGING_PARTNER_OF")
    rel(p, a, b, "SHAREHOLDER_OF", ratio=0.005)
    rel(p, a, c, "SHAREHOLDER_OF", ratio=0.005)
    la = prop.link_arrays(p)
    pos = {int(n): i for i, n in enumerate(la.ents)}
    w = float(la.ee_w[(la.ee_src == pos[a]) & (la.ee_dst == pos[b])][0])
    assert w == pytest.approx(prop.WEIGHTS["MANAGING_PARTNER_OF"])
    d = np.zeros(len(la.ents))
    d[pos[a]] = 0.9
    total = prop.propagate(la, d, rounds=1)
    t = (0.9 - prop.T0) / (1 - prop.T0)
    stake = prop.edge_weight("SHAREHOLDER_OF", {"ratio": 0.005})
    assert total[pos[b]] == pytest.approx(prop.GAMMA * w * t)
    assert total[pos[c]] == pytest.approx(prop.GAMMA * stake * t)
    res = {r.uscc: r for r in scoring.compute(p, Settings()).records}
    path = res[U["B"]].explanation["paths"][0]
    assert path["nodes"] == [U["A"], U["B"]] and path["rels"] == ["MANAGING_PARTNER_OF"]
    assert res[U["B"]].score > 2 * res[U["C"]].score


def test_thin_operation_of_a_dormant_firm_is_not_corroboration() -> None:
    """Tiny revenue and no insured staff beside zero filings are the dormant shell's picture:
    the key-sector scope stays uncorroborated. Thin operation of a firm that files and
    trades still corroborates (test_fundraising_evidence_corroborates_registration)."""
    from analytics import indicators as ind

    hits = {"reg.key_sector": ind.Hit(1.0, "资产管理"),
            "tax.thin_operation": ind.Hit(0.7, "x"), "tax.zero_filing": ind.Hit(1.0, "12月")}
    out = ind.corroborate(hits)
    assert out["reg.key_sector"].strength == pytest.approx(ind.UNCORROBORATED)
    assert out["tax.thin_operation"].strength == 0.7
    del hits["tax.zero_filing"]
    assert ind.corroborate(hits)["reg.key_sector"].strength == 1.0


def test_a_damaged_digests_file_is_ignored(tmp_path) -> None:
    import marshal

    from analytics.pipeline import DIGESTS_FORMAT, load_digests, save_digests

    path = tmp_path / "record-digests.marshal"
    save_digests(path, "r1", {"U1": ("d1", 12.5)}, "s1")
    assert load_digests(path, "r1", "s1") == {"U1": ("d1", 12.5)}
    for body in ({"U1": "d1"}, {"U1": ()}, ["U1"], {"U1": 3}):
        path.write_bytes(marshal.dumps((DIGESTS_FORMAT, "r1", "s1", body)))
        assert load_digests(path, "r1", "s1") is None, body
    path.write_bytes(b"\x00not marshal")
    assert load_digests(path, "r1", "s1") is None
