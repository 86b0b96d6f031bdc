"""Linked-party risk: damped noisy-OR propagation as a SciPy/NumPy sparse iteration.

Method
------
Enterprises are linked through *connectors* (Person, Party, Address, Phone: legal reps,
officers, shareholders, shared addresses and phones) and directly (branches, corporate
shareholders, money flows ``PAYS``, ``SAME_AS``). Each link has a transmission weight
(:data:`WEIGHTS`; shareholders scale with their ``ratio``; a shared legal representative, often
a nominee, transmits less than a branch: 0.6 against 0.8, which on the demo city lifted
precision@k from 0.54 to 0.59 and early recall from 0.34 to 0.40; later a phone or address
shared by a handful of firms 0.8/0.75, money received 0.8 and a branch 1 against 0.6 for a legal
rep: precision@k 0.72/0.76 → 0.74/0.79 and hard negatives 0.08/0.09 → 0.06/0.08 on seeds 11/23;
then a phone 0.95 and an address 0.9 (a phone or small address shared by a handful of firms is
an operational tie, nearly a branch): precision@k 0.770/0.818/0.818 → 0.791/0.818/0.841,
early recall 0.566/0.608/0.652 → 0.615/0.608/0.710, hard negatives 0.047/0.074/0.080 →
0.031/0.064/0.062 on seeds 11/23/47).
The firm named as a partnership's 执行事务合伙人 (``MANAGING_PARTNER_OF``: a fund manager
running its 有限合伙 vehicles, typically with a stake under 1 %) is tied to it as a controller, not
as a shareholder of its ratio: 0.9, like a branch (on the demo city, scale 1, seeds 23/47/11:
precision@k 0.818/0.841/0.791 → 0.823/0.858/0.801, nothing else moved; before, the field was read
as one person's name and the tie went through the token stake alone).
Several direct relationships between the same two firms (a subsidiary that also pays its parent)
are one tie, carried by the strongest (:data:`DEDUPE_PAIRS`): noisy-OR over them double-counted
ordinary intra-group ties and lifted legitimate corporate groups into the top k. Money flows are
directed: a firm that *receives* money from a risky payer (where the funds go, 资金去向) gets
``WEIGHTS["PAYS"]``; a firm that pays into a risky one (a customer, a supplier's client) only
``REVERSE["PAYS"]`` times that.

Starting from the direct risk ``d`` (in [0, 1]) of every enterprise, ``K`` rounds of::

    p_{e→x} = clip((r_e^{-x} - T0) / (1 - T0), 0, 1)      # only real risk transmits
    c_e    = 1 - prod_{e' at c, e' != e} (1 - w_{e'c} p_{e'→c})  # connector, backtrack-free
    m_{c→e}= w_{ce} * damp(deg c) * c_e                    # hub damping at the connector
    m_{j→e}= w_{je} * damp(outdeg j) * p_{j→e}             # direct enterprise links
    L_e    = 1 - prod (1 - m)                              # noisy-OR of all messages
    r      = 1 - (1 - d) * (1 - GAMMA * L)                 # decay GAMMA per round

give the total risk ``r``; ``linked = r - d``. ``r_e^{-x}`` is ``e``'s risk *without* the
message it received from ``x`` (the connector or firm it now sends to) in the previous round
(:data:`CAVITY`, non-backtracking as in belief propagation): a firm's own risk never comes back
to it as "linked" evidence, and a cluster of weakly flagged firms (a holding company and its
subsidiaries, one person's several firms) cannot lift itself by echoing the same signal round
after round. ``damp(n) = min(1, (FREE/n) ** BETA)`` is the
degree normalisation: a connector shared by up to ``FREE`` enterprises transmits fully, one
shared by hundreds (a business-centre address, a bookkeeping agent's phone) carries ~nothing.
The connector value excludes the receiving enterprise's own message (no immediate echo); every
operation is a vectorised per-edge product and a ``bincount`` sum of logs, i.e. a sparse
matrix-vector product in log space, O(edges) per round.

Corroborated ties: two firms may be tied through several *channel families* (:data:`FAMILY`:
people — a legal rep, officer or shareholder in both; the same phone; the same address; a
direct corporate tie — ownership, branch or money). One shared person is the commonest innocent
overlap in a registry (an investor in several unrelated firms, a hired nominee, a namesake), and
one shared phone or address can be an agent's or a landlord's; two independent families between
the same two firms (the controller is legal rep of both *and* they share the phone, or one owns
the other *and* pays it) are how one group of people runs several firms. Every tie of such a
pair (connector edges of connectors with at most :data:`PAIR_MAX` firms, and direct edges) has
its connector → firm (or direct) weight multiplied by :data:`CORROBORATED` (at most 1). On the
demo city (scale 1, seeds 11 and 23) this, together with the corroboration rule of registration
indicators (:func:`analytics.indicators.corroborate`), lifted precision@k from 0.69/0.73 to
0.72/0.76 and early-stage recall from 0.45/0.45 to 0.49/0.51 while the hard-negative share fell
from 0.11/0.14 to 0.08/0.09. Scaling the weight of *uncorroborated* people ties further down
(x0.8 / x0.5; session 6) lifted precision@k (seeds 11/23/47, over the phone/address weights above:
0.791/0.818/0.841 → 0.796/0.837/0.852 at x0.8) and early recall, but the hard-negative share
rose from 0.03-0.06 to 0.09-0.10: the firms next in line carry real direct signals. Not kept.

After the last round the strongest single paths into each enterprise are kept (top
:data:`TOP_PATHS`, extended backwards through sources whose risk is itself mostly linked), with
the node keys along the path, for explanations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analytics.projection import Projection

WEIGHTS: dict[str, float] = {
    # people are the commonest innocent overlap between firms (investors, hired nominees,
    # namesakes): a shared legal rep transmits less than contact details, money or a branch
    "LEGAL_REP_OF": 0.60,
    "OFFICER_OF": 0.45,
    "SHAREHOLDER_OF": 0.30,  # + RATIO_WEIGHT * ratio
    # a phone or address shared by a handful of firms (hubs are damped, see FREE) is the
    # fingerprint of one operator: the same people answer the phone and keep the books, an
    # operational tie nearly as close as a branch (a person can be an outside investor)
    "REGISTERED_AT": 0.90,
    "HAS_PHONE": 0.95,
    "BRANCH_OF": 1.00,  # a branch has no legal personality: its head office's risk is its own
    # the firm that runs a partnership as its 执行事务合伙人 (the usual set-up of a private
    # fund vehicle: a fund manager runs the 有限合伙 with a token stake) controls it and answers
    # for its debts without limit, whatever its share
    "MANAGING_PARTNER_OF": 0.90,
    "PAYS": 0.80,  # payer → recipient: where a risky firm's money goes (资金去向)
    "SAME_AS": 1.00,
}
RATIO_WEIGHT = 0.6
REVERSE: dict[str, float] = {"PAYS": 0.4}
"""Factor on the weight of a direct relationship read against its direction (``PAYS``: from
the recipient back to the payer)."""
CAVITY = True
"""Non-backtracking messages (see the module docstring)."""
FREE: dict[str, float] = {"Person": 6, "Party": 3, "Address": 3, "Phone": 3, "Enterprise": 12}
BETA = 1.0
T0 = 0.15
GAMMA = 0.85
ROUNDS = 3
TOP_PATHS = 3
MIN_PATH = 0.02
DEDUPE_PAIRS = True
FAMILY: dict[str, int] = {"Person": 1, "Party": 1, "Phone": 2, "Address": 4, "Enterprise": 8}
"""Channel family (bit) of a tie: people (legal reps, officers, shareholders), the phone, the
address, and direct corporate ties (ownership, branch, money: one family, see
:data:`DEDUPE_PAIRS`)."""
CORROBORATED = 2.0
"""Factor (result at most 1) on the weight of a tie between two firms that are linked in two
or more channel families (see the module docstring)."""
PAIR_MAX = 12
"""Connectors with more enterprises than this are not searched for corroborating pairs (their
hub damping leaves them little weight anyway)."""

CHANNELS: tuple[str, ...] = ("people", "phone", "address", "corporate", "money")
"""Channels linked risk travels through: people (a legal rep, officer or shareholder of both
firms), a shared phone, a shared address, a corporate tie (ownership, branch, same entity) and
money (``PAYS``); see :func:`linked_by_channel`."""
CONNECTOR_CHANNEL: dict[str, str] = {"Person": "people", "Party": "people", "Phone": "phone",
                                     "Address": "address"}
DIRECT_CHANNEL: dict[str, str] = {"BRANCH_OF": "corporate", "SHAREHOLDER_OF": "corporate",
                                  "MANAGING_PARTNER_OF": "corporate", "SAME_AS": "corporate",
                                  "PAYS": "money"}

CONNECTORS = ("Person", "Party", "Address", "Phone")
CONNECTOR_TYPES = ("LEGAL_REP_OF", "OFFICER_OF", "SHAREHOLDER_OF", "REGISTERED_AT", "HAS_PHONE",
                   "MANAGING_PARTNER_OF")
DIRECT_TYPES = ("BRANCH_OF", "SHAREHOLDER_OF", "MANAGING_PARTNER_OF", "PAYS", "SAME_AS")
TIE_ORDER: dict[str, int] = {t: i for i, t in enumerate(
    ("LEGAL_REP_OF", "BRANCH_OF", "MANAGING_PARTNER_OF", "SHAREHOLDER_OF", "OFFICER_OF", "PAYS",
     "SAME_AS", "HAS_PHONE", "REGISTERED_AT"))}
"""Which relationship type carries (and names, in explanations) a tie when two types link the
same pair with the same weight: the link arrays do not depend on the order the edges came in."""


@dataclass
class LinkArrays:
    """The projection as edge arrays (enterprise positions, connector positions)."""

    ents: np.ndarray                  # node id of enterprise position i
    conns: np.ndarray                 # node id of connector position j
    ce_e: np.ndarray                  # enterprise position of each enterprise–connector edge
    ce_c: np.ndarray                  # connector position of that edge
    ce_w: np.ndarray                  # transmission weight
    ce_t: np.ndarray                  # relationship type (str)
    ee_src: np.ndarray                # direct edges, source enterprise position
    ee_dst: np.ndarray
    ee_w: np.ndarray
    ee_t: np.ndarray
    conn_label: np.ndarray            # label of each connector
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)  # derived arrays


@dataclass
class Path:
    """One path that carried linked risk into an enterprise."""

    nodes: list[str]
    labels: list[str]
    rels: list[str]
    source: str
    contribution: float

    def as_dict(self) -> dict[str, Any]:
        return {"nodes": self.nodes, "labels": self.labels, "rels": self.rels,
                "from": self.source, "contribution": round(self.contribution, 2)}


@dataclass
class PropagationResult:
    """Direct, linked and total risk (0-1) per enterprise position, and the top paths."""

    ents: np.ndarray
    direct: np.ndarray
    total: np.ndarray
    paths: dict[int, list[Path]] = field(default_factory=dict)

    @property
    def linked(self) -> np.ndarray:
        return np.clip(self.total - self.direct, 0.0, 1.0)


def _ratio(props: Mapping[str, Any]) -> float:
    try:
        r = float(props.get("ratio") or 0.0)
    except (TypeError, ValueError):
        return 0.0
    return r / 100.0 if r > 1.0 else max(r, 0.0)


def edge_weight(rtype: str, props: Mapping[str, Any]) -> float:
    """Transmission weight of one relationship."""
    w = WEIGHTS.get(rtype, 0.0)
    if rtype == "SHAREHOLDER_OF":
        w += RATIO_WEIGHT * _ratio(props)
    return min(w, 1.0)


def link_arrays(proj: Projection) -> LinkArrays:
    """Turn the projection into enterprise–connector and enterprise–enterprise edge arrays
    (vectorised per relationship type; one edge per (enterprise, connector), the strongest
    role counts)."""
    labels = np.asarray(proj.labels, dtype=object)
    is_ent = labels == "Enterprise"
    is_conn = np.isin(labels, CONNECTORS)
    ents = np.flatnonzero(is_ent).astype(np.int64)
    conns = np.flatnonzero(is_conn).astype(np.int64)
    epos = np.full(len(labels), -1, dtype=np.int64)
    epos[ents] = np.arange(len(ents))
    cpos = np.full(len(labels), -1, dtype=np.int64)
    cpos[conns] = np.arange(len(conns))
    ce_parts: list[tuple[np.ndarray, ...]] = []
    ee_parts: list[tuple[np.ndarray, ...]] = []
    for rtype, (us, vs, datas) in proj.edges_by_type().items():
        if rtype not in CONNECTOR_TYPES and rtype not in DIRECT_TYPES:
            continue
        u = np.asarray(us, dtype=np.int64)
        v = np.asarray(vs, dtype=np.int64)
        live = np.fromiter((not d.get("ended") for d in datas), dtype=bool, count=len(datas))
        if rtype == "SHAREHOLDER_OF":
            w = np.fromiter((edge_weight(rtype, d) for d in datas), dtype=float,
                            count=len(datas))
        else:
            w = np.full(len(u), min(WEIGHTS.get(rtype, 0.0), 1.0))
        both = is_ent[u] & is_ent[v] & live
        rank = TIE_ORDER.get(rtype, len(TIE_ORDER))
        if rtype in DIRECT_TYPES:
            n = int(both.sum())
            t = np.full(n, rtype, dtype=object)
            r = np.full(n, rank, dtype=np.int64)
            back = w * REVERSE.get(rtype, 1.0)
            ee_parts.append((epos[u[both]], epos[v[both]], w[both], t, r))
            ee_parts.append((epos[v[both]], epos[u[both]], back[both], t, r))
        if rtype in CONNECTOR_TYPES:
            e = np.where(is_ent[u], u, v)
            c = np.where(is_ent[u], v, u)
            ok = live & ~both & (epos[e] >= 0) & (cpos[c] >= 0)
            n = int(ok.sum())
            ce_parts.append((epos[e[ok]], cpos[c[ok]], w[ok],
                             np.full(n, rtype, dtype=object), np.full(n, rank, dtype=np.int64)))
    ce_e, ce_c, ce_w, ce_t = _strongest(_cat(ce_parts), dedupe=True)
    # several relationships between the same two firms (a subsidiary that also pays its
    # parent, a branch that is also a shareholder) are one tie: the strongest carries
    ee_src, ee_dst, ee_w, ee_t = _strongest(_cat(ee_parts), dedupe=DEDUPE_PAIRS)
    return LinkArrays(ents, conns, ce_e, ce_c, ce_w, ce_t, ee_src, ee_dst, ee_w, ee_t,
                      labels[conns] if len(conns) else np.zeros(0, dtype=object))


def _cat(parts: Sequence[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """Concatenate ``(a, b, weight, type, tie rank)`` parts column by column."""
    if not parts:
        return (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                np.zeros(0, dtype=float), np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64))
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(5))


def _strongest(cols: tuple[np.ndarray, ...], dedupe: bool) -> tuple[np.ndarray, ...]:
    """``(a, b, weight, type)`` sorted by ``(a, b)``, strongest first and ties by
    :data:`TIE_ORDER`; with ``dedupe`` only the first edge of each ``(a, b)`` pair is kept.
    The result does not depend on the order of the input rows."""
    a, b, w, t, rank = cols
    if not len(a):
        return a, b, w, t
    order = np.lexsort((rank, -w, b, a))
    if dedupe:
        pa, pb = a[order], b[order]
        order = order[np.r_[True, (pa[1:] != pa[:-1]) | (pb[1:] != pb[:-1])]]
    return a[order], b[order], w[order], t[order]


def damp(degree: np.ndarray, free: np.ndarray | float, beta: float = BETA) -> np.ndarray:
    """Hub damping ``min(1, (free / degree) ** beta)``."""
    deg = np.maximum(np.asarray(degree, dtype=float), 1.0)
    return np.minimum(1.0, (free / deg) ** beta)


def transmit(r: np.ndarray, t0: float = T0) -> np.ndarray:
    return np.clip((r - t0) / (1.0 - t0), 0.0, 1.0)


@dataclass
class _Prepared:
    a: np.ndarray      # enterprise → connector weight
    b: np.ndarray      # connector → enterprise weight (hub-damped)
    ee_w: np.ndarray   # direct weight (hub-damped by the source's direct degree)
    ee_rev: np.ndarray  # index of the reverse direct edge (-1 when there is none)


def _reverse_index(src: np.ndarray, dst: np.ndarray, n: int) -> np.ndarray:
    """For each directed edge ``src → dst``, the index of ``dst → src`` (or -1)."""
    if not len(src):
        return np.zeros(0, dtype=np.int64)
    codes = src.astype(np.int64) * n + dst
    order = np.argsort(codes, kind="stable")
    want = dst.astype(np.int64) * n + src
    at = np.clip(np.searchsorted(codes[order], want), 0, len(order) - 1)
    rev = order[at]
    return np.where(codes[rev] == want, rev, -1)


def _connector_pairs(la: LinkArrays, deg_c: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(receiving enterprise, other enterprise, connector edge index of the receiver) of every
    ordered pair of firms at one connector with at most :data:`PAIR_MAX` firms."""
    small = np.flatnonzero(deg_c[la.ce_c] <= PAIR_MAX) if len(la.ce_c) else \
        np.zeros(0, dtype=np.int64)
    order = small[np.argsort(la.ce_c[small], kind="stable")]
    cs = la.ce_c[order]
    rec: list[np.ndarray] = []
    oth: list[np.ndarray] = []
    edge: list[np.ndarray] = []
    for off in range(1, PAIR_MAX):
        if off >= len(order):
            break
        same = np.flatnonzero(cs[off:] == cs[:-off])
        i, j = order[same], order[same + off]
        rec += [la.ce_e[i], la.ce_e[j]]
        oth += [la.ce_e[j], la.ce_e[i]]
        edge += [i, j]
    if not rec:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    return np.concatenate(rec), np.concatenate(oth), np.concatenate(edge)


