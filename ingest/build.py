"""Turn validated rows into graph writes: entity resolution shared by every source.

:class:`Writes` collects node rows per (label, mode) and relationship rows per (type, source,
target) — plain dicts, no Cypher. :class:`BuildContext` carries the provenance of the file
being built and the resolution helpers:

* enterprises by USCC (``REG:<注册号>`` for old 15-digit numbers);
* persons by keyed hash of a valid citizen ID (``P:``) — the raw ID is never put in a row —
  or, without one, ``N:`` + keyed hash of (name, enterprise) with ``confidence`` 0.5;
* masked or code-less parties (court, credit, police, bank, tips, ads) resolved to a known
  person/enterprise only when unambiguous (:meth:`BuildContext.resolve_parties`), otherwise a
  ``Party`` node with ``reason``;
* territory (属地) of enterprises and the region of persons (:func:`territory`,
  :func:`person_region`).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from neo4j import Driver

from graph import access, cypher
from graph.model import ENDED, NODE_BY_LABEL, record_part
from ingest import normalise as nz
from ingest.build_cache import is_valid_citizen_id, is_valid_regno, is_valid_uscc
from riskgraph.divisions import COUNTY, PREFECTURE, divisions
from riskgraph.identifiers import (
    is_masked_id,
    is_masked_name,
    keyed_hash,
    mask_id,
    mask_name,
    person_key,
    uscc_division,
)


@lru_cache(maxsize=1 << 12)
def _parse_cached(text: str, city: str) -> Any:
    return divisions().parse_region(text, city)


@lru_cache(maxsize=1 << 20)
def _person_key(citizen_id: str, key: bytes) -> str:
    return person_key(citizen_id, key)

Props = dict[str, Any]


@dataclass
class Writes:
    """Rows to write. ``nodes[(label, mode)]`` mode: record | update | stub."""

    nodes: dict[tuple[str, str], dict[Any, Props]] = field(
        default_factory=lambda: defaultdict(dict))
    rels: dict[tuple[str, str, str], dict[tuple[Any, Any, str], Props]] = field(
        default_factory=lambda: defaultdict(dict))
    enterprise_names: dict[str, str] = field(default_factory=dict)  # referenced, by key

    def node(self, label: str, key: Any, props: Props, mode: str = "update") -> None:
        """Add a node row; a row already there for ``key`` takes the non-null ``props``, and
        in mode ``record`` also the null ones it lacks (a record's ``None`` removes the
        property: two tables delivering parts of one record in one file each keep theirs)."""
        bucket = self.nodes[(label, mode)]
        if key in bucket:
            held = bucket[key]
            held.update({k: v for k, v in props.items() if v is not None})
            if mode == "record":
                for k, v in props.items():
                    held.setdefault(k, v)
        else:
            bucket[key] = dict(props)

    def rel(self, type_: str, source: tuple[str, Any], target: tuple[str, Any], props: Props,
            rk: str = "") -> None:
        self.rels[(type_, source[0], target[0])][(source[1], target[1], rk)] = props

    def merge(self, other: Writes) -> None:
        for (label, mode), rows in other.nodes.items():
            for key, props in rows.items():
                self.node(label, key, props, mode)
        for k, rels in other.rels.items():
            self.rels[k].update(rels)
        for code, name in other.enterprise_names.items():
            self.enterprise_names.setdefault(code, name)

    def count(self) -> int:
        return sum(len(v) for v in self.nodes.values()) + sum(len(v) for v in self.rels.values())


def territory(authority: str | None, uscc: str | None, address: str | None, city: str
              ) -> tuple[str, str, str, bool]:
    """属地 of an enterprise: ``(county code, rule, evidence, in_city)``.

    Rule order (source-formats.md): the registering authority when it names a county; else
    USCC characters 3-8 when a county code (inside the authority's prefecture if known); else
    the county parsed from the address; else the prefecture itself (rule ``city``, 市本级).
    """
    reg = divisions()
    auth = _parse_cached(authority, city) if authority else None
    if auth is not None and auth.level >= COUNTY:
        county = reg.county_of(auth.code) or auth
        return county.code, "authority", authority or "", reg.is_within(county.code, city)
    prefecture = auth.code if auth is not None and auth.level == PREFECTURE else None
    if uscc and is_valid_uscc(uscc):
        code = uscc_division(uscc)
        item = reg.get(code)
        if item is not None and item.level == COUNTY and (
                prefecture is None or reg.is_within(code, prefecture)):
            return code, "uscc", code, reg.is_within(code, city)
    if address:
        addr = reg.parse_region(address, prefecture or city)
        if addr is not None and addr.level >= COUNTY:
            county = reg.county_of(addr.code) or addr
            if prefecture is None or reg.is_within(county.code, prefecture):
                return county.code, "address", address, reg.is_within(county.code, city)
        if prefecture is None and addr is not None and addr.level == PREFECTURE:
            prefecture = addr.code
    target = prefecture or (auth.code if auth is not None else city)
    return target, "city", authority or address or "", reg.is_within(target, city)


def person_region(citizen_id: str | None) -> tuple[str | None, str | None]:
    """Region of a person from the ID prefix: county, else prefecture, else province."""
    if not citizen_id or len(citizen_id) < 6 or not citizen_id[:6].isdigit():
        return None, None
    return _prefix_region(citizen_id[:6])


@lru_cache(maxsize=1 << 14)
def _prefix_region(prefix: str) -> tuple[str | None, str | None]:
    reg = divisions()
    county = reg.county_of(prefix)
    if county is not None:
        return county.code, "id_prefix"
    if reg.get(prefix[:4] + "00") is not None:
        return prefix[:4] + "00", "id_prefecture"
    if reg.get(prefix[:2] + "0000") is not None:
        return prefix[:2] + "0000", "id_province"
    return None, None


def region_rows(codes: Iterable[str]) -> dict[str, Props]:
    """Region nodes for ``codes`` and all their ancestors (from the divisions registry)."""
    reg = divisions()
    out: dict[str, Props] = {}
    for code in sorted(codes):  # a set from the caller: one order, one CSV
        item = reg.get(code)
        while item is not None and item.code not in out:
            out[item.code] = {"name": item.name, "level": item.level, "parent": item.parent,
                              "zone": item.zone, "src": "divisions"}
            item = reg.get(item.parent)
    return out


def served_regions(city: str) -> list[str]:
    """The served city, its counties, its province, neighbours and their counties."""
    reg = divisions()
    codes = [city[:2] + "0000", city]
    codes += [d.code for d in reg.counties(city)]
    for n in reg.neighbours(city):
        codes.append(n.code)
        codes += [d.code for d in reg.counties(n.code)]
    return codes


@dataclass
class BuildContext:
    """Provenance and resolution helpers for one table of one file."""

    source: str
    table: str
    delivery: str
    file: str
    run_id: str
    load_id: str
    city: str
    hash_key: bytes
    driver: Driver | None = None
    database: str | None = None
    writes: Writes = field(default_factory=Writes)
    memory: Any = None  # ingest.bulk.MemoryGraph during a bulk first load: look-ups go there
    rec_keys: Mapping[int, str] = field(default_factory=dict)
    """Row → record key of the row (:func:`ingest.pipeline.record_keys`), stamped on the
    records it writes as ``rec_key``."""

    @property
    def rec(self) -> str:
        return f"{self.source}/{self.table}"

    def prov(self, row: int) -> Props:
        return {"src": self.source, "delivery": self.delivery, "file": self.file,
                "row": int(row), "run_id": self.run_id}

    def record_props(self, row: int, props: Mapping[str, Any], label: str | None = None
                     ) -> Props:
        """Props of a record owned by this table (full snapshots end what they omit; a row
        quarantined from one keeps the records of its ``rec_key``). A node ``label`` that
        several tables deliver (:attr:`graph.model.NodeSpec.parts`) must be named: the
        record then also carries this table's part stamps (``seen_<part>`` = this load,
        ``ended_<part>`` cleared)."""
        out = {**props, **self.prov(row), "rec": self.rec, "rec_key": self.rec_keys.get(row),
               **dict.fromkeys(ENDED)}
        if label is not None and NODE_BY_LABEL[label].parts:
            part = record_part(label, self.rec)
            if part is None:
                raise KeyError(f"{self.rec} is not a declared part of {label} (graph/model.py)")
            out |= {part.seen: self.load_id, part.ended: None}
        return out

    # --- keys ---------------------------------------------------------------------------

    @staticmethod
    def enterprise_key(code: str | None) -> str | None:
        if not code:
            return None
        if is_valid_uscc(code):
            return code
        if is_valid_regno(code):
            return "REG:" + code
        return None

    def person_by_id(self, citizen_id: str, name: str | None, row: int) -> str:
        pid = _person_key(citizen_id, self.hash_key)
        region, rule = person_region(citizen_id)
        props = {"name": name, "name_masked": mask_name(name) if name else None,
                 "id_masked": mask_id(citizen_id), "region": region, "region_rule": rule,
                 "confidence": 1.0, "resolution": "id", **self.prov(row)}
        self.writes.node("Person", pid, props)
        if region:
            self.writes.rel("IN_REGION", ("Person", pid), ("Region", region),
                            {"rule": rule, "evidence": citizen_id[:6], **self.prov(row)})
        return pid

    def person_by_name(self, name: str, uscc: str, row: int) -> str:
        pid = "N:" + keyed_hash(f"{name}|{uscc}", self.hash_key)
        self.writes.node("Person", pid, {"name": name, "name_masked": mask_name(name),
                                         "confidence": 0.5, "resolution": "name",
                                         **self.prov(row)})
        return pid

    def person(self, name: str | None, citizen_id: str | None, uscc: str, row: int
               ) -> str | None:
        """A person attached to enterprise ``uscc``: by valid ID, else by (name, enterprise)."""
        if citizen_id and is_valid_citizen_id(citizen_id):
            return self.person_by_id(citizen_id, name, row)
        if name and not is_masked_name(name):
            pid = self.person_by_name(name, uscc, row)
            if citizen_id and is_masked_id(citizen_id):
                self.writes.node("Person", pid, {"id_masked": citizen_id})
            return pid
        if name:
            return self.party(name, citizen_id, f"{uscc}", row, "masked person, no ID")[1]
        return None

    def enterprise_stub(self, uscc: str, name: str | None, row: int) -> tuple[str, str]:
        """Reference an enterprise by key. No node is created: enterprises exist only from
        企业基本信息 (the registration export includes linked firms outside the city). The
        writer links a reference to an enterprise never registered to a ``Party`` (reason
        "not in registration export", code and name kept) or, where the model allows no
        Party, lists it as unresolved in the run report (:func:`ingest.writer.link_unregistered`).
        """
        if name:
            self.writes.enterprise_names.setdefault(uscc, name)
        return "Enterprise", uscc

    def party(self, name: str, masked_id: str | None, table_key: str, row: int, reason: str
              ) -> tuple[str, str]:
        pid = "X:" + keyed_hash(f"{self.rec}|{table_key}|{name}|{masked_id or ''}", self.hash_key)
        self.writes.node("Party", pid, {"name": name, "id_masked": masked_id, "reason": reason,
                                        **self.prov(row)})
        return "Party", pid

    def address(self, text: str | None, county: str | None, row: int) -> str | None:
        aid = nz.address_id(text)
        if aid is None:
            return None
        self.writes.node("Address", aid, {"text": nz.address_norm(text), "county": county,
                                          **self.prov(row)})
        return aid

    # --- parties needing lookups -------------------------------------------------------

    def resolve_parties(self, items: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """Resolve subjects given as ``{name, code, kind (person|org|None), key, row,
        counterparts: [uscc…]}``.

        Valid USCC/注册号 → Enterprise (stub if unknown); valid citizen ID → Person; a name
        that is exactly one known enterprise's name → that Enterprise; a masked or code-less
        person matching exactly one person linked to a counterpart enterprise (masked ID
        prefix+suffix and masked name agree) → that Person; anything else → Party with reason.
        """
        out: list[tuple[str, str] | None] = [None] * len(items)
        pending_names: dict[str, list[int]] = defaultdict(list)
        pending_people: list[int] = []
        for i, it in enumerate(items):
            code, name, kind = it.get("code"), it.get("name"), it.get("kind")
            ekey = self.enterprise_key(code)
            if ekey is not None and kind != "person":
                out[i] = self.enterprise_stub(ekey, name, it["row"])
            elif code and is_valid_citizen_id(code):
                out[i] = ("Person", self.person_by_id(code, name, it["row"]))
            elif ekey is not None:
                out[i] = self.enterprise_stub(ekey, name, it["row"])
            elif name and kind != "person" and not is_masked_name(name):
                pending_names[name].append(i)
            elif name:
                pending_people.append(i)
        if pending_names:
            found = self._enterprises_by_name(list(pending_names))
            for name, idxs in pending_names.items():
                for i in idxs:
                    key = found.get(name)
                    if key is not None:
                        out[i] = ("Enterprise", key)
                    elif items[i].get("kind") == "org":
                        out[i] = self.party(name, None, items[i]["key"], items[i]["row"],
                                            "enterprise name not known, no valid code")
                    else:
                        pending_people.append(i)
        if pending_people:
            linked = self._persons_linked({u for i in pending_people
                                           for u in items[i].get("counterparts") or ()})
            for i in pending_people:
                it = items[i]
                pid = _match_person(it["name"], it.get("code"), it.get("counterparts") or (),
                                    linked)
                if pid is not None:
                    out[i] = ("Person", pid)
                    continue
                masked = it.get("code") if it.get("code") and is_masked_id(it["code"]) else None
                reason = ("masked person, no unambiguous match" if masked or
                          is_masked_name(it["name"]) else "person without valid ID")
                out[i] = self.party(it["name"], masked, it["key"], it["row"], reason)
        return [o if o is not None else ("", "") for o in out]

    def _enterprises_by_name(self, names: list[str]) -> dict[str, str]:
        norms = [nz.name_norm(n) for n in names]
        if self.memory is not None:
            rows = self.memory.enterprises_by_name(names, norms)
        elif self.driver is None:
            return {}
        else:
            rows = access.read(self.driver, cypher.ingest_enterprises_by_name(),
                               {"names": names, "norms": norms}, database=self.database)
        hits: dict[str, set[str]] = defaultdict(set)
        for r in rows:
            hits[r["q"]].add(r["uscc"])
        return {n: next(iter(u)) for n, u in hits.items() if len(u) == 1}

    def _persons_linked(self, usccs: set[str]) -> dict[str, list[dict[str, Any]]]:
        if not usccs or (self.driver is None and self.memory is None):
            return {}
        if self.memory is not None:
            rows = self.memory.persons_linked(sorted(usccs))
        else:
            assert self.driver is not None
            rows = access.read(self.driver, cypher.ingest_persons_linked(),
                               {"usccs": sorted(usccs)}, database=self.database)
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            out[r["uscc"]].append(r)
        return out


def _match_person(name: str, code: str | None, counterparts: Iterable[str],
                  linked: Mapping[str, list[dict[str, Any]]]) -> str | None:
    """The single person linked to a counterpart enterprise matching the masked party."""
    if not code and is_masked_name(name):
        return None  # a masked name alone is never enough
    masked = code if code and is_masked_id(code) else None
    candidates: set[str] = set()
    for uscc in counterparts:
        for p in linked.get(uscc, ()):
            pname, pmask = p.get("name") or "", p.get("id_masked") or ""
            if is_masked_name(name):
                if not pname or mask_name(pname) != name:
                    continue
            elif pname != name:
                continue
            if masked is not None:
                if len(pmask) != 18 or pmask[:6] != masked[:6] or pmask[-4:] != masked[-4:]:
                    continue
            candidates.add(p["pid"])
    return next(iter(candidates)) if len(candidates) == 1 else None


def short_hash(*parts: Any) -> str:
    return hashlib.sha1("\x1f".join("" if p is None else str(p) for p in parts)
                        .encode("utf-8")).hexdigest()[:12]
