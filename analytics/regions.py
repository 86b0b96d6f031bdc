"""Cross-region facts of a group (or of a single enterprise).

The regions involved in a set of firms are: the members' counties (``Enterprise.county``), the
regions of the natural-person plaintiffs in lending cases against them and of the natural-person
payers paying them (``Person.region``), and the regions police clues, tips and ads about them
name (``INVOLVES_REGION``). Six-digit codes ending in ``00`` are prefecture-level: they add
their city, and count as a further county only when no county of that city is involved already.

A set is **cross-region** when more than one county is involved. The **proposed lead region**
(主办地区) is where the core firm (highest score) sits, else where the controller sits, else the
county with most members.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from analytics.facts import DEFENDANT_ROLES, PLAINTIFF_ROLES, role_of
from analytics.projection import Projection

EVIDENCE_EDGES = ("SUBJECT_OF", "TIPPED_IN", "ADVERTISED_IN")
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
            if any(t in keyed for t in EVIDENCE_EDGES):
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
                 controller: int | None = None) -> RegionFacts:
    """:class:`RegionFacts` of a group of enterprise node ids."""
    members = list(members)
    own, other, official = involved_codes(proj, members)
    core = max(members, key=lambda m: (scores.get(m, 0.0), proj.keys[m]))
    core_county = _code(proj.graph.nodes[core].get("county"))
    ctl_region = ""
    if controller is not None:
        node = proj.graph.nodes[controller]
        ctl_region = _code(node.get("county") or node.get("region"))
    return summarise(own, other, core_county, ctl_region, MIN_PEOPLE, official)