def corroboration(la: LinkArrays, deg_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per connector edge and per direct edge: do the two firms it ties also share a tie of
    another channel family (:data:`FAMILY`)? A connector edge counts as corroborated when the
    receiving firm is so tied to any other firm at that connector. Cached on ``la``."""
    key = ("corroboration", PAIR_MAX, tuple(sorted(FAMILY.items())))
    if key not in la.cache:
        la.cache[key] = _corroboration(la, deg_c)
    out: tuple[np.ndarray, np.ndarray] = la.cache[key]
    return out


def _corroboration(la: LinkArrays, deg_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n_e = max(len(la.ents), 1)
    fam_c = np.array([FAMILY.get(str(lab), 1) for lab in la.conn_label], dtype=np.int64)
    rec, oth, edge = _connector_pairs(la, deg_c)
    # direct edges hold both directions, so (receiver, other) = (dst, src) covers every pair
    pr = np.r_[rec, la.ee_dst].astype(np.int64)
    po = np.r_[oth, la.ee_src].astype(np.int64)
    fam = np.r_[fam_c[la.ce_c[edge]] if len(edge) else np.zeros(0, dtype=np.int64),
                np.full(len(la.ee_src), FAMILY["Enterprise"], dtype=np.int64)]
    codes = pr * n_e + po
    if not len(codes):
        return np.zeros(len(la.ce_e), bool), np.zeros(len(la.ee_src), bool)
    uniq, inv = np.unique(codes, return_inverse=True)
    families = np.zeros(len(uniq), dtype=np.int64)
    for bit in sorted(set(FAMILY.values())):
        families += np.bincount(inv, weights=(fam & bit) > 0, minlength=len(uniq)) > 0
    pair_multi = (families >= 2)[inv]
    ce_corr = np.bincount(edge, weights=pair_multi[:len(edge)],
                          minlength=len(la.ce_e)) > 0 if len(edge) else \
        np.zeros(len(la.ce_e), dtype=bool)
    return ce_corr, pair_multi[len(edge):]


def _prepare(la: LinkArrays) -> _Prepared:
    n_c = len(la.conns)
    deg_c = np.bincount(la.ce_c, minlength=n_c) if len(la.ce_c) else np.zeros(n_c)
    free_c = np.array([FREE.get(str(lab), 3.0) for lab in la.conn_label], dtype=float)
    d_c = damp(deg_c, free_c) if n_c else np.zeros(0)
    b = la.ce_w * (d_c[la.ce_c] if len(la.ce_c) else 1.0)
    n_e = len(la.ents)
    deg_e = np.bincount(la.ee_src, minlength=n_e) if len(la.ee_src) else np.zeros(n_e)
    ee_w = la.ee_w * (damp(deg_e[la.ee_src], FREE["Enterprise"]) if len(la.ee_src) else 1.0)
    ce_corr, ee_corr = corroboration(la, deg_c)
    b = np.minimum(1.0, b * np.where(ce_corr, CORROBORATED, 1.0))
    ee_w = np.minimum(1.0, ee_w * np.where(ee_corr, CORROBORATED, 1.0))
    return _Prepared(la.ce_w, b, ee_w, _reverse_index(la.ee_src, la.ee_dst, max(n_e, 1)))


def _cavity(d: np.ndarray, logl: np.ndarray, who: np.ndarray, own: np.ndarray, gamma: float,
            t0: float) -> np.ndarray:
    """Transmitted risk of enterprise ``who`` towards one neighbour: its total risk without the
    message ``own`` it received from that same neighbour (no echo of a firm's own risk)."""
    excl = logl[who] - np.log1p(-own)
    lin = 1.0 - np.exp(np.minimum(excl, 0.0))
    return transmit(1.0 - (1.0 - d[who]) * (1.0 - gamma * lin), t0)


@dataclass
class MessageState:
    """Messages of the last round (per connector edge, per direct edge) and their log-sum."""

    msg_ce: np.ndarray
    msg_ee: np.ndarray
    logl: np.ndarray


def _messages(la: LinkArrays, prep: _Prepared, d: np.ndarray, prev: MessageState | None,
              gamma: float, t0: float) -> MessageState:
    """One round of messages into enterprises (connector edges, direct edges) and their
    log-noisy-OR. With :data:`CAVITY` each enterprise sends towards a connector or a firm its
    risk without what came from there in the previous round."""
    n_e, n_c = len(la.ents), len(la.conns)
    if prev is None:
        p_ce = transmit(d[la.ce_e], t0)
        p_ee = transmit(d[la.ee_src], t0)
    elif CAVITY:
        p_ce = _cavity(d, prev.logl, la.ce_e, prev.msg_ce, gamma, t0)
        back = np.where(prep.ee_rev >= 0, prev.msg_ee[np.maximum(prep.ee_rev, 0)], 0.0) \
            if len(prep.ee_rev) else np.zeros(0)
        p_ee = _cavity(d, prev.logl, la.ee_src, back, gamma, t0)
    else:
        r = 1.0 - (1.0 - d) * (1.0 - gamma * (1.0 - np.exp(prev.logl)))
        p_ce, p_ee = transmit(r[la.ce_e], t0), transmit(r[la.ee_src], t0)
    m_in = np.clip(prep.a * p_ce, 0.0, 1.0 - 1e-9)
    log_in = np.log1p(-m_in)
    logc = np.bincount(la.ce_c, weights=log_in, minlength=n_c)
    excl = 1.0 - np.exp(logc[la.ce_c] - log_in)
    msg_ce = np.clip(prep.b * excl, 0.0, 1.0 - 1e-9)
    msg_ee = np.clip(prep.ee_w * p_ee, 0.0, 1.0 - 1e-9)
    logl = np.bincount(la.ce_e, weights=np.log1p(-msg_ce), minlength=n_e).astype(float)
    logl += np.bincount(la.ee_dst, weights=np.log1p(-msg_ee), minlength=n_e)
    return MessageState(msg_ce, msg_ee, logl)


def propagate(la: LinkArrays, direct: np.ndarray, rounds: int = ROUNDS, gamma: float = GAMMA,
              t0: float = T0) -> np.ndarray:
    """Total risk in [0, 1] per enterprise position (see module docstring)."""
    return propagate_state(la, direct, rounds, gamma, t0)[0]


def propagate_state(la: LinkArrays, direct: np.ndarray, rounds: int = ROUNDS,
                    gamma: float = GAMMA, t0: float = T0) -> tuple[np.ndarray, MessageState | None]:
    """:func:`propagate`, and the messages of its last round (``None`` without enterprises
    or rounds), from which :func:`linked_by_channel` splits the linked risk."""
    d = np.clip(np.asarray(direct, dtype=float), 0.0, 1.0)
    if not len(d) or rounds < 1:
        return d.copy(), None
    prep = _prepare(la)
    state: MessageState | None = None
    for _ in range(rounds):
        state = _messages(la, prep, d, state, gamma, t0)
    assert state is not None
    return 1.0 - (1.0 - d) * (1.0 - gamma * (1.0 - np.exp(state.logl))), state


def channel_of_connector(label: str) -> str:
    """Channel (:data:`CHANNELS`) of a tie through a connector of label ``label``."""
    return CONNECTOR_CHANNEL.get(label, "people")


def linked_by_channel(la: LinkArrays, state: MessageState | None) -> dict[str, np.ndarray]:
    """The linked evidence ``L`` of every enterprise position split by the channel it came
    through (:data:`CHANNELS`): for channel ``c``, ``L_c = 1 - prod (1 - m)`` over the last
    round's messages ``m`` that came through a tie of that channel.

    The channels together make the linked term of :func:`propagate`:
    ``1 - prod_c (1 - L_c) = L``, and ``total = 1 - (1 - d) * (1 - gamma * L)``. Each
    ``L_c`` answers "how much risk would reach this firm through its shared phones (people,
    addresses …) alone, given everyone's risk": features a model fitted on outcomes can weigh
    apart (a shared phone is a closer tie than a shared investor), which the single linked
    figure cannot."""
    n_e, k = len(la.ents), len(CHANNELS)
    if state is None or not n_e:
        return {c: np.zeros(n_e) for c in CHANNELS}
    # one bincount over (channel, enterprise) cells instead of a pass per channel
    logl = np.zeros(k * n_e)
    if len(la.ce_e):
        code = _connector_channel_codes(la)[la.ce_c]
        logl += np.bincount(code * n_e + la.ce_e, weights=np.log1p(-state.msg_ce),
                            minlength=k * n_e)
    if len(la.ee_dst):
        code = _direct_channel_codes(la)
        logl += np.bincount(code * n_e + la.ee_dst, weights=np.log1p(-state.msg_ee),
                            minlength=k * n_e)
    by = 1.0 - np.exp(logl.reshape(k, n_e))
    return {c: by[j] for j, c in enumerate(CHANNELS)}


def _connector_channel_codes(la: LinkArrays) -> np.ndarray:
    """Index in :data:`CHANNELS` of every connector position's channel (cached on ``la``)."""
    if "connector_channels" not in la.cache:
        la.cache["connector_channels"] = _codes(la.conn_label, channel_of_connector)
    out: np.ndarray = la.cache["connector_channels"]
    return out


def _direct_channel_codes(la: LinkArrays) -> np.ndarray:
    """Index in :data:`CHANNELS` of every direct edge's channel (cached on ``la``)."""
    if "direct_channels" not in la.cache:
        la.cache["direct_channels"] = _codes(
            la.ee_t, lambda t: DIRECT_CHANNEL.get(t, "corporate"))
    out: np.ndarray = la.cache["direct_channels"]
    return out


class _ChannelIndex(dict[str, int]):
    """Label or type → index in :data:`CHANNELS`, looked up once per distinct value."""

    def __init__(self, channel: Callable[[str], str]) -> None:
        super().__init__()
        self.channel = channel

    def __missing__(self, key: str) -> int:
        self[key] = CHANNELS.index(self.channel(str(key)))
        return self[key]


def _codes(values: np.ndarray, channel: Callable[[str], str]) -> np.ndarray:
    """Channel index of every value (a dict lookup per value: no sort of strings)."""
    index = _ChannelIndex(channel)
    return np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))


