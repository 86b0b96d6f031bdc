"""Ultimate controllers, groups of linked firms, stable group ids, group scores.

* **Equity penetration**: with ``R[i, j]`` the share ``i`` holds in enterprise ``j``
  (``SHAREHOLDER_OF.ratio``), the effective share over all ownership paths is
  ``R + R² + R³ + …`` (products of ratios along each path, summed over paths), computed as a
  sparse iteration from the ultimate owners (holders nobody holds). The controller of an
  enterprise is the owner with the largest effective share when it reaches
  ``Settings.controller_threshold``.
* **Groups**: firms under one controller, plus communities of the enterprise link graph (legal
  reps, officers, shareholders, branches, shared phones/addresses with hub damping) found by
  Louvain (NetworkX) on small graphs or Leiden (igraph + leidenalg) on large ones, behind one
  function (:func:`communities`).
* **Stable ids**: a new group keeps the id of the previous group it overlaps most when their
  Jaccard similarity is at least 0.5 (each old id used once); otherwise it gets a new id derived
  from its members.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy import sparse

from analytics.projection import Projection
from analytics.propagation import CONNECTORS, FREE, LinkArrays, damp

JACCARD_KEEP = 0.5
LEIDEN_ABOVE = 2000
"""Graphs with more nodes than this use Leiden (igraph) instead of NetworkX Louvain."""
MIN_LINK = 0.3
"""Minimum link weight between two enterprises for the community graph."""


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
    rows, cols, vals = [], [], []
    for u, v, rtype, data in proj.graph.edges(keys=True, data=True):
        if rtype == "SHAREHOLDER_OF" and not data.get("ended"):
            r = _ratio(data.get("ratio"))
            if r > 0:
                rows.append(u)
                cols.append(v)
                vals.append(min(r, 1.0))
    return sparse.csr_matrix((vals, (rows, cols)), shape=(n, n))


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
    out: dict[int, Control] = {}
    for j in range(eff.shape[1]):
        start, end = eff.indptr[j], eff.indptr[j + 1]
        if start == end:
            continue
        k = start + int(np.argmax(eff.data[start:end]))
        share = float(eff.data[k])
        if share >= threshold - 1e-9:
            out[j] = Control(j, int(eff.indices[k]), round(min(share, 1.0), 4))
    return out


def enterprise_links(la: LinkArrays, min_link: float = MIN_LINK) -> dict[tuple[int, int], float]:
    """Weighted enterprise–enterprise links (positions) through connectors and direct edges.

    Two firms sharing a connector get ``w1 * w2 * damp(deg)``; hubs above ``FREE`` are damped,
    and connectors with more than 50 enterprises are skipped (they carry ~nothing)."""
    links: dict[tuple[int, int], float] = {}
    by_c: dict[int, list[tuple[int, float]]] = {}
    for e, c, w in zip(la.ce_e.tolist(), la.ce_c.tolist(), la.ce_w.tolist(), strict=True):
        by_c.setdefault(c, []).append((e, w))
    for c, members in by_c.items():
        if len(members) < 2 or len(members) > 50:
            continue
        free = FREE.get(str(la.conn_label[c]), 3.0)
        d = float(damp(np.array([len(members)]), free)[0])
        for i in range(len(members)):
            for j in range(i + 1, len(members)):
                (a, wa), (b, wb) = members[i], members[j]
                if a == b:
                    continue
                w = wa * wb * d
                key = (min(a, b), max(a, b))
                links[key] = 1 - (1 - links.get(key, 0.0)) * (1 - w)
    for s, t, w in zip(la.ee_src.tolist(), la.ee_dst.tolist(), la.ee_w.tolist(), strict=True):
        if s != t:
            key = (min(s, t), max(s, t))
            links[key] = max(links.get(key, 0.0), w)
    return {k: v for k, v in links.items() if v >= min_link}


def communities(nodes: Iterable[int], links: Mapping[tuple[int, int], float],
                method: str = "auto", seed: int = 42) -> list[set[int]]:
    """Communities of a weighted undirected graph: Louvain (NetworkX) or Leiden (igraph)."""
    node_list = sorted(set(nodes) | {n for k in links for n in k})
    if method == "auto":
        method = "leiden" if len(node_list) > LEIDEN_ABOVE else "louvain"
    if method == "louvain":
        g = nx.Graph()
        g.add_nodes_from(node_list)
        g.add_weighted_edges_from((a, b, w) for (a, b), w in links.items())
        return [set(c) for c in nx.community.louvain_communities(g, weight="weight", seed=seed)]
    import igraph as ig
    import leidenalg

    pos = {n: i for i, n in enumerate(node_list)}
    edges = [(pos[a], pos[b]) for a, b in links]
    g2 = ig.Graph(n=len(node_list), edges=edges)
    g2.es["weight"] = list(links.values())
    part = leidenalg.find_partition(g2, leidenalg.ModularityVertexPartition, weights="weight",
                                    seed=seed)
    return [{node_list[i] for i in comm} for comm in part]


def find_groups(proj: Projection, la: LinkArrays, control: Mapping[int, Control],
                method: str = "auto") -> list[set[int]]:
    """Groups (sets of enterprise node ids, size ≥ 2): firms under one controller, merged with
    the linked communities they overlap."""
    links = enterprise_links(la)
    ent_links = {(int(la.ents[a]), int(la.ents[b])): w for (a, b), w in links.items()}
    # a controller ties its firms together strongly
    by_ctl: dict[int, list[int]] = {}
    for e, c in control.items():
        by_ctl.setdefault(c.controller, []).append(e)
    for firms in by_ctl.values():
        firms.sort()
        for i in range(1, len(firms)):
            key = (firms[0], firms[i])
            ent_links[key] = max(ent_links.get(key, 0.0), 1.0)
    touched = {n for k in ent_links for n in k}
    comms = communities(touched, ent_links, method)
    return [c for c in comms if len(c) >= 2]


def new_group_id(members: Sequence[str]) -> str:
    """A deterministic id for a new group (from its sorted member keys)."""
    digest = hashlib.sha1("|".join(sorted(members)).encode()).hexdigest()[:10]
    return f"G{digest.upper()}"


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def assign_ids(groups: Sequence[set[str]], previous: Mapping[str, set[str]],
               keep: float = JACCARD_KEEP) -> list[str]:
    """Ids for ``groups`` (member keys): the previous id with Jaccard ≥ ``keep`` (best match
    first, each old id used once), else a new id."""
    candidates: list[tuple[float, int, str]] = []
    for i, g in enumerate(groups):
        for gid, old in previous.items():
            if g & old:
                j = jaccard(g, old)
                if j >= keep:
                    candidates.append((j, i, gid))
    candidates.sort(key=lambda t: (-t[0], t[1], t[2]))
    ids: list[str | None] = [None] * len(groups)
    used: set[str] = set()
    for _j, i, gid in candidates:
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
