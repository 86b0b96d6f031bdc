"""The graph model of riskgraph, declared once, as data.

Every label, its key property, its required properties and indexed properties, and every
relationship type with its allowed source and target labels, is declared here and nowhere else.
Constraints and indexes are generated from this declaration (:mod:`graph.schema`), Cypher
builders accept labels and types only when they are declared here (:mod:`graph.cypher`), and a
test compares the database's constraints with this declaration.

Provenance: every node and relationship written from source data carries the properties in
:data:`PROVENANCE` (source, delivery date, file, row, run id). Facts closed by a later full
snapshot keep their node but get ``ended`` (date) and ``ended_run`` (:data:`ENDED`), cleared
when a later delivery holds them again.

A record node that several tables deliver (:attr:`NodeSpec.parts`, e.g. ``TaxYear``: 纳税人信息
and 申报汇总) is owned part by part: each table stamps its own ``seen_<part>`` (the load that
last delivered it) and a full snapshot of that table ends only its part (``ended_<part>``); the
node itself is ended only when no part is current any more.

Changing the model: edit the declaration, bump :data:`MODEL_VERSION`, and add a migration in
:mod:`graph.schema` when existing data needs rewriting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MODEL_VERSION = 4

PROVENANCE = ("src", "delivery", "file", "row", "run_id")

ENDED = ("ended", "ended_run")
"""What a full snapshot sets on the records it omits; a later delivery of the record clears
them (on nodes and relationships alike)."""


@dataclass(frozen=True)
class RecordPart:
    """One table's share of a record node several tables deliver (:attr:`NodeSpec.parts`)."""

    table: str
    """The table (``rec``: ``<source>/<table>``)."""
    name: str
    """Suffix of its stamps: ``seen_<name>`` and ``ended_<name>``."""
    props: tuple[str, ...]
    """The properties only this table writes on the node."""

    @property
    def seen(self) -> str:
        return f"seen_{self.name}"

    @property
    def ended(self) -> str:
        return f"ended_{self.name}"


@dataclass(frozen=True)
class NodeSpec:
    """A node label: its unique key, properties every node must have, extra indexes."""

    label: str
    key: str
    required: tuple[str, ...] = ()
    indexed: tuple[str, ...] = ()
    fulltext: tuple[str, ...] = ()
    description: str = ""
    parts: tuple[RecordPart, ...] = ()
    """Record nodes several tables deliver: each table's part (see module doc)."""


@dataclass(frozen=True)
class RelSpec:
    """A relationship type with its allowed endpoint labels."""

    type: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    properties: tuple[str, ...] = ()
    description: str = ""
    indexed: tuple[str, ...] = field(default_factory=tuple)


PARTIES = ("Enterprise", "Person", "Party")