NEIGHBOUR_CHANNELS: tuple[str, ...] = ("people", "phone", "address")
"""The connector channels :func:`neighbour_features` describes."""


def neighbour_features(la: LinkArrays, direct: np.ndarray) -> dict[str, np.ndarray]:
    """What surrounds each enterprise position, per connector channel ``c``
    (:data:`NEIGHBOUR_CHANNELS`), for a model fitted on outcomes to weigh:

    * ``hub.c``: the most enterprises at one of its connectors of that channel (a phone of 2
      firms is one operator's, an address of 300 a business centre);
    * ``source.c``: the highest *direct* risk of another firm at one of its connectors of that
      channel with at most :data:`PAIR_MAX` firms (hubs say nothing about a neighbour);
    * ``source.direct``: the highest direct risk of a firm tied to it directly (ownership,
      branch, money, either direction).

    Unlike the propagated ``linked`` risk these do not decay with the tie's weight: "shares a
    phone with a firm named in a police case" stays visible next to how much risk came
    through."""
    d = np.asarray(direct, dtype=float)
    n_e, n_c = len(la.ents), len(la.conns)
    deg_c = np.bincount(la.ce_c, minlength=n_c) if len(la.ce_c) else np.zeros(n_c, np.int64)
    code = _connector_channel_codes(la)[la.ce_c] if len(la.ce_c) else \
        np.zeros(0, dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    for c in NEIGHBOUR_CHANNELS:
        sel = np.flatnonzero(code == CHANNELS.index(c))
        hub = np.zeros(n_e)
        np.maximum.at(hub, la.ce_e[sel], deg_c[la.ce_c[sel]].astype(float))
        out[f"hub.{c}"] = hub
        small = sel[deg_c[la.ce_c[sel]] <= PAIR_MAX]
        vals = d[la.ce_e[small]]
        first, second = _top2_per_group(la.ce_c[small], vals, n_c)
        best = first[la.ce_c[small]]
        # the best other firm at the connector: the runner-up where this edge is the best
        other = np.where(best == np.arange(len(small)), second[la.ce_c[small]], best)
        other_val = np.where(other >= 0, vals[np.maximum(other, 0)], 0.0)
        src = np.zeros(n_e)
        np.maximum.at(src, la.ce_e[small], other_val)
        out[f"source.{c}"] = src
    src = np.zeros(n_e)
    if len(la.ee_src):
        np.maximum.at(src, la.ee_dst, d[la.ee_src])
    out["source.direct"] = src
    return out


def _top2_per_group(groups: np.ndarray, values: np.ndarray, n_groups: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Edge index of the best and second-best value per group (-1 when absent)."""
    first = np.full(n_groups, -1, dtype=np.int64)
    second = np.full(n_groups, -1, dtype=np.int64)
    if not len(groups):
        return first, second
    order = np.lexsort((-values, groups))
    g_sorted = groups[order]
    starts = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
    first[g_sorted[starts]] = order[starts]
    pos = np.flatnonzero(starts) + 1
    ok = pos < len(order)
    pos = pos[ok]
    same = g_sorted[pos] == g_sorted[pos - 1]
    second[g_sorted[pos[same]]] = order[pos[same]]
    return first, second


def top_paths(proj: Projection, la: LinkArrays, direct: np.ndarray, total: np.ndarray,
              gamma: float = GAMMA, t0: float = T0, k: int = TOP_PATHS,
              max_hops: int = 3, min_linked: float = 1e-4) -> dict[int, list[Path]]:
    """The strongest single paths of linked risk into each enterprise position whose linked
    risk exceeds ``min_linked`` (others have nothing to explain)."""
    prep = _prepare(la)
    p = transmit(total, t0)
    n_c = len(la.conns)
    m_in = prep.a * p[la.ce_e]
    first, second = _top2_per_group(la.ce_c, m_in, n_c)
    # candidate (target, source, connector or -1, value, rel_in, rel_out)
    src_edge = first[la.ce_c] if len(la.ce_c) else np.zeros(0, dtype=np.int64)
    clash = src_edge >= 0
    clash[clash] = la.ce_e[src_edge[clash]] == la.ce_e[clash]
    src_edge = np.where(clash, second[la.ce_c] if len(la.ce_c) else src_edge, src_edge)
    ok = src_edge >= 0
    tgt = la.ce_e[ok]
    srce = src_edge[ok]
    val_c = gamma * prep.b[ok] * m_in[srce]
    cand_t = np.r_[tgt, la.ee_dst]
    cand_s = np.r_[la.ce_e[srce], la.ee_src]
    cand_v = np.r_[val_c, gamma * prep.ee_w * p[la.ee_src]]
    cand_c = np.r_[la.ce_c[srce], np.full(len(la.ee_dst), -1, dtype=np.int64)]
    cand_rin = np.r_[la.ce_t[srce], la.ee_t].astype(object)
    cand_rout = np.r_[la.ce_t[ok], la.ee_t].astype(object)
    keep = cand_v >= MIN_PATH
    idx = np.flatnonzero(keep)
    order = idx[np.lexsort((-cand_v[idx], cand_t[idx]))]
    # rank of each candidate within its target (vectorised top-k per target)
    t_sorted = cand_t[order]
    starts = np.r_[True, t_sorted[1:] != t_sorted[:-1]] if len(order) else np.zeros(0, bool)
    start_pos = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    rank = np.arange(len(order)) - start_pos
    top = order[rank < k]
    best: dict[int, list[int]] = {}
    for t_, j in zip(cand_t[top].tolist(), top.tolist(), strict=True):
        best.setdefault(t_, []).append(j)
    # paths are explained only where linked risk exists
    linked_any = (total - direct) > min_linked
    keys, labels = proj.keys, proj.labels
    # plain lists: one conversion instead of a NumPy scalar per lookup
    ents, conns = la.ents.tolist(), la.conns.tolist()
    c_s, c_c, c_t = cand_s.tolist(), cand_c.tolist(), cand_t.tolist()
    c_rin, c_rout = cand_rin.tolist(), cand_rout.tolist()
    # the risks as Python floats: the same doubles, without a NumPy scalar per step (and
    # the contributions plain floats, which round() and the JSON of a record take faster)
    tot, dir_, c_v, lin = total.tolist(), direct.tolist(), cand_v.tolist(), linked_any.tolist()

    def hop_nodes(j: int) -> tuple[list[int], list[str]]:
        s, c, t = c_s[j], c_c[j], c_t[j]
        if c >= 0:
            return [ents[s], conns[c], ents[t]], [str(c_rin[j]), str(c_rout[j])]
        return [ents[s], ents[t]], [str(c_rin[j])]

    out: dict[int, list[Path]] = {}
    for t, cands in best.items():
        if not lin[t]:
            continue
        paths = []
        room = max(0.0, 100.0 * (tot[t] - dir_[t]))
        for j in cands:
            nodes, rels = hop_nodes(j)
            seen = set(nodes)
            s = c_s[j]
            hops = 1
            # extend backwards while the source's own risk is mostly linked
            while hops < max_hops and tot[s] - dir_[s] > dir_[s] and best.get(s):
                prev = best[s][0]
                pn, pr = hop_nodes(prev)
                if seen & set(pn[:-1]):
                    break
                nodes = pn[:-1] + nodes
                rels = pr + rels
                seen |= set(pn)
                s = c_s[prev]
                hops += 1
            contribution = min(room, 100.0 * (1.0 - dir_[t]) * c_v[j])
            paths.append(Path([keys[n] for n in nodes], [labels[n] for n in nodes], rels,
                              keys[ents[s]], contribution))
        out[t] = paths
    return out


def run(proj: Projection, direct_by_node: Mapping[int, float]) -> PropagationResult:
    """Propagate the direct risk (node id → [0, 1]) over the projection."""
    la = link_arrays(proj)
    d = np.array([direct_by_node.get(int(n), 0.0) for n in la.ents], dtype=float)
    total = propagate(la, d)
    paths = top_paths(proj, la, d, total)
    return PropagationResult(la.ents, d, total, paths)
