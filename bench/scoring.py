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

    python -m bench.scoring --neo4j [--extrapolate-enterprises N]

runs the whole ``riskgraph score`` pass (:func:`analytics.pipeline.score_graph`) against the
graph in the configured Neo4j (``RISKGRAPH_BOLT_PORT`` / ``NEO4J_URI`` …; load the demo city
first with ``riskgraph demo generate`` + ``riskgraph refresh``) and reports, besides the above on
that same projection: reading (rows/s), every compute and write-back stage, the total, peak RSS,
bytes per edge and write rows/s. ``--extrapolate-enterprises`` adds a LINEAR extrapolation of
read, compute and write to N enterprises (labelled as such: a measured figure it is not).
"""

from __future__ import annotations

import argparse
import json
import os
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


def _peak_rss_mb() -> float:
    """Peak resident set size of this process so far (``ru_maxrss``, kB on Linux)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def igraph_propagation(la: Any, d: np.ndarray) -> tuple[np.ndarray, float]:
    """Personalised PageRank (igraph, C) on the same hub-damped weighted graph and seeds."""
    pr, build, run = igraph_propagation_parts(la, d)
    return pr, build + run


def igraph_propagation_parts(la: Any, d: np.ndarray) -> tuple[np.ndarray, float, float]:
    """:func:`igraph_propagation` with its two times apart: building the igraph graph from
    the arrays, and the personalised PageRank itself."""
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
    t1 = time.perf_counter()
    pr = np.asarray(g.personalized_pagerank(damping=prop.GAMMA, reset=reset.tolist(),
                                            weights="weight"))
    return pr[:n_e], t1 - t0, time.perf_counter() - t1


def compare_propagation(proj: Any) -> dict[str, Any]:
    """Our propagation against igraph's PPR on ``proj`` (same arrays, same seeds)."""
    from scipy.stats import spearmanr

    from analytics import indicators as ind
    from analytics import propagation as prop
    from analytics.facts import as_of_date, gather

    ctx = ind.Context(as_of=as_of_date(proj))
    w = ind.weights()
    direct = {f.node: ind.noisy_or(ind.evaluate(f, ctx), w) for f in gather(proj)}
    t = time.perf_counter()
    la = prop.link_arrays(proj)
    sec = {"link_arrays": time.perf_counter() - t}
    d = np.array([direct.get(int(n), 0.0) for n in la.ents])
    t = time.perf_counter()
    total = prop.propagate(la, d)
    sec["propagation"] = time.perf_counter() - t
    pr, sec["igraph_build"], sec["igraph_ppr"] = igraph_propagation_parts(la, d)
    ig_total = sec["igraph_build"] + sec["igraph_ppr"]
    rho = spearmanr(total - d, pr).statistic if len(d) > 2 else float("nan")
    return {"seconds": {k: round(v, 3) for k, v in sec.items()},
            "propagation_vs_igraph": round(sec["propagation"] / max(ig_total, 1e-9), 3),
            "propagation_vs_igraph_ppr_only": round(
                sec["propagation"] / max(sec["igraph_ppr"], 1e-9), 3),
            "spearman_linked_vs_ppr": round(float(rho), 3)}


def run(scale: float, seed: int) -> dict[str, Any]:
    from scipy.stats import spearmanr

    from analytics import groups as grp
    from analytics import indicators as ind
    from analytics import propagation as prop
    from analytics import scoring
    from analytics.facts import as_of_date, gather
    from analytics.projection import gc_paused, projection_stats
    from riskgraph.settings import Settings

    rss0 = _rss()
    cpu0 = time.process_time()
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
    with gc_paused():  # as analytics.pipeline.score_graph runs it
        scoring.compute(proj, Settings())
    sec["compute_total"] = time.perf_counter() - t
    pr, sec["igraph_ppr"] = igraph_propagation(la, d)
    out["seconds"] = {k: round(v, 3) for k, v in sec.items()}
    out["propagation_vs_igraph"] = round(sec["propagation"] / max(sec["igraph_ppr"], 1e-9), 2)
    linked = total - d
    rho = spearmanr(linked, pr).statistic if len(d) > 2 else float("nan")
    out["spearman_linked_vs_ppr"] = round(float(rho), 3)
    out["enterprises"] = sum(1 for lab in proj.labels if lab == "Enterprise")
    out["cpu_seconds"] = round(time.process_time() - cpu0, 2)
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


WRITE_STAGES = ("write", "after_switch")


def _server_cpu(settings: Any) -> float:
    """CPU seconds (user + system) used so far by the local Neo4j server (-1: unknown, e.g.
    a remote NEO4J_URI): with the client's CPU, a load-independent cost of a pass."""
    try:
        import psutil

        from graph.server import pid_file

        pid = int(pid_file(settings).read_text().split()[0])
        procs = [psutil.Process(pid)]
        procs += procs[0].children(recursive=True)
        return float(sum(p.cpu_times().user + p.cpu_times().system for p in procs))
    except Exception:  # no local server, or it is gone
        return -1.0


