"""The in-memory graph of the bulk first load (ingest/bulk.py) without a server.

``MemoryGraph`` sets properties through cached per-name-tuple plans and writes CSV column by
column; these tests hold both to the plain semantics: a random sequence of writes against a
reference model (values, ``None`` handling per mode, column order = order of first creation),
and mixed-type columns split into separate files.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from graph.model import ENDED
from ingest import bulk
from ingest.bulk import MemoryGraph

NAMES = ["a", "b", "c", "d", "e", "ended"]
VALUES: list[Any] = [None, None, "x", 'q"uote', "", 1, 2.5, True, ["p", "q"]]


class Reference:
    """The writer's semantics spelled out: dict rows, columns in order of creation."""

    def __init__(self) -> None:
        self.cols: dict[Any, list[str]] = {}
        self.rows: dict[Any, dict[Any, dict[str, Any]]] = {}

    def _set(self, table: Any, row: dict[str, Any], props: dict[str, Any]) -> None:
        cols = self.cols.setdefault(table, [])
        for k, v in props.items():
            if k not in cols:
                cols.append(k)
            row[k] = v

    def merge_nodes(self, label: str, mode: str, items: list[tuple[Any, dict[str, Any]]],
                    load_id: str) -> None:
        rows = self.rows.setdefault(label, {})
        for key, props in items:
            if mode != "record":
                props = {k: v for k, v in props.items() if v is not None}
            row = rows.get(key)
            if row is None:
                row = rows[key] = {}
            elif mode == "stub":
                continue
            self._set(label, row, props)
            if mode == "record":
                self._set(label, row, {"seen": load_id})

    def merge_rels(self, bucket: tuple[str, str, str],
                   items: list[tuple[tuple[Any, Any, str], dict[str, Any]]], load_id: str,
                   record: bool) -> int:
        done = 0
        for ends, props in items:
            if ends[0] not in self.rows.get(bucket[1], {}) or \
                    ends[1] not in self.rows.get(bucket[2], {}):
                continue
            rows = self.rows.setdefault(bucket, {})
            row = rows.get(ends)
            if row is None:
                row = rows[ends] = {}
                self._set(bucket, row, {"rk": ends[2]})
            self._set(bucket, row, {k: v for k, v in props.items() if v is not None})
            if record:  # a record delivered again is current again
                row.update({k: None for k in ENDED if k in props and props[k] is None})
            if record:
                self._set(bucket, row, {"seen": load_id})
            done += 1
        return done


def _props(rng: random.Random) -> dict[str, Any]:
    names = rng.sample(NAMES, rng.randint(0, len(NAMES)))
    return {n: rng.choice(VALUES) for n in names}


def _same(graph: MemoryGraph, ref: Reference) -> None:
    tables: dict[Any, Any] = {**graph.nodes, **graph.rels}
    for name, table in tables.items():
        if not table.rows:
            continue
        assert list(table.cols) == ref.cols[name], name
        got = {k: {c: row[i] for c, i in table.cols.items() if i < len(row)
                   and row[i] is not None} for k, row in table.rows.items()}
        want = {k: {c: v for c, v in row.items() if v is not None}
                for k, row in ref.rows[name].items()}
        assert got == want, name
    assert {n for n, t in tables.items() if t.rows} == {n for n, r in ref.rows.items() if r}


@pytest.mark.parametrize("seed", range(20))
def test_random_writes_match_reference(seed: int) -> None:
    rng = random.Random(seed)
    graph, ref = MemoryGraph(), Reference()
    keys = [f"k{i}" for i in range(8)]
    for step in range(60):
        load_id = f"L{step}"
        if rng.random() < 0.6:
            label = rng.choice(["Enterprise", "Person"])
            mode = rng.choice(["record", "update", "stub"])
            items = [(rng.choice(keys), _props(rng)) for _ in range(rng.randint(1, 6))]
            # one props shape repeated, as a builder makes them (the plans' fast path)
            shape = _props(rng)
            items += [(rng.choice(keys), {k: rng.choice(VALUES) for k in shape})
                      for _ in range(rng.randint(0, 6))]
            graph.merge_nodes(label, mode, items, load_id)
            ref.merge_nodes(label, mode, items, load_id)
        else:
            bucket = ("LINK", rng.choice(["Enterprise", "Person"]), "Enterprise")
            shape = _props(rng)
            items = [((rng.choice(keys), rng.choice(keys), rng.choice(["", "r1"])),
                      {k: rng.choice(VALUES) for k in shape} if rng.random() < 0.7
                      else _props(rng)) for _ in range(rng.randint(1, 8))]
            record = rng.random() < 0.5
            assert graph.merge_rels(bucket, items, load_id, record) == \
                ref.merge_rels(bucket, items, load_id, record)
        _same(graph, ref)


