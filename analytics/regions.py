"""Cross-region facts of a group (or of a single enterprise).

The regions involved in a set of firms are: the members' counties (``Enterprise.county``), the
regions of the natural-person plaintiffs in lending cases against them and of the natural-person
payers paying them (``Person.region``), and the regions police clues, tips and ads about them
name (``INVOLVES_REGION``). Six-digit codes ending in ``00`` are prefecture-level: they add
their city, and count as a further county only when no county of that city is involved already.

A set is **cross-region** when more than one county is involved. The **proposed lead region**
(主办地区) is where the core firm (highest score) sits, else where the controller sits, else the
county with most members.

A community-detection group is broader than the scheme behind it (it picks up firms that share
a person, an agent's phone or a business-centre address with the scheme, and often several
schemes at once). Regions are therefore computed over a **strong core** (:func:`strong_core`):
the core firm plus the firms it reaches through ties a scheme makes and an unrelated firm rarely
shares, transitively up to :data:`STRONG_HOPS` steps:

* control going out: firms the core holds shares in (``SHAREHOLDER_OF``, any ratio — a fund
  core is often a 5 % general partner of its LP vehicles), partnerships it runs as their
  执行事务合伙人 (``MANAGING_PARTNER_OF``), firms it ultimately controls
  (equity penetration), its branches and the firms it is a branch of (``BRANCH_OF``,
  ``SAME_AS``);
* money going out: firms the core pays (``PAYS`` from the core: where the collected money is
  moved to);
* a phone shared by at most :data:`STRONG_SHARED_MAX` firms (a bookkeeping agent's or
  business centre's phone, shared by many, never ties).

Member counties, plaintiffs, payers and police regions count only when attached to that strong
core. Not ties by default: firms under the same ultimate controller (``siblings``: a
scheme's controller is often a local business owner with ordinary firms elsewhere; on the
demo cities siblings made 5 of 100 schemes falsely cross-region), and shared people (legal rep,
officer, shareholder: ``person_max``; a nominee legal rep of a few firms is common, and people
ties lowered the accuracy of the flag from 0.76 to 0.52-0.64). With these ties the flag was
right for 0.94 / 0.96 of the schemes of the demo cities of seeds 11 / 23 (before: 0.76 / 0.72,
over control and branches only).
Each enterprise's own ``cross_region``/``lead_region`` are those of its strong core (it is the
core); a group's are those of the strong core of its highest-scoring member.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import chain

from analytics.facts import DEFENDANT_ROLES, PLAINTIFF_ROLES, role_of
from analytics.projection import Projection

EVIDENCE_EDGES = ("SUBJECT_OF", "TIPPED_IN", "ADVERTISED_IN")
STRONG_PERSON_MAX = 0
"""A person who is legal rep / officer of at most this many firms ties them (0: people never
tie; see the module docstring)."""
STRONG_PERSON_EDGES = ("LEGAL_REP_OF", "OFFICER_OF", "SHAREHOLDER_OF")
STRONG_SHARED_MAX = 3
"""A phone shared by at most this many firms ties them (0: never)."""
STRONG_SHARED_LABELS = ("Phone",)
STRONG_DIRECT_EDGES = ("BRANCH_OF", "SAME_AS")
"""Enterprise-to-enterprise ties in either direction."""
STRONG_OUT_EDGES = ("SHAREHOLDER_OF", "MANAGING_PARTNER_OF", "PAYS")
"""Enterprise-to-enterprise ties from the tied firm outwards (it holds / runs / pays the other)."""
STRONG_SIBLINGS = False
"""Firms under the same ultimate controller tie (see the module docstring)."""
STRONG_HOPS = 2
MIN_PEOPLE = 2
"""People (plaintiffs, payers) from another county needed before that county counts."""


@dataclass
class RegionFacts:
    """Counties and cities involved, cross-region flag, proposed lead region."""

    counties: list[str]
    cities: list[str]
    cross_region: bool
    lead_region: str


def _code(value: object) -> str:
    s = str(value or "").strip()
    return s if len(s) == 6 and s.isdigit() else ""


def person_region(attrs: Mapping[str, object]) -> str:
    """Region code of a natural person or unresolved party: ``region``, else the division
    prefix of a (masked) citizen ID (``410502********1234`` → 410502)."""
    r = _code(attrs.get("region"))
    if r:
        return r
    masked = str(attrs.get("id_masked") or "")
    prefix = masked[:6]
    return prefix if len(prefix) == 6 and prefix.isdigit() and prefix[2:] != "0000" else ""


def involved_codes(proj: Projection, members: Iterable[int]
                   ) -> tuple[list[str], list[str], list[str]]:
    """(member counties, people's region codes, official region codes) of ``members``.

    People: natural-person plaintiffs and payers (``Person.region``, else the prefix of a
    masked ID); official: regions named by police clues, tips and ads (``INVOLVES_REGION``)."""
    g = proj.graph
    succ, pred, attr, labels = g._succ, g._pred, g._node, proj.labels
    own: list[str] = []
    other: list[str] = []
    official: list[str] = []
    for e in members:
        c = _code(attr[e].get("county"))
        if c:
            own.append(c)
        for fact, keyed in succ[e].items():
            data = keyed.get("PARTY_TO")
            if data is not None and role_of(data) in DEFENDANT_ROLES:
                for p, keyed2 in pred[fact].items():
                    d2 = keyed2.get("PARTY_TO")
                    if d2 is not None and role_of(d2) in PLAINTIFF_ROLES \
                            and labels[p] in ("Person", "Party"):
                        r = person_region(attr[p])
                        if r:
                            other.append(r)
            if not keyed.keys().isdisjoint(EVIDENCE_EDGES):
                for reg, keyed2 in succ[fact].items():
                    if "INVOLVES_REGION" in keyed2:
                        r = _code(proj.keys[reg])
                        if r:
                            official.append(r)
        for p, keyed in pred[e].items():
            if "PAYS" in keyed and labels[p] in ("Person", "Party"):
                r = person_region(attr[p])
                if r:
                    other.append(r)
    return own, other, official


def summarise(own: Iterable[str], other: Iterable[str], core_county: str = "",
              controller_region: str = "", min_other: int = 1,
              official: Iterable[str] = ()) -> RegionFacts:
    """Counties, cities, cross-region flag and lead region from the involved codes.

    ``min_other``: how many people a non-member county needs to count (a guard against stale
    ID-prefix regions); ``official`` codes (police, tips, ads) always count."""
    own_counts = Counter(c for c in own if not c.endswith("00"))
    other_counts = Counter(other)
    for code in official:
        other_counts[code] += min_other
    counties = set(own_counts)
    for code, n in other_counts.items():
        if not code.endswith("00") and n >= min_other:
            counties.add(code)
    cities = {c[:4] + "00" for c in counties}
    for code in list(other_counts) + [c for c in own if c.endswith("00")]:
        if code.endswith("00") and not code.endswith("0000") and code not in cities:
            cities.add(code)
            counties.add(code)
    lead = core_county or (controller_region if controller_region in counties else "")
    if not lead and own_counts:
        lead = own_counts.most_common(1)[0][0]
    return RegionFacts(sorted(counties), sorted(cities), len(counties) > 1, lead)


def region_facts(proj: Projection, members: Iterable[int], scores: Mapping[int, float],
                 controller: int | None = None, control: Mapping[int, object] | None = None,
                 strong: bool = True, core: int | None = None,
                 by_controller: Mapping[int, set[int]] | None = None,
                 ties_memo: dict[int, set[int]] | None = None) -> RegionFacts:
    """:class:`RegionFacts` of a group of enterprise node ids: over the :func:`strong_core`
    (among all enterprises) of ``core`` (default: the highest-scoring member);
    ``strong=False``: over every member. ``ties_memo``: see :func:`strong_core`."""
    members = list(members)
    if core is None:
        core = max(members, key=lambda m: (scores.get(m, 0.0), proj.keys[m]))
    scope = (strong_core(proj, core, None, control, by_controller=by_controller,
                         ties_memo=ties_memo) if strong else members)
    own, other, official = involved_codes(proj, scope)
    core_county = _code(proj.graph.nodes[core].get("county"))
    ctl_region = ""
    if controller is not None:
        node = proj.graph.nodes[controller]
        ctl_region = _code(node.get("county") or node.get("region"))
    return summarise(own, other, core_county, ctl_region, MIN_PEOPLE, official)


def controlled_firms(control: Mapping[int, object]) -> dict[int, set[int]]:
    """Controller node id → the enterprises it ultimately controls."""
    out: dict[int, set[int]] = {}
    for e, c in control.items():
        ctl = getattr(c, "controller", None)
        if ctl is not None:
            out.setdefault(int(ctl), set()).add(e)
    return out


def strong_core(proj: Projection, core: int, members: Iterable[int] | None = None,
                control: Mapping[int, object] | None = None,
                person_max: int = STRONG_PERSON_MAX, shared_max: int = STRONG_SHARED_MAX,
                hops: int = STRONG_HOPS,
                by_controller: Mapping[int, set[int]] | None = None,
                siblings: bool = STRONG_SIBLINGS,
                ties_memo: dict[int, set[int]] | None = None) -> list[int]:
    """The core firm plus the firms (among ``members``; None: any) strongly tied to it (see
    the module docstring).

    ``control``: enterprise node id → object with a ``controller`` attribute (the ultimate
    controller, :class:`analytics.groups.Control`); ``by_controller``: controller → the firms
    it controls (:func:`controlled_firms` of ``control``; computed when not given);
    ``siblings``: firms under the same controller tie too. ``ties_memo``: each firm's ties
    (before the ``members`` filter), kept across calls that share the graph, ``control``,
    ``by_controller`` and the caps (one scoring run's region facts walk overlapping
    neighbourhoods); the sets in it are read, never changed."""
    g = proj.graph
    succ, pred, labels = g._succ, g._pred, proj.labels
    control = control or {}
    member_set = set(members) if members is not None else None
    by_ctl = by_controller if by_controller is not None else controlled_firms(control)

    def ties(e: int) -> set[int]:
        if ties_memo is None:
            return all_ties(e) & member_set if member_set is not None else all_ties(e)
        out = ties_memo.get(e)
        if out is None:
            out = ties_memo[e] = all_ties(e)
        return out & member_set if member_set is not None else out

    def all_ties(e: int) -> set[int]:
        out: set[int] = set()
        c = getattr(control.get(e), "controller", None)
        if c is not None and siblings:
            out |= by_ctl.get(c, set())
        out |= by_ctl.get(e, set())
        for nb, keyed in succ[e].items():
            if labels[nb] == "Enterprise" and not keyed.keys().isdisjoint(STRONG_OUT_EDGES):
                out.add(nb)
        for nb, keyed in chain(succ[e].items(), pred[e].items()):
            lab = labels[nb]
            if lab == "Enterprise":
                if not keyed.keys().isdisjoint(STRONG_DIRECT_EDGES):
                    out.add(nb)
                continue
            if lab in ("Person", "Party") and person_max > 0:
                if keyed.keys().isdisjoint(STRONG_PERSON_EDGES):
                    continue
                cap = person_max
                firms = [x for x, k2 in succ[nb].items() if labels[x] == "Enterprise"
                         and not k2.keys().isdisjoint(STRONG_PERSON_EDGES)]
            elif lab in STRONG_SHARED_LABELS and shared_max > 0:
                cap = shared_max
                firms = [x for x in list(succ[nb]) + list(pred[nb]) if labels[x] == "Enterprise"]
            else:
                continue
            if len(firms) <= cap:
                out.update(firms)
        return out

    seen = {core}
    frontier = {core}
    for _ in range(max(hops, 0)):
        nxt: set[int] = set()
        for e in frontier:
            nxt |= ties(e) - seen
        seen |= nxt
        frontier = nxt
        if not frontier:
            break
    return sorted(seen)
