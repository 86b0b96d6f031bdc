"""Ultimate controllers, groups of linked firms, stable group ids, group scores.

* **Equity penetration**: with ``R[i, j]`` the share ``i`` holds in enterprise ``j``
  (``SHAREHOLDER_OF.ratio``), the effective share over all ownership paths is
  ``R + R² + R³ + …`` (products of ratios along each path, summed over paths), computed as a
  sparse iteration from the ultimate owners (holders nobody holds). The controller of an
  enterprise is the owner with the largest effective share when it reaches
  ``Settings.controller_threshold``.
* **Groups**: firms under one controller, plus communities of the enterprise link graph (legal
  reps, officers, shareholders, branches, shared phones/addresses with hub damping) found by
  Louvain (NetworkX) on small graphs or Leiden (igraph's C core) on large ones, behind one
  function (:func:`communities`).
* **Stable ids**: a group that keeps most of its members keeps its id: a new group takes the
  id of the previous group whose members are in it by more than :data:`KEEP_SHARE` (largest
  overlap first, each old id and each new group used once); otherwise it gets a new id derived
  from its members. Community detection is warm-started from the previous run's groups
  (:func:`communities` with ``initial``), so a small delivery moves few firms. (Jaccard ≥ 0.5,
  used before, dropped a 368-firm group's id when 298 of its firms joined a 555-firm group;
  on the scale-5 demo city an increment of 0.2 MB then changed the group id of 66,678 of
  98,126 firms, against 11,775 with the warm start and Jaccard, see ``test_analytics_units``.)
* **Local updates**: modularity is a global quality, so even a warm-started Leiden moves firms
  far from any change (and, run twice on the same graph, moved 3,389 firms to another group id
  on the scale-5 city). Each run therefore leaves a digest of every firm's links
  (:func:`link_digests`: neighbours and weights); the next run lets only the firms whose links
  changed, and their neighbours, move (:func:`free_nodes`), every other firm keeping its
  previous group (``leidenalg``'s local moving with fixed membership). On the scale-5 link
  graph (83k firms) a change of 0.4 % of the links then changed 139 firms' group ids instead
  of 7,060 (measured with the full fixed-membership optimisation), and an unchanged graph
  none. When more than :data:`LOCAL_MAX_SHARE` of the firms changed (or there
  are no digests of the previous run) every firm may move, as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
from scipy import sparse

from analytics.projection import Projection
from analytics.propagation import CONNECTORS, FREE, LinkArrays, damp

KEEP_SHARE = 0.5
"""A group keeps its id when MORE than this share of its members is in one new group."""
LEIDEN_ABOVE = 2000
"""Graphs with more nodes than this use Leiden (igraph) instead of NetworkX Louvain."""
MIN_LINK = 0.3
"""Minimum link weight between two enterprises for the community graph."""
LOCAL_MAX_SHARE = 0.5
"""A warm start re-optimises only around changed links while at most this share of the
linked firms may move; above it every firm may move."""


@dataclass
class Control:
    """The ultimate controller of one enterprise."""

    enterprise: int
    controller: int
    share: float


def _ratio(value: object) -> float:
    try:
        r = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return r / 100.0 if r > 1.0 else max(r, 0.0)


def ownership_matrix(proj: Projection) -> sparse.csr_matrix:
    """``R[i, j]`` = share node ``i`` holds in enterprise ``j`` (all node ids)."""
    n = len(proj.keys)
    us, vs, datas = proj.edges_by_type().get("SHAREHOLDER_OF", ([], [], []))
    vals = np.fromiter((0.0 if d.get("ended") else min(_ratio(d.get("ratio")), 1.0)
                        for d in datas), dtype=float, count=len(datas))
    ok = vals > 0
    return sparse.csr_matrix((vals[ok], (np.asarray(us, dtype=np.int64)[ok],
                                         np.asarray(vs, dtype=np.int64)[ok])), shape=(n, n))


def effective_ownership(r: sparse.csr_matrix, max_depth: int = 10, tol: float = 1e-6
                        ) -> sparse.csr_matrix:
    """Sum over ownership paths of the product of ratios, from ultimate owners (rows held by
    nobody) to every node; rows of other nodes are zero."""
    held = np.asarray(r.sum(axis=0)).ravel() > 0
    holders = np.asarray(r.sum(axis=1)).ravel() > 0
    owners = np.flatnonzero(holders & ~held)
    sel = sparse.csr_matrix((np.ones(len(owners)), (owners, owners)), shape=r.shape)
    x = sel @ r
    total = x.copy()
    for _ in range(max_depth - 1):
        x = x @ r
        x.data[x.data < tol] = 0.0
        x.eliminate_zeros()
        if x.nnz == 0:
            break
        total = total + x
    return total.tocsr()


def controllers(proj: Projection, threshold: float) -> dict[int, Control]:
    """Enterprise node id → its ultimate controller (effective share ≥ ``threshold``)."""
    eff = effective_ownership(ownership_matrix(proj)).tocsc()
    eff.sum_duplicates()
    counts = np.diff(eff.indptr)
    cols = np.repeat(np.arange(eff.shape[1]), counts)
    if not len(cols):
        return {}
    # best holder per column: sort by (column, -share, row) and take the first of each column
    order = np.lexsort((eff.indices, -eff.data, cols))
    c_sorted = cols[order]
    first = order[np.r_[True, c_sorted[1:] != c_sorted[:-1]]]
    out: dict[int, Control] = {}
    for j, k in zip(cols[first].tolist(), first.tolist(), strict=True):
        share = float(eff.data[k])
        if share >= threshold - 1e-9:
            out[j] = Control(j, int(eff.indices[k]), round(min(share, 1.0), 4))
    return out


MAX_SHARED = 50
"""Connectors with more enterprises than this are skipped for links (they carry ~nothing)."""


def _connector_pairs(la: LinkArrays, max_shared: int = MAX_SHARED
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of enterprise positions sharing a connector (2..``max_shared`` members) with
    ``w1 * w2 * damp(deg)``; vectorised per connector degree (all connectors of degree ``k``
    give their ``k(k-1)/2`` pairs at once)."""
    if not len(la.ce_c):
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    n_c = len(la.conns)
    deg = np.bincount(la.ce_c, minlength=n_c)
    free = np.array([FREE.get(str(lab), 3.0) for lab in la.conn_label], dtype=float)
    dmp = damp(deg, free)
    order = np.argsort(la.ce_c, kind="stable")
    c_sorted = la.ce_c[order]
    starts = np.searchsorted(c_sorted, np.arange(n_c))
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    val: list[np.ndarray] = []
    for k in range(2, max_shared + 1):
        cs = np.flatnonzero(deg == k)
        if not len(cs):
            continue
        idx = starts[cs][:, None] + np.arange(k)[None, :]      # (n, k) edge positions
        e_idx = order[idx]
        ents = la.ce_e[e_idx]
        ws = la.ce_w[e_idx]
        i, j = np.triu_indices(k, 1)
        a, b = ents[:, i].ravel(), ents[:, j].ravel()
        w = (ws[:, i] * ws[:, j] * dmp[cs][:, None]).ravel()
        ok = a != b
        src.append(np.minimum(a, b)[ok])
        dst.append(np.maximum(a, b)[ok])
        val.append(w[ok])
    if not src:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    return np.concatenate(src), np.concatenate(dst), np.concatenate(val)