NODES: tuple[NodeSpec, ...] = (
    NodeSpec("Enterprise", "uscc", ("name",),
             ("name_norm", "county", "level", "score", "reg_no"), ("name",),
             "A market entity; key is the USCC (or 'REG:'+15-digit 注册号 when no USCC)."),
    NodeSpec("Person", "pid", (), ("name", "id_masked", "region"), ("name",),
             "A natural person; key is a keyed hash of the citizen ID ('P:'…), or a resolved key "
             "('N:'…) with `confidence` when no ID is known. Raw IDs are never stored."),
    NodeSpec("Party", "party_id", ("name",), ("name",), (),
             "A court/credit/police party that could not be resolved unambiguously "
             "(masked name or ID); `reason` says why."),
    NodeSpec("Address", "aid", ("text",), ("county",), (),
             "A normalised address (shared ⇒ linked)."),
    NodeSpec("Phone", "number", (), (), (), "A normalised phone number (shared ⇒ linked)."),
    NodeSpec("Region", "code", ("name", "level"), ("parent",), (),
             "A GB/T 2260 division: level 1 province, 2 prefecture, 3 county/zone."),
    NodeSpec("CourtCase", "case_no", (), ("cause", "filed"), (), "A court case (案号)."),
    NodeSpec("PoliceClue", "clue_no", (), ("status",), (), "A police clue or case (线索编号)."),
    NodeSpec("Tip", "tip_no", (), ("status",), (), "A public tip (举报编号)."),
    NodeSpec("CreditListing", "listing_id", ("list_type",), (), (),
             "A credit-list entry (主体+名单类型+列入日期)."),
    NodeSpec("CreditReport", "report_id", (), (), (), "A credit report summary (USCC+报告日期)."),
    NodeSpec("TaxYear", "tax_id", ("year",), (), (), "Tax facts of one taxpayer and year.",
             parts=(RecordPart("tax/纳税人信息", "taxpayer",
                               ("taxpayer_name", "tax_authority", "tax_status", "credit_grade")),
                    RecordPart("tax/申报汇总", "declaration",
                               ("revenue_yuan", "tax_due_yuan", "tax_paid_yuan", "arrears_yuan",
                                "zero_months", "insured")))),
    NodeSpec("BankAlert", "alert_id", ("pattern",), (), (),
             "A suspicious-account alert (主体代码+监测期起+异动特征)."),
    NodeSpec("Ad", "ad_id", (), (), (), "A monitored advertisement (监测编号)."),
    NodeSpec("Change", "change_id", ("item",), (), (), "A registration change record (变更记录)."),
    NodeSpec("Group", "group_id", (), ("score",), (), "A group of linked firms (analytics)."),
    NodeSpec("Delivery", "delivery_id", ("source", "date"), (), (),
             "One delivery folder of one source (inbox/<date>/<source>)."),
    NodeSpec("LoadedFile", "file_id", ("sha256",), ("sha256",), (),
             "One file loaded (content hash), for idempotent re-delivery."),
    NodeSpec("Run", "run_id", ("started",), ("status",), (), "One ingest/score/refresh run."),
    NodeSpec("ScoreRecord", "record_id", ("uscc", "run_id", "from_seq", "to_seq"),
             ("uscc", "run_id", "from_seq", "to_seq", "level", "group_id"), (),
             "The score of one enterprise from the run that wrote it (``from_seq``) until "
             "the run that replaced it (``to_seq``): written only when it changed."),
    NodeSpec("ModelVersion", "version", (), (), (), "A scoring model version (weights)."),
    NodeSpec("Alert", "alert_key", ("kind",), ("county", "status"), (), "A refresh alert."),
    NodeSpec("Outcome", "outcome_id", ("verdict",), (), (), "A confirmed/dismissed verdict."),
    NodeSpec("LedgerEntry", "entry_id", ("county", "status"), ("county", "status"), (),
             "A county risk-ledger entry (风险台账)."),
    NodeSpec("LedgerEvent", "event_id", ("entry_id", "user", "action", "at"),
             ("entry_id", "at"), (),
             "One immutable history row of a ledger entry or a group hand-off (workflow)."),
    NodeSpec("AuditEvent", "event_id", ("user", "action", "at"), ("user",), (),
             "An append-only audit row."),
    NodeSpec("User", "username", ("role",), (), (), "A local account."),
    NodeSpec("SchemaMigration", "version", (), (), (), "An applied schema migration."),
    NodeSpec("KeyCheck", "name", ("fingerprint",), (), (),
             "The fingerprint of the hash key that made the graph's person keys and the "
             "accounts' password peppers (an HMAC of a fixed text: it tells keys apart and "
             "reveals nothing of the key). One node, ``name`` 'hash_key' (graph.keycheck)."),
)