def _read_alone(driver: Any, settings: Any) -> dict[str, Any]:
    """A second projection read on its own: wall, client CPU and server CPU seconds."""
    from analytics.projection import project

    t, c, s = time.perf_counter(), time.process_time(), _server_cpu(settings)
    proj = project(driver, settings.neo4j_database)
    rows = proj.stats["nodes"] + proj.stats["edges"]
    wall, cpu, srv = (time.perf_counter() - t, time.process_time() - c,
                      _server_cpu(settings) - s)
    return {"rows": rows, "seconds": round(wall, 2), "client_cpu_seconds": round(cpu, 2),
            "server_cpu_seconds": round(srv, 2) if s >= 0 else None,
            "rows_per_cpu_second": round(rows / max(cpu + max(srv, 0.0), 1e-9))}


def _rust_ext() -> bool:
    """Whether the driver decodes Bolt with the Rust extension (``neo4j-rust-ext``)."""
    try:
        import neo4j._rust  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


def run_neo4j(extrapolate_to: int = 0) -> dict[str, Any]:
    """One full scoring pass against the configured Neo4j, with the igraph comparison on the
    same projection in the same process."""
    from analytics.pipeline import score_graph
    from graph.connection import connect
    from riskgraph.settings import load_settings

    settings = load_settings()
    driver = connect(settings)
    trace: dict[str, Any] = {"server_cpu": lambda: _server_cpu(settings)}
    cpu0, srv0 = time.process_time(), _server_cpu(settings)
    try:
        summary = score_graph(driver, settings, trace=trace)
        cpu, srv = time.process_time() - cpu0, _server_cpu(settings) - srv0
        read = _read_alone(driver, settings)
    finally:
        driver.close()
    proj, result = trace["projection"], trace["result"]
    st = proj.stats
    sec = {k: round(v, 2) for k, v in summary.seconds.items()}
    written = (len(result.records) + len(result.groups)
               + sum(len(g.members) for g in result.groups) + len(result.controls))
    write_s = sum(summary.seconds.get(k, 0.0) for k in WRITE_STAGES)
    out: dict[str, Any] = {
        "mode": "neo4j", "enterprises": summary.enterprises, "groups": summary.groups,
        "nodes": st["nodes"], "edges": st["edges"], "bytes_per_edge": st["bytes_per_edge"],
        "projection_mb": round(st["memory_bytes"] / 2**20, 1),
        "read_rows_per_second": st["rows_per_second"],
        "write_rows": written, "write_rows_per_second": round(written / max(write_s, 1e-9)),
        "seconds": sec, "client_cpu_seconds": round(cpu, 2),
        "server_cpu_seconds": round(srv, 2) if srv0 >= 0 else None,
        "read_alone": read,
        "peak_rss_mb_scoring": _peak_rss_mb(), "rust_packstream": _rust_ext(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    out["igraph"] = compare_propagation(proj)
    out["peak_rss_mb"] = _peak_rss_mb()
    if extrapolate_to:
        f = extrapolate_to / max(summary.enterprises, 1)
        parts = {"read": sec.get("project", 0.0), "compute": sec.get("score", 0.0),
                 "write": sec.get("write", 0.0) + sec.get("after_switch", 0.0)}
        out["extrapolated_linear"] = {
            "enterprises": extrapolate_to, "factor": round(f, 2),
            "seconds": {k: round(v * f, 1) for k, v in parts.items()},
            "total_seconds": round(sum(parts.values()) * f, 1),
            "projection_gb": round(st["memory_bytes"] * f / 2**30, 2),
            "note": "linear in enterprises from this measured run; not measured"}
        if "srv_project" in sec:
            # load-independent: client + server CPU seconds per stage, scaled the same way
            # (wall on an idle 2-core machine lies between max(client, server) and the sum)
            stage_cpu = {
                "read": (sec["cpu_project"], sec["srv_project"]),
                "compute": (sec["cpu_score"], sec["srv_score"]),
                "write": (sec["cpu_write"], sec["srv_write"] + sec["srv_after_switch"])}
            out["extrapolated_linear"]["cpu_seconds"] = {
                k: {"client": round(c * f, 1), "server": round(v * f, 1)}
                for k, (c, v) in stage_cpu.items()}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--neo4j", action="store_true",
                    help="score the graph in the configured Neo4j (read + compute + write)")
    ap.add_argument("--extrapolate-enterprises", type=int, default=0,
                    help="with --neo4j: also a linear extrapolation to N enterprises")
    args = ap.parse_args(argv)
    out = (run_neo4j(args.extrapolate_enterprises) if args.neo4j
           else run(args.scale, args.seed))
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