@dataclass
class Links:
    """Weighted undirected links as parallel arrays: ``a[i]``–``b[i]`` with weight ``w[i]``,
    each pair once. The order is the order in which igraph gets the edges (community
    detection depends on it), the same as the insertion order of the dict form
    (:meth:`as_dict`, :meth:`of`) the first versions passed around: on the scale-25 link
    graph (~1M links) building, digesting and freeing over dicts of tuples took ~5 s of the
    group step."""

    a: np.ndarray
    b: np.ndarray
    w: np.ndarray

    @classmethod
    def of(cls, links: Mapping[tuple[int, int], float]) -> Links:
        n = len(links)
        flat = np.fromiter((x for pair in links for x in pair), dtype=np.int64,
                           count=2 * n).reshape(-1, 2)
        return cls(flat[:, 0], flat[:, 1], np.fromiter(links.values(), dtype=float, count=n))

    def as_dict(self) -> dict[tuple[int, int], float]:
        return dict(zip(zip(self.a.tolist(), self.b.tolist(), strict=True), self.w.tolist(),
                        strict=True))

    def nodes(self) -> np.ndarray:
        """Every node with a link, sorted."""
        return np.unique(np.concatenate([self.a, self.b]))

    def __len__(self) -> int:
        return len(self.w)


def enterprise_link_arrays(la: LinkArrays, min_link: float = MIN_LINK) -> Links:
    """Weighted enterprise–enterprise links (positions ``a < b``, in that order) through
    connectors and direct edges.

    Two firms sharing a connector get ``w1 * w2 * damp(deg)`` (noisy-OR over the connectors
    they share); hubs above ``FREE`` are damped, and connectors with more than
    :data:`MAX_SHARED` enterprises are skipped. A direct edge sets the link to at least its
    weight."""
    a, b, w = _connector_pairs(la)
    n = len(la.ents)
    if len(a):
        code = a * n + b
        logq = np.log1p(-np.clip(w, 0.0, 1.0 - 1e-12))
        uniq, inv = np.unique(code, return_inverse=True)
        link = 1.0 - np.exp(np.bincount(inv, weights=logq, minlength=len(uniq)))
    else:
        uniq, link = np.zeros(0, dtype=np.int64), np.zeros(0)
    s, t = la.ee_src, la.ee_dst
    ok = s != t
    if ok.any():
        dcode = np.minimum(s[ok], t[ok]) * n + np.maximum(s[ok], t[ok])
        allc = np.r_[uniq, dcode]
        allv = np.r_[link, la.ee_w[ok]]
        uniq, inv = np.unique(allc, return_inverse=True)
        link = np.zeros(len(uniq))
        np.maximum.at(link, inv, allv)
    keep = link >= min_link
    return Links((uniq[keep] // n).astype(np.int64), (uniq[keep] % n).astype(np.int64),
                 link[keep].astype(float))


def enterprise_links(la: LinkArrays, min_link: float = MIN_LINK) -> dict[tuple[int, int], float]:
    """:func:`enterprise_link_arrays` as a dict ``(a, b) → weight``."""
    return enterprise_link_arrays(la, min_link).as_dict()


def with_controller_ties(links: Links, control: Mapping[int, Control]) -> Links:
    """``links`` (node ids) with every firm under one controller tied to the lowest-numbered
    of them at weight 1 (raised to at least 1 where the pair, in that order, is linked;
    new pairs appended in controller order)."""
    by_ctl: dict[int, list[int]] = {}
    for e, c in control.items():
        by_ctl.setdefault(c.controller, []).append(e)
    ca: list[int] = []
    cb: list[int] = []
    for firms in by_ctl.values():
        firms.sort()
        ca.extend(firms[0] for _ in range(1, len(firms)))
        cb.extend(firms[1:])
    if not ca:
        return links
    a_new, b_new = np.asarray(ca, dtype=np.int64), np.asarray(cb, dtype=np.int64)
    span = int(max(links.a.max(initial=0), links.b.max(initial=0), a_new.max(),
                   b_new.max())) + 1
    codes = links.a * span + links.b
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    wanted = a_new * span + b_new
    at = np.minimum(np.searchsorted(sorted_codes, wanted), max(len(codes) - 1, 0))
    found = (sorted_codes[at] == wanted) if len(codes) else np.zeros(len(wanted), dtype=bool)
    w = links.w.copy()
    hit = order[at[found]]
    w[hit] = np.maximum(w[hit], 1.0)
    fresh = ~found
    return Links(np.concatenate([links.a, a_new[fresh]]), np.concatenate([links.b, b_new[fresh]]),
                 np.concatenate([w, np.ones(int(fresh.sum()))]))


@dataclass
class LinkState:
    """What a run leaves for the next run's local update: the digest of every firm's links
    and its groups (member keys), exactly as it found them."""

    digests: dict[str, str]
    groups: list[list[str]]
    ids: list[str] = field(default_factory=list)
    """The group id of each of ``groups`` (same order; empty in a file of older code)."""
    controls: list[list[Any]] | None = None
    """The run's CONTROLS as ``[controller key, enterprise uscc, share]`` (None: not kept)."""

    def by_id(self) -> dict[str, set[str]] | None:
        """Group id → member keys, as the run left them in the graph; ``None`` when the ids
        are not known."""
        if len(self.ids) != len(self.groups):
            return None
        return {gid: set(members) for gid, members in zip(self.ids, self.groups, strict=True)}


def link_digests(links: Mapping[tuple[int, int], float], keys: Sequence[str]
                 ) -> dict[str, str]:
    """Enterprise key → digest of its links (neighbour keys, weights rounded to 4 places), for
    every node with a link: what the next run compares to find the firms whose links changed.

    The digest is a multiset hash, so no per-firm sorting is needed: each (neighbour,
    weight) term is a 64-bit mix (SplitMix64's finaliser) of the neighbour's key hash
    (BLAKE2b of the key: node ids shift between runs, keys do not) and the rounded weight,
    and a firm's digest is the sum of its terms modulo 2**64, all in NumPy. On 1.0M random
    links over 500,000 keys it took 1.6 s against 7.5 s for sorting and hashing each firm's
    list in Python; in ``bench.refresh --scale 25`` the increment's group step took 7.7 s
    (run N) against 10.5 s (run M), where a py-spy sample had put the old digests at 3.1 s."""
    return link_digests_of(Links.of(links), keys)


def link_digests_of(links: Links, keys: Sequence[str]) -> dict[str, str]:
    """:func:`link_digests` of :class:`Links`."""
    if not len(links):
        return {}
    rounded = np.rint(links.w * 1e4).astype(np.int64).astype(np.uint64)
    nodes, pos = np.unique(np.stack([links.a, links.b], axis=1), return_inverse=True)
    pos = pos.reshape(-1, 2)
    node_list = nodes.tolist()
    key_hash = np.fromiter((_key_hash(keys[n]) for n in node_list), dtype=np.uint64,
                           count=len(node_list))
    owner = np.concatenate([pos[:, 0], pos[:, 1]])
    other = np.concatenate([pos[:, 1], pos[:, 0]])
    both = np.concatenate([rounded, rounded])
    terms = _mix64(key_hash[other] ^ _mix64(both + _WEIGHT_SALT))
    acc = np.zeros(len(node_list), dtype=np.uint64)
    np.add.at(acc, owner, terms)  # wraps modulo 2**64
    return dict(zip([keys[n] for n in node_list], [f"{x:016x}" for x in acc.tolist()],
                    strict=True))


_WEIGHT_SALT = np.uint64(0x9E3779B97F4A7C15)


def _key_hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")


def _mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser over an array of uint64 (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.asarray(z ^ (z >> np.uint64(31)))


def free_nodes(links: Mapping[tuple[int, int], float], now: Mapping[str, str],
               before: Mapping[str, str], keys: Sequence[str]) -> set[int]:
    """Nodes whose links changed since ``before`` (digests of :func:`link_digests`, a node
    with no links has none), and their neighbours now: the nodes a local update lets move."""
    return free_nodes_of(Links.of(links), now, before, keys)


def free_nodes_of(links: Links, now: Mapping[str, str], before: Mapping[str, str],
                  keys: Sequence[str]) -> set[int]:
    """:func:`free_nodes` of :class:`Links`."""
    changed = np.asarray([n for n in links.nodes().tolist()
                          if now.get(keys[n]) != before.get(keys[n])], dtype=np.int64)
    near = np.isin(links.a, changed) | np.isin(links.b, changed)
    return set(np.concatenate([changed, links.a[near], links.b[near]]).tolist())


def communities(nodes: Iterable[int], links: Mapping[tuple[int, int], float] | Links,
                method: str = "auto", seed: int = 42,
                initial: Mapping[int, int] | None = None,
                free: set[int] | None = None) -> list[set[int]]:
    """Communities of a weighted undirected graph (``links``: a dict ``(a, b) → weight`` or
    :class:`Links`, the same edges in the same order): Louvain (NetworkX) or Leiden (igraph).

    ``initial`` (node → previous community number) warm-starts Leiden from the previous
    run's partition, so that a small change of the graph moves few nodes (Louvain, used on
    small graphs only, starts from singletons). With ``free`` as well, only those nodes may
    move; every other node keeps its ``initial`` community (alone if it has none)."""
    arrays = links if isinstance(links, Links) else Links.of(links)
    node_list = np.union1d(np.fromiter(nodes, dtype=np.int64), arrays.nodes())
    if initial and free is not None and method != "louvain":
        return _leiden_local(node_list, arrays, seed, initial, free)
    as_dict = links.as_dict() if isinstance(links, Links) else links
    if method == "auto":
        method = "leiden" if len(node_list) > LEIDEN_ABOVE else "louvain"
    if method == "louvain":
        g = nx.Graph()
        g.add_nodes_from(node_list.tolist())
        g.add_weighted_edges_from((a, b, w) for (a, b), w in as_dict.items())
        return [set(c) for c in nx.community.louvain_communities(g, weight="weight", seed=seed)]
    return _leiden(node_list.tolist(), as_dict, seed, initial)


def initial_membership(node_list: Sequence[int], initial: Mapping[int, int] | None
                       ) -> list[int] | None:
    """Community numbers ``0..k-1`` per node of ``node_list`` from ``initial`` (node →
    previous community); a node without one starts alone. None without ``initial``."""
    if not initial:
        return None
    numbers: dict[tuple[int, int], int] = {}
    out = []
    for n in node_list:
        c = initial.get(n)
        key = (0, c) if c is not None else (1, n)
        out.append(numbers.setdefault(key, len(numbers)))
    return out


def _leiden(node_list: Sequence[int], links: Mapping[tuple[int, int], float], seed: int,
            initial: Mapping[int, int] | None = None) -> list[set[int]]:
    """Leiden (modularity, two iterations) in igraph's C core, seeded through a private
    ``random.Random`` (igraph's RNG is restored afterwards).

    igraph's own ``community_leiden`` rather than ``leidenalg.find_partition``: on the demo
    city's link graph (16k nodes, 21k edges, one component of 14k) leidenalg took 2.4-4.8 s
    and igraph 0.12-0.25 s, at a slightly higher modularity (0.8968 against 0.8962)."""
    import random

    import igraph as ig

    pos = {n: i for i, n in enumerate(node_list)}
    g2 = ig.Graph(n=len(node_list), edges=[(pos[a], pos[b]) for a, b in links])
    g2.es["weight"] = list(links.values())
    ig.set_random_number_generator(random.Random(seed))
    try:
        part = g2.community_leiden(objective_function="modularity", weights="weight",
                                   n_iterations=2,
                                   initial_membership=initial_membership(node_list, initial))
    finally:
        ig.set_random_number_generator(random)
    return [{node_list[i] for i in comm} for comm in part]


def _leiden_local(node_list: np.ndarray, links: Links, seed: int,
                  initial: Mapping[int, int], free: set[int]) -> list[set[int]]:
    """The local moving phase of Leiden (``leidenalg``, modularity) from ``initial``, only the
    ``free`` nodes allowed to move (the full optimisation, which also refines and aggregates
    every community, took 4.5 s on the scale-5 link graph for the same result as these 0.03 s);
    then every community is cut into its connected parts, so that a firm that left cannot
    leave two unlinked halves in one group (what Leiden's refinement would guarantee).
    ``node_list``: every node, sorted."""
    import igraph as ig
    import leidenalg

    ends = np.stack([np.searchsorted(node_list, links.a), np.searchsorted(node_list, links.b)],
                    axis=1).reshape(-1, 2)
    nodes = node_list.tolist()
    g2 = ig.Graph(n=len(nodes), edges=ends.tolist())
    g2.es["weight"] = links.w.tolist()
    part = leidenalg.ModularityVertexPartition(
        g2, weights="weight", initial_membership=initial_membership(nodes, initial))
    opt = leidenalg.Optimiser()
    opt.set_rng_seed(seed)
    opt.move_nodes(part, is_membership_fixed=[n not in free for n in nodes])
    member = np.asarray(part.membership)
    inside = ends[member[ends[:, 0]] == member[ends[:, 1]]]
    parts = ig.Graph(n=len(nodes), edges=inside.tolist()).connected_components()
    return [{nodes[i] for i in comp} for comp in parts]


def find_groups(proj: Projection, la: LinkArrays, control: Mapping[int, Control],
                method: str = "auto", previous: Mapping[str, set[str]] | None = None,
                previous_links: LinkState | None = None,
                digests: dict[str, str] | None = None,
                report: dict[str, Any] | None = None) -> list[set[int]]:
    """Groups (sets of enterprise node ids, size ≥ 2): firms under one controller, merged with
    the linked communities they overlap; ``previous`` (group id → member keys of the last
    run) warm-starts the community detection (:func:`communities`). With ``previous_links``
    (what the live run left: its :func:`link_digests` and groups, which then start the
    detection instead of ``previous``, e.g. memberships a crashed run left behind) only firms
    around changed links may move, while they are at most :data:`LOCAL_MAX_SHARE` of the
    linked firms. ``digests`` (when given) receives
    this run's link digests, ``report`` the number of linked firms (``linked``) and of those
    allowed to move (``movable``; all of them without a local update)."""
    order = KeyOrder.of(proj.keys, la.ents)
    pos = enterprise_link_arrays(la)
    # controlled firms are enterprises (SHAREHOLDER_OF ends at one, graph/model.py), so
    # every one has a rank; the guard only keeps a malformed projection from indexing -1
    ranked = {int(order.rank[e]): c for e, c in control.items() if order.rank[e] >= 0}
    links = with_controller_ties(canonical_links(order.pos_rank[pos.a], order.pos_rank[pos.b],
                                                 pos.w), ranked)
    keys = order.keys
    touched = links.nodes()
    now = link_digests_of(links, keys)
    free = None
    start = previous
    if previous_links is not None and previous_links.groups:
        start = {str(i): set(g) for i, g in enumerate(previous_links.groups)}
        free = free_nodes_of(links, now, previous_links.digests, keys)
        if len(free) > LOCAL_MAX_SHARE * max(len(touched), 1):
            free = None
    if digests is not None:
        digests.update(now)
    if report is not None:
        report.update(linked=len(touched), movable=len(touched) if free is None else len(free))
    initial = {int(order.rank[n]): g for n, g in previous_membership(proj, start).items()}
    comms = communities(touched, links, method, initial=initial, free=free)
    by_rank = order.by_rank
    return [{int(by_rank[r]) for r in c} for c in comms if len(c) >= 2]


@dataclass
class KeyOrder:
    """The enterprises numbered ``0..n-1`` in the order of their keys (USCC), for community
    detection: Leiden's result depends on the order of the nodes and edges it is given, and
    projection node ids follow Neo4j's internal ids, which differ from load to load of the
    same data (a bulk import numbers nodes in its own order). In key order the same links
    give the same groups whatever the load order."""

    by_rank: np.ndarray
    """Rank → projection node id."""
    rank: np.ndarray
    """Projection node id → rank (-1 for nodes that are not among the enterprises)."""
    pos_rank: np.ndarray
    """Enterprise position in :class:`LinkArrays` → rank."""
    keys: list[str]
    """Rank → key."""

    @classmethod
    def of(cls, keys: Sequence[str], ents: Sequence[int] | np.ndarray) -> KeyOrder:
        ent_ids = np.asarray(ents, dtype=np.int64)
        ent_keys = [keys[n] for n in ent_ids.tolist()]
        by_pos = np.asarray(sorted(range(len(ent_keys)), key=ent_keys.__getitem__),
                            dtype=np.int64)
        pos_rank = np.empty(len(ent_ids), dtype=np.int64)
        pos_rank[by_pos] = np.arange(len(ent_ids), dtype=np.int64)
        rank = np.full(len(keys), -1, dtype=np.int64)
        rank[ent_ids] = pos_rank
        return cls(ent_ids[by_pos], rank, pos_rank, [ent_keys[i] for i in by_pos.tolist()])


def canonical_links(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> Links:
    """Links with each pair as ``a < b``, sorted by ``(a, b)``, weights rounded to 12 places
    (a weight summed over shared connectors in another order may differ in its last bit):
    what the same links give whatever order they were found in."""
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    order = np.argsort(lo * (int(hi.max(initial=0)) + 1) + hi, kind="stable")
    return Links(lo[order].astype(np.int64), hi[order].astype(np.int64),
                 np.round(np.asarray(w, dtype=float)[order], 12))


def previous_membership(proj: Projection, previous: Mapping[str, set[str]] | None
                        ) -> dict[int, int]:
    """Enterprise node id → number of its previous group (groups in id order; members no
    longer in the graph are skipped)."""
    out: dict[int, int] = {}
    for number, gid in enumerate(sorted(previous or {})):
        for key in (previous or {})[gid]:
            node = proj.node_id("Enterprise", key)
            if node is not None:
                out[node] = number
    return out


def new_group_id(members: Sequence[str]) -> str:
    """A deterministic id for a new group (from its sorted member keys)."""
    digest = hashlib.sha1("|".join(sorted(members)).encode()).hexdigest()[:10]
    return f"G{digest.upper()}"


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def kept_share(new: set[str], old: set[str]) -> float:
    """Share of the members of ``old`` that are in ``new``."""
    return len(new & old) / len(old) if old else 0.0


def assign_ids(groups: Sequence[set[str]], previous: Mapping[str, set[str]],
               keep: float = KEEP_SHARE) -> list[str]:
    """Ids for ``groups`` (member keys): the id of a previous group more than ``keep`` of
    whose members are in it (largest overlap first, then Jaccard; each old id and each
    group used once), else a new id."""
    # only previous groups sharing a member can match: an inverted index, not all pairs
    owners: dict[str, list[str]] = {}
    for gid, old in previous.items():
        for m in old:
            owners.setdefault(m, []).append(gid)
    candidates: list[tuple[int, float, int, str]] = []
    for i, g in enumerate(groups):
        near = {gid for m in g for gid in owners.get(m, ())}
        for gid in sorted(near):
            old = previous[gid]
            if kept_share(g, old) > keep:
                candidates.append((len(g & old), jaccard(g, old), i, gid))
    candidates.sort(key=lambda t: (-t[0], -t[1], t[2], t[3]))
    ids: list[str | None] = [None] * len(groups)
    used: set[str] = set()
    for _n, _j, i, gid in candidates:
        if ids[i] is None and gid not in used:
            ids[i] = gid
            used.add(gid)
    out = []
    for i, g in enumerate(groups):
        kept = ids[i]
        gid = kept if kept is not None else new_group_id(sorted(g))
        if kept is None:
            while gid in used or (gid in previous and gid not in used and previous[gid] != g):
                gid = new_group_id([*sorted(g), gid])
            used.add(gid)
        out.append(gid)
    return out


def group_score(member_scores: Sequence[float]) -> float:
    """Noisy-OR of the three highest member scores (0-100)."""
    top = sorted(member_scores, reverse=True)[:3]
    q = 1.0
    for s in top:
        q *= 1.0 - max(0.0, min(100.0, s)) / 100.0
    return round(100.0 * (1.0 - q), 2)


def connector_nodes(proj: Projection) -> list[int]:
    return [i for i, lab in enumerate(proj.labels) if lab in CONNECTORS]