RELATIONSHIPS: tuple[RelSpec, ...] = (
    RelSpec("LEGAL_REP_OF", ("Person", "Party"), ("Enterprise",)),
    RelSpec("SHAREHOLDER_OF", PARTIES, ("Enterprise",), ("ratio", "subscribed_wan", "paid_wan")),
    RelSpec("OFFICER_OF", ("Person", "Party"), ("Enterprise",), ("role",)),
    RelSpec("MANAGING_PARTNER_OF", ("Enterprise", "Party"), ("Enterprise",), (),
            "执行事务合伙人 that is a firm (a partnership's 法定代表人 field names it, often "
            "as 'firm（委派代表：person）'): the firm that runs the partnership."),
    RelSpec("BRANCH_OF", ("Enterprise",), ("Enterprise",)),
    RelSpec("REGISTERED_AT", ("Enterprise",), ("Address",)),
    RelSpec("LIVES_AT", ("Person",), ("Address",)),
    RelSpec("HAS_PHONE", ("Enterprise", "Person"), ("Phone",)),
    RelSpec("IN_REGION", ("Enterprise", "Person", "Address", "Party"), ("Region",),
            ("rule", "evidence")),
    RelSpec("PART_OF", ("Region",), ("Region",)),
    RelSpec("PARTY_TO", PARTIES, ("CourtCase",), ("role",)),
    RelSpec("SUBJECT_OF", PARTIES, ("PoliceClue",), ("role",)),
    RelSpec("INVOLVES_REGION", ("PoliceClue", "Ad", "Tip"), ("Region",)),
    RelSpec("TIPPED_IN", ("Enterprise", "Party"), ("Tip",)),
    RelSpec("FLAGGED_IN", PARTIES, ("BankAlert",)),
    RelSpec("ADVERTISED_IN", ("Enterprise", "Party"), ("Ad",)),
    RelSpec("LISTED_IN", PARTIES, ("CreditListing",)),
    RelSpec("HAS_CREDIT_REPORT", ("Enterprise",), ("CreditReport",)),
    RelSpec("FILED_TAX", ("Enterprise",), ("TaxYear",)),
    RelSpec("HAS_CHANGE", ("Enterprise",), ("Change",)),
    RelSpec("PAYS", PARTIES, PARTIES, ("amount_yuan", "count", "period_from", "period_to")),
    RelSpec("SAME_AS", ("Enterprise",), ("Enterprise",), (), "15-digit 注册号 ↔ USCC link."),
    RelSpec("MEMBER_OF", ("Enterprise",), ("Group",)),
    RelSpec("CONTROLS", ("Person", "Enterprise", "Party"), ("Enterprise",), ("share",)),
    RelSpec("LOADED_IN", ("LoadedFile",), ("Delivery",)),
    RelSpec("ALERT_FOR", ("Alert",), ("Enterprise", "Group")),
    RelSpec("OUTCOME_FOR", ("Outcome",), ("Enterprise", "Group")),
    RelSpec("LEDGER_FOR", ("LedgerEntry",), ("Enterprise", "Group")),
    RelSpec("EVENT_OF", ("LedgerEvent",), ("LedgerEntry", "Group"), (),
            "History row → the ledger entry (or group hand-off) it belongs to."),
    RelSpec("OUTCOME_OF", ("Outcome",), ("LedgerEntry",), (),
            "The ledger entry whose closing recorded this outcome."),
    RelSpec("SCORED_AS", ("Enterprise",), ("ScoreRecord",)),
)

# Bookkeeping labels an otherwise EMPTY graph may hold (runs, schema migrations, accounts,
# audit rows, the hash key's fingerprint): a bulk first load (ingest/bulk.py) keeps these
# nodes across the import.
BOOKKEEPING_LABELS: tuple[str, ...] = ("Run", "SchemaMigration", "User", "AuditEvent",
                                       "KeyCheck")

NODE_BY_LABEL: dict[str, NodeSpec] = {n.label: n for n in NODES}
REL_BY_TYPE: dict[str, RelSpec] = {r.type: r for r in RELATIONSHIPS}
LABELS: frozenset[str] = frozenset(NODE_BY_LABEL)
REL_TYPES: frozenset[str] = frozenset(REL_BY_TYPE)


def record_part(label: str, table: str) -> RecordPart | None:
    """The part of ``label`` that ``table`` (``<source>/<table>``) delivers; ``None`` when the
    label is not delivered in parts or ``table`` is none of them."""
    return next((p for p in NODE_BY_LABEL[label].parts if p.table == table), None)


def key_of(label: str) -> str:
    """The key property of ``label``; raises KeyError for an undeclared label."""
    return NODE_BY_LABEL[label].key