def test_name_index_follows_record_updates() -> None:
    graph = MemoryGraph()
    graph.merge_nodes("Enterprise", "record", [("U1", {"name_norm": "甲"})], "L1")
    graph.merge_nodes("Enterprise", "update", [("U1", {"name_norm": None})], "L1")
    assert graph.by_name["甲"] == {"U1"}
    graph.merge_nodes("Enterprise", "record", [("U1", {"name_norm": "乙"})], "L2")
    assert graph.by_name["甲"] == set() and graph.by_name["乙"] == {"U1"}


def test_mixed_type_column_splits_files(tmp_path: Path) -> None:
    graph = MemoryGraph()
    graph.merge_nodes("Phone", "update", [
        ("p1", {"number": "p1", "v": "text", "n": 1}),
        ("p2", {"number": "p2", "v": 7, "n": None}),
        ("p3", {"number": "p3", "v": None, "n": 3, "flag": False}),
        ("p4", {"number": "p4", "v": 'say "hi"', "f": 1.5}),
        ("p5", {"number": "p5", "v": ["a", "b"]}),
    ], "L")
    args = bulk.write_csv(graph, tmp_path)
    files = {Path(a.split("=", 2)[2]).name: Path(a.split("=", 2)[2]).read_text("utf-8")
             for a in args if a.startswith("--nodes=")}
    assert files == {
        "n001_Phone.csv": 'number:ID(Phone),n:long,flag:boolean,f:double,v:string\n'
                          '"p1",1,,,"text"\n"p4",,,1.5,"say ""hi"""\n',
        "n002_Phone.csv": 'number:ID(Phone),n:long,flag:boolean,f:double,v:long\n'
                          '"p2",,,,7\n',
        "n003_Phone.csv": 'number:ID(Phone),n:long,flag:boolean,f:double\n"p3",3,false,\n',
        "n004_Phone.csv": 'number:ID(Phone),n:long,flag:boolean,f:double,v:string[]\n'
                          '"p5",,,,"a\x1fb"\n',
    }


@pytest.mark.parametrize("value, message", [
    (float("nan"), "non-finite"), ({"a": 1}, "type dict"), ([1, "a"], "single element type"),
])
def test_unsupported_values_refused(tmp_path: Path, value: Any, message: str) -> None:
    graph = MemoryGraph()
    graph.merge_nodes("Phone", "update", [("p1", {"number": "p1", "x": value})], "L")
    with pytest.raises(bulk.BulkUnsupported, match=message):
        bulk.write_csv(graph, tmp_path)


