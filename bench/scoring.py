"""Scoring benchmark: time and peak memory of the analytics passes on a synthetic graph.

    python -m bench.scoring --scale S [--seed N]

Scale 1 is about 10,000 enterprises (with ~1.5 persons, shared addresses and phones, and
business-centre hubs of hundreds of firms); 50 ≈ 500k enterprises. The graph is built directly
as a :class:`analytics.projection.Projection` (no Neo4j), so the figures isolate the analytics.

Reported (one JSON line): projection size and bytes per edge, seconds per stage (indicators,
propagation, controllers, groups, full :func:`analytics.scoring.compute`), peak RSS, and beside
it an igraph implementation of the same propagation: personalised PageRank (C core) over the
same hub-damped weighted enterprise–connector graph with the same seeds, its time and the
Spearman correlation of its linked ranking with ours.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Any

import numpy as np


def synthetic(scale: float, seed: int = 7) -> Any:
    """A synthetic projection of about ``10_000 * scale`` enterprises."""
    from analytics.projection import empty_projection

    rng = random.Random(seed)
    p = empty_projection()
    n_e = max(50, int(10_000 * scale))
    counties = ["410502", "410503", "410505", "410506", "410522", "410526", "410527", "410581"]
    ents = []
    for i in range(n_e):
        ents.append(p.add_node("Enterprise", f"E{i:09d}", {
            "name": f"企业{i}", "county": rng.choice(counties), "delivery": "20240630",
            "scope": rng.choice(("日用百货销售", "软件开发", "投资咨询", "养老服务", "餐饮服务")),
            "reg_capital_wan": rng.choice((10.0, 100.0, 500.0, 1000.0, 5000.0)),
            "paid_capital_wan": 0.0 if rng.random() < 0.3 else None,
            "founded": f"20{rng.randint(5, 24):02d}-0{rng.randint(1, 9)}-15"}))
    persons = [p.add_node("Person", f"P:{i}", {"region": rng.choice(counties)})
               for i in range(int(n_e * 1.5))]
    addrs = [p.add_node("Address", f"A:{i}", {}) for i in range(int(n_e * 0.8))]
    phones = [p.add_node("Phone", f"T{i}", {}) for i in range(int(n_e * 0.8))]
    hubs_a = addrs[: max(2, n_e // 2000)]
    hubs_t = phones[: max(2, n_e // 2000)]
    g = p.graph
    for e in ents:
        g.add_edge(rng.choice(persons), e, key="LEGAL_REP_OF")
        for _ in range(rng.randint(0, 2)):
            g.add_edge(rng.choice(persons), e, key="SHAREHOLDER_OF", ratio=rng.random())
        if rng.random() < 0.5:
            g.add_edge(rng.choice(persons), e, key="OFFICER_OF")
        g.add_edge(e, rng.choice(hubs_a) if rng.random() < 0.1 else rng.choice(addrs),
                   key="REGISTERED_AT")
        g.add_edge(e, rng.choice(hubs_t) if rng.random() < 0.1 else rng.choice(phones),
                   key="HAS_PHONE")
        if rng.random() < 0.02:
            c = p.add_node("PoliceClue", f"J{e}", {"status": "已立案", "delivery": "20240630"})
            g.add_edge(e, c, key="SUBJECT_OF", role="嫌疑单位")
        if rng.random() < 0.05:
            c = p.add_node("CourtCase", f"C{e}", {"cause": "民间借贷纠纷", "filed": "2024-03-01"})
            g.add_edge(e, c, key="PARTY_TO", role="被告")
            for _ in range(rng.randint(1, 8)):
                g.add_edge(rng.choice(persons), c, key="PARTY_TO", role="原告")
    return p


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def igraph_propagation(la: Any, d: np.ndarray) -> tuple[np.ndarray, float]:
    """Personalised PageRank (igraph, C) on the same hub-damped weighted graph and seeds."""
    import igraph as ig

    from analytics import propagation as prop

    prep = prop._prepare(la)
    n_e, n_c = len(la.ents), len(la.conns)
    t0 = time.perf_counter()
    src = np.r_[la.ce_e, n_e + la.ce_c, la.ee_src]
    dst = np.r_[n_e + la.ce_c, la.ce_e, la.ee_dst]
    w = np.r_[prep.a, prep.b, prep.ee_w]
    g = ig.Graph(n=n_e + n_c, edges=np.c_[src, dst].tolist(), directed=True)
    g.es["weight"] = w.tolist()
    reset = np.r_[prop.transmit(d), np.zeros(n_c)]
    if reset.sum() <= 0:
        reset[:] = 1.0
    pr = np.asarray(g.personalized_pagerank(damping=prop.GAMMA, reset=reset.tolist(),
                                            weights="weight"))
    return pr[:n_e], time.perf_counter() - t0


def run(scale: float, seed: int) -> dict[str, Any]:
    from scipy.stats import spearmanr

    from analytics import groups as grp
    from analytics import indicators as ind
    from analytics import propagation as prop
    from analytics import scoring
    from analytics.facts import as_of_date, gather
    from analytics.projection import projection_stats
    from riskgraph.settings import Settings

    rss0 = _rss()
    t = time.perf_counter()
    proj = synthetic(scale, seed)
    build = time.perf_counter() - t
    stats = projection_stats(proj, _rss() - rss0)
    out: dict[str, Any] = {"scale": scale, "nodes": stats["nodes"], "edges": stats["edges"],
                           "bytes_per_edge": stats["bytes_per_edge"],
                           "projection_mb": round(stats["memory_bytes"] / 2**20, 1)}
    sec: dict[str, float] = {"build": build}
    t = time.perf_counter()
    ctx = ind.Context(as_of=as_of_date(proj))
    w = ind.weights()
    facts = gather(proj)
    direct = {f.node: ind.noisy_or(ind.evaluate(f, ctx), w) for f in facts}
    sec["indicators"] = time.perf_counter() - t
    t = time.perf_counter()
    la = prop.link_arrays(proj)
    sec["link_arrays"] = time.perf_counter() - t
    d = np.array([direct.get(int(n), 0.0) for n in la.ents])
    t = time.perf_counter()
    total = prop.propagate(la, d)
    sec["propagation"] = time.perf_counter() - t
    t = time.perf_counter()
    prop.top_paths(proj, la, d, total)
    sec["paths"] = time.perf_counter() - t
    t = time.perf_counter()
    control = grp.controllers(proj, 0.5)
    sec["controllers"] = time.perf_counter() - t
    t = time.perf_counter()
    grp.find_groups(proj, la, control)
    sec["groups"] = time.perf_counter() - t
    t = time.perf_counter()
    scoring.compute(proj, Settings())
    sec["compute_total"] = time.perf_counter() - t
    pr, sec["igraph_ppr"] = igraph_propagation(la, d)
    out["seconds"] = {k: round(v, 3) for k, v in sec.items()}
    out["propagation_vs_igraph"] = round(sec["propagation"] / max(sec["igraph_ppr"], 1e-9), 2)
    linked = total - d
    rho = spearmanr(linked, pr).statistic if len(d) > 2 else float("nan")
    out["spearman_linked_vs_ppr"] = round(float(rho), 3)
    out["peak_rss_mb"] = round(_rss() / 2**20, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    print(json.dumps(run(args.scale, args.seed), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