def test_end_missing_spares_the_snapshots_loads_and_kept_keys() -> None:
    """:meth:`MemoryGraph.end_missing` as :func:`ingest.writer.end_missing`: a record of the
    table stamped by none of the snapshot's loads ends, unless its ``rec_key`` is one of the
    snapshot's quarantined rows; records of other tables or never stamped are left alone."""
    graph = MemoryGraph()

    def rec(key: str, rec: str = "registration/企业基本信息") -> dict[str, Any]:
        return {"rec": rec, "rec_key": key, "ended": None, "ended_run": None}

    graph.merge_nodes("Enterprise", "record", [("A", rec("A")), ("B", rec("B"))], "L1")
    graph.merge_nodes("Enterprise", "record", [("C", rec("C")), ("D", rec("D"))], "L2")
    graph.merge_nodes("Enterprise", "record", [("E", rec("E", "tax/纳税人信息"))], "L0")
    graph.merge_nodes("Enterprise", "update", [("F", {"name": "stub"})], "L0")
    graph.merge_nodes("Person", "update", [("P", {"name": "p"})], "L1")
    graph.merge_rels(("SHAREHOLDER_OF", "Person", "Enterprise"),
                     [(("P", "A", ""), rec("A", "registration/股东及出资信息")),
                      (("P", "B", ""), rec("B", "registration/股东及出资信息"))], "L0", True)
    graph.end_missing("registration/企业基本信息", ["L2", "L3"], "2024-02-01", "r",
                      ["Enterprise"], [], ["B"])
    graph.end_missing("registration/股东及出资信息", ["L3"], "2024-02-01", "r",
                      [], ["SHAREHOLDER_OF"], ["A"])
    table = graph.nodes["Enterprise"]
    ended = {k: table.get(row, "ended") for k, row in table.rows.items()}
    assert ended == {"A": "2024-02-01", "B": None, "C": None, "D": None, "E": None, "F": None}
    links = graph.rels[("SHAREHOLDER_OF", "Person", "Enterprise")]
    assert {k[1]: links.get(row, "ended") for k, row in links.rows.items()} == {
        "A": None, "B": "2024-02-01"}


def test_end_missing_ends_only_the_snapshots_part_of_a_tax_year() -> None:
    """On a label delivered in parts (TaxYear), :meth:`MemoryGraph.end_missing` ends the
    snapshot's own part of the nodes it omits, and the node only when no other part is
    current: as :func:`graph.cypher.ingest_end_nodes` does."""
    graph = MemoryGraph()
    tp, decl = "tax/纳税人信息", "tax/申报汇总"

    def part(rec: str, name: str, load: str) -> dict[str, Any]:
        return {"rec": rec, "rec_key": "k", f"seen_{name}": load, f"ended_{name}": None,
                "ended": None, "ended_run": None}

    graph.merge_nodes("TaxYear", "record", [
        ("both", part(tp, "taxpayer", "T1")), ("tp-only", part(tp, "taxpayer", "T1"))], "T1")
    graph.merge_nodes("TaxYear", "record", [
        ("both", part(decl, "declaration", "D1")),
        ("decl-only", part(decl, "declaration", "D1"))], "D1")
    graph.end_missing(tp, ["T2"], "2024-02-01", "r", ["TaxYear"], [], [])
    table = graph.nodes["TaxYear"]

    def state(key: str) -> tuple[Any, ...]:
        row = table.rows[key]
        return (table.get(row, "ended_taxpayer"), table.get(row, "ended_declaration"),
                table.get(row, "ended"), table.get(row, "ended_run"))

    assert state("both") == ("2024-02-01", None, None, None)
    assert state("tp-only") == ("2024-02-01", None, "2024-02-01", "r")
    assert state("decl-only") == (None, None, None, None)
    graph.end_missing(decl, ["D2"], "2024-03-01", "r3", ["TaxYear"], [], ["k"])
    assert state("both")[1] is None  # its record key is one of the snapshot's kept rows
    graph.end_missing(decl, ["D2"], "2024-03-01", "r3", ["TaxYear"], [], [])
    assert state("both") == ("2024-02-01", "2024-03-01", "2024-03-01", "r3")
    assert state("decl-only") == (None, "2024-03-01", "2024-03-01", "r3")


def test_tables_delivering_parts_of_one_record_share_its_key() -> None:
    """The parts of a record are ended by the node's ``rec_key`` (whichever table wrote it
    last): every table delivering a part must make the same record key, and every part's
    properties are the table's own (no other part writes them)."""
    from graph.model import NODES
    from ingest.sources import table_spec

    for spec in (n for n in NODES if n.parts):
        keys = set()
        for part in spec.parts:
            source, table = part.table.split("/")
            keys.add(table_spec(source, table).seen_columns)
        assert len(keys) == 1, spec.label
        names = [k for part in spec.parts for k in part.props]
        assert len(names) == len(set(names)), spec.label
