"""Benchmark of ``riskgraph refresh``: a full load into an empty graph, then an increment.

    python -m bench.refresh --scale 0.05 [--seed 7] [--keep] [--city DIR]

In a fresh temporary ``RISKGRAPH_HOME`` with its own local Neo4j (a free port), it

1. generates the demo city (``riskgraph demo generate --scale S``), or takes ``--city DIR``;
2. puts every delivery date but the last into an inbox and times ``riskgraph refresh``
   (full load from an empty graph);
3. adds the last delivery date (the generator's increment) and times the next refresh;
4. times a refresh with nothing new (scoring skipped).

Each refresh runs as a child process; the peak resident memory of its process tree (sum over
the process and its children, sampled every 0.1 s; RSS, and PSS, which counts the pages a
forked worker shares with the refresh once) and the Neo4j server's peak are measured
with psutil. PSS is read at most every 5 s and only near the peak: reading it walks the
process's page tables, and at the 0.1 s interval (runs before session 7) that took most of a
core from the refresh being measured; ``sampler_cpu_s`` reports what the sampling cost.
So that runs on a shared machine can be told apart, each refresh also reports the
machine's speed (``machine``: a fixed pure-Python workload timed just before it, ``probe_s``,
and the CPU time the hypervisor stole while it ran, ``steal_s``) and its
memory pressure while it ran: the lowest available memory seen, and (Linux,
``/proc/vmstat``) the major page faults and pages the kernel scanned to reclaim memory in that
time, plus the load average before it started. Stage timings come from the run record
(``runs/<run_id>/refresh.json``). Prints a table and one JSON line. The server is stopped and
the folder removed (unless ``--keep``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of ``proc`` and all its descendants (0 for those gone)."""
    total = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total


def _pss(proc: psutil.Process) -> int:
    """Proportional set size (pages shared with other processes, e.g. a fork's copy-on-write
    pages, counted by share), or the RSS where the platform has none."""
    try:
        return int(getattr(proc.memory_full_info(), "pss", 0)) or proc.memory_info().rss
    except psutil.AccessDenied:
        return proc.memory_info().rss


class PeakSampler(threading.Thread):
    """Samples the peak RSS of a process tree (and optionally another pid) until stopped.

    Also the CPU seconds (user + system) of the tree and of the local server (``home``'s pid
    file, re-read at every sample: a bulk first load restarts the server), cumulated per pid
    from the last value seen (a process that exits loses at most one interval), and the same
    totals at the end of the ingest stage (when ``runs/<refresh>/refresh.json`` first shows
    ``timings.ingest``)."""

    PSS_EVERY = 5.0
    """Seconds between PSS samples at least. Reading a process's PSS walks its page tables
    (``/proc/PID/smaps_rollup``): about 75 ms of kernel time per call for a 4 GB process, so
    at the RSS interval it would take most of a core of this 2-core machine from the refresh
    it measures (and hold the process's memory-map lock while it walks). PSS is therefore
    sampled rarely, and only near the peak (RSS within 10 % of the highest seen)."""

    def __init__(self, pid: int, other: int | None = None, every: float = 0.1,
                 home: Path | None = None, pss_every: float = PSS_EVERY) -> None:
        super().__init__(daemon=True)
        self.pss_every = pss_every
        self._pss_at = float("-inf")
        self.pss_samples = 0
        self.own_cpu = 0.0  # CPU seconds of this sampler thread (what measuring cost)
        self.proc = psutil.Process(pid)
        try:
            self.other = psutil.Process(other) if other else None
        except psutil.Error:  # a bulk first load restarted the server since
            self.other = None
        self.every = every
        self.home = home
        self.peak = 0
        self.peak_pss = 0  # the same tree by PSS: a forked worker's shared pages count once
        self.other_peak = 0
        self.min_available = psutil.virtual_memory().available
        self.cpu: dict[int, float] = {}  # client tree, per pid
        self.server_cpu: dict[int, float] = {}
        self.ingest_cpu: tuple[float, float] | None = None  # (client, server) at ingest end
        self._stop_event = threading.Event()
        self._known = set(p.name for p in (home / "runs").glob("refresh-*")) if home and (
            home / "runs").is_dir() else set()

    def _server(self) -> psutil.Process | None:
        if self.home is None:
            return self.other
        pid = server_pid(self.home)
        if pid is None:
            return None
        try:
            return psutil.Process(pid)
        except psutil.Error:
            return None

    def _ingest_done(self) -> bool:
        if self.home is None:
            return False
        for folder in (self.home / "runs").glob("refresh-*"):
            if folder.name in self._known:
                continue
            try:
                record = json.loads((folder / "refresh.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if "ingest" in record.get("timings", {}):
                return True
        return False

    def _sample(self) -> None:
        try:
            members = [self.proc, *self.proc.children(recursive=True)]
        except psutil.Error:
            members = []
        server = self._server()
        for member in members:
            if server is not None and member.pid == server.pid:
                continue  # a server the refresh (re)started is its child: count it once
            try:
                t = member.cpu_times()
                self.cpu[member.pid] = t.user + t.system + t.children_user + t.children_system
            except psutil.Error:
                pass
        if server is not None:
            try:
                t = server.cpu_times()
                self.server_cpu[server.pid] = t.user + t.system
            except psutil.Error:
                pass
        rss = 0
        mine = [m for m in members if server is None or m.pid != server.pid]
        for member in mine:
            try:
                rss += member.memory_info().rss
            except psutil.Error:
                pass
        self.peak = max(self.peak, rss)
        now = time.monotonic()
        if rss >= 0.9 * self.peak and now - self._pss_at >= self.pss_every:
            self._pss_at = now
            self.pss_samples += 1
            pss = 0
            for member in mine:
                try:
                    pss += _pss(member)
                except psutil.Error:
                    pass
            self.peak_pss = max(self.peak_pss, pss)
        if server is not None:
            self.other_peak = max(self.other_peak, tree_rss(server))
        self.min_available = min(self.min_available, psutil.virtual_memory().available)
        if self.ingest_cpu is None and self._ingest_done():
            self.ingest_cpu = (sum(self.cpu.values()), sum(self.server_cpu.values()))

    def run(self) -> None:
        start = time.thread_time()
        while not self._stop_event.is_set():
            self._sample()
            self.own_cpu = time.thread_time() - start
            time.sleep(self.every)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


PRESSURE_COUNTERS = ("pgmajfault", "pgscan_kswapd", "pgscan_direct", "allocstall_normal",
                     "allocstall_movable")
"""``/proc/vmstat`` counters reported per refresh: major faults (pages read back from disk),
pages scanned by the background and the direct (allocation-stalling) reclaim, and stalls."""


def vmstat() -> dict[str, int]:
    """The :data:`PRESSURE_COUNTERS` now ({} where ``/proc/vmstat`` does not exist)."""
    try:
        lines = Path("/proc/vmstat").read_text().splitlines()
    except OSError:
        return {}
    values = dict(line.split() for line in lines if line.count(" ") == 1)
    return {k: int(values[k]) for k in PRESSURE_COUNTERS if k in values}


def pressure(before: dict[str, int], after: dict[str, int], min_available: int,
             load: tuple[float, float, float]) -> dict[str, Any]:
    """Memory pressure during one refresh: counter deltas, lowest available MB, load before."""
    return {"min_available_mb": round(min_available / 2**20),
            "load_before": [round(x, 1) for x in load],
            **{k: after[k] - before[k] for k in after if k in before}}


def steal_seconds() -> float | None:
    """CPU time the hypervisor gave to others so far, summed over this machine's CPUs (the
    ``steal`` column of ``/proc/stat``; ``None`` where it does not exist)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if len(fields) < 9 or fields[0] != "cpu":
        return None
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")


def speed_probe(rows: int = 200_000, repeat: int = 3) -> float:
    """Median seconds of a fixed pure-Python workload of the kind that dominates a rescore
    (small lists and dicts made, keyed and filled, as the projection build does). The same
    build over the same rows took 23.6 s in one run and 32.6 s in another (runs M and N,
    docs/operations.md): each case reports this figure, taken just before it, so that a
    slower machine can be told apart from slower code."""
    import gc
    import statistics

    times = []
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            index: dict[tuple[str, Any], dict[str, Any]] = {}
            data: list[list[Any]] = [[i, f"K{i}", i * 0.5, None, "x"] for i in range(rows)]
            for row in data:
                index[("Enterprise", row[1])] = {k: v for k, v in zip(
                    ("a", "b", "c"), row[2:], strict=False) if v is not None}
            del data, index
            times.append(time.perf_counter() - start)
    finally:
        if was_enabled:
            gc.enable()
    return round(statistics.median(times), 3)


def machine_speed(probe_s: float, steal_before: float | None, steal_after: float | None
                  ) -> dict[str, Any]:
    """How fast the machine was around one refresh: :func:`speed_probe` just before it and
    the CPU time stolen by the hypervisor while it ran (``None`` where unknown)."""
    stolen = None if steal_before is None or steal_after is None else round(
        steal_after - steal_before, 1)
    return {"probe_s": probe_s, "steal_s": stolen}


PASSED_SETTINGS = ("RISKGRAPH_SCORE_WORKERS", "RISKGRAPH_GROUPS_IN_CHILD",
                   "RISKGRAPH_PROJECTION_CACHE", "RISKGRAPH_SCORE_TOLERANCE")
"""Settings of how scoring runs that the refreshes inherit when set (every other
``RISKGRAPH_`` variable of the caller is left out, so a bench measures the defaults)."""


def child_env(environ: Mapping[str, str], home: Path, port: str, bulk: str) -> dict[str, str]:
    """The environment of the refreshes: the caller's without its ``RISKGRAPH_``/``NEO4J_``
    variables (a bench measures the defaults), plus the bench's home, port, server memory
    and bulk mode, and the :data:`PASSED_SETTINGS` the caller set."""
    env = {k: v for k, v in environ.items() if not k.startswith(("RISKGRAPH_", "NEO4J_"))}
    env.update(RISKGRAPH_HOME=str(home), RISKGRAPH_BOLT_PORT=port,
               RISKGRAPH_NEO4J_HEAP=environ.get("RISKGRAPH_NEO4J_HEAP", "2g"),
               RISKGRAPH_NEO4J_PAGECACHE=environ.get("RISKGRAPH_NEO4J_PAGECACHE", "1g"),
               RISKGRAPH_NEO4J_JAVA_OPTS=environ.get("RISKGRAPH_NEO4J_JAVA_OPTS", ""),
               RISKGRAPH_BULK_LOAD=bulk,
               **{k: environ[k] for k in PASSED_SETTINGS if k in environ},
               PYTHONPATH=os.pathsep.join(
                   [str(ROOT), *filter(None, [environ.get("PYTHONPATH")])]))
    return env


def riskgraph(*args: str) -> list[str]:
    return [sys.executable, "-m", "riskgraph.cli", *args]


def timed_refresh(env: dict[str, str], inbox: Path, pid: int | None) -> dict[str, Any]:
    """Run one refresh child; wall time, peak memory, exit code and its run record."""
    probe = speed_probe()
    load = os.getloadavg()
    counters = vmstat()
    steal = steal_seconds()
    start = time.perf_counter()
    proc = subprocess.Popen(riskgraph("refresh", "--inbox", str(inbox)), env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    home = Path(env["RISKGRAPH_HOME"])
    pid = server_pid(home) or pid  # the current server (a bulk first load restarts it)
    server_before = sum(cpu_of(pid))
    sampler = PeakSampler(proc.pid, pid, home=home)
    sampler.start()
    out, err = proc.communicate()
    sampler.stop()
    wall = time.perf_counter() - start
    record: dict[str, Any] = {}
    runs = sorted((Path(env["RISKGRAPH_HOME"]) / "runs").glob("refresh-*/refresh.json"),
                  key=lambda p: p.stat().st_mtime)
    if runs:
        record = json.loads(runs[-1].read_text(encoding="utf-8"))
    server_total = sum(sampler.server_cpu.values())
    ingest_client, ingest_server = sampler.ingest_cpu or (None, None)
    cpu = {"client_s": round(sum(sampler.cpu.values()), 1),
           "server_s": round(server_total - server_before, 1),
           "ingest_client_s": None if ingest_client is None else round(ingest_client, 1),
           "ingest_server_s": None if ingest_server is None else round(
               ingest_server - server_before, 1)}
    return {"exit": proc.returncode, "wall_s": round(wall, 2), "cpu": cpu,
            "ingest_path": record.get("recomputed", {}).get("ingest_path"),
            "ingest_reader": record.get("recomputed", {}).get("ingest_reader"),
            # the importer JVM is a child of the refresh: its CPU is inside ingest_client_s
            "bulk": {k: v for k, v in record.get("recomputed", {}).get("bulk", {}).items()
                     if k != "counts"},
            "peak_rss_mb": round(sampler.peak / 2**20, 1),
            "peak_pss_mb": round(sampler.peak_pss / 2**20, 1),
            "sampler_cpu_s": round(sampler.own_cpu, 1),
            "neo4j_peak_rss_mb": round(sampler.other_peak / 2**20, 1),
            "pressure": pressure(counters, vmstat(), sampler.min_available, load),
            "machine": machine_speed(probe, steal, steal_seconds()),
            "timings": record.get("timings", {}), "outcome": record.get("outcome"),
            "deliveries": len(record.get("deliveries_loaded", [])),
            "rows_quarantined": record.get("rows_quarantined"),
            "recomputed": record.get("recomputed", {}).get("scope"),
            "enterprises": record.get("recomputed", {}).get("enterprises_scored"),
            "records": record.get("recomputed", {}).get("records"),
            "projection": {k: v for k, v in record.get("recomputed", {}).get(
                "projection", {}).items() if k.startswith(("source", "digests"))},
            "indicators": record.get("recomputed", {}).get("indicators"),
            "score_seconds": {k: round(v, 1) for k, v in record.get("recomputed", {}).get(
                "score_seconds", {}).items() if isinstance(v, (int, float))},
            "levels": record.get("levels", {}), "alerts": sum(record.get("alerts", {}).values()),
            "stdout": out.strip().splitlines()[-2:], "stderr": err.strip().splitlines()[-3:]}


def cpu_of(pid: int | None) -> tuple[float, float]:
    """(user, system) CPU seconds of ``pid`` so far ((0, 0) when gone)."""
    if pid is None:
        return 0.0, 0.0
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0, 0.0
    return t.user, t.system


def server_pid(home: Path) -> int | None:
    pid_file = home / "neo4j" / "neo4j.pid"
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def clear_graph(env: dict[str, str]) -> None:
    """Empty the graph of an already running server (schema kept) in a child process."""
    code = ("from graph import cypher\nfrom graph.connection import connect\n"
            "from riskgraph.settings import load_settings\n"
            "s = load_settings(); d = connect(s)\n"
            "with d.session(database=s.neo4j_database) as x:\n"
            "    x.run(cypher.delete_all_batched()).consume()\n"
            "d.close()\n")
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.refresh", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--city", type=Path, default=None,
                        help="an already generated demo city (the --out folder of "
                        "`riskgraph demo generate`) to load instead of generating one; "
                        "--scale and --seed are then only labels")
    parser.add_argument("--home", type=Path, default=None,
                        help="use this RISKGRAPH_HOME's local server, already running on "
                        "RISKGRAPH_BOLT_PORT (its graph is CLEARED first; not stopped after) "
                        "instead of starting a fresh one — for loaded machines where a start "
                        "times out")
    parser.add_argument("--bulk", choices=("auto", "off"), default="auto",
                        help="RISKGRAPH_BULK_LOAD for the refreshes: auto (a first load into "
                        "the empty local graph goes through Neo4j's offline importer) or off "
                        "(always transactional)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="rg-bench-refresh-"))
    home = args.home.absolute() if args.home else work / "home"
    port = os.environ.get("RISKGRAPH_BOLT_PORT") if args.home else None
    env = child_env(os.environ, home, port or str(free_port()), args.bulk)
    results: dict[str, Any] = {"scale": args.scale, "seed": args.seed, "bulk": args.bulk}
    try:
        if args.home:
            clear_graph(env)
        else:
            subprocess.run(riskgraph("db", "start"), env=env, cwd=ROOT, check=True)
        city = args.city.absolute() if args.city else work / "demo"
        if args.city is None:
            t = time.perf_counter()
            subprocess.run(riskgraph("demo", "generate", "--out", str(city), "--scale",
                                     str(args.scale), "--seed", str(args.seed)),
                           env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            results["generate_s"] = round(time.perf_counter() - t, 2)
        else:
            results["city"] = str(city)
        dates = sorted(p for p in (city / "inbox").iterdir() if p.is_dir())
        if len(dates) < 2:
            raise SystemExit(f"expected a full delivery and an increment, got {dates}")
        inbox = work / "inbox"
        inbox.mkdir()
        for folder in dates[:-1]:
            (inbox / folder.name).symlink_to(folder, target_is_directory=True)
        pid = server_pid(home)
        results["full"] = timed_refresh(env, inbox, pid)
        (inbox / dates[-1].name).symlink_to(dates[-1], target_is_directory=True)
        inc_files = [p for p in dates[-1].rglob("*") if p.is_file()]
        results["increment_files"] = len(inc_files)
        results["increment_mb"] = round(sum(p.stat().st_size for p in inc_files) / 2**20, 2)
        results["increment"] = timed_refresh(env, inbox, pid)
        results["unchanged"] = timed_refresh(env, inbox, pid)
    finally:
        if not args.home:
            subprocess.run(riskgraph("db", "stop"), env=env, cwd=ROOT, check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}", file=sys.stderr)
    print(f"refresh benchmark, demo scale {args.scale} (generate {results.get('generate_s')}s)")
    print(f"{'case':<10} {'exit':>4} {'wall s':>8} {'ingest':>8} {'score':>8} {'alerts':>8} "
          f"{'peak MB':>8} {'pss MB':>8} {'neo4j MB':>9} {'deliv':>5} {'scope':>6} "
          f"{'ing cpu c/s':>12} {'path':>15} {'records written':>16} {'min avail MB':>12} "
          f"{'major faults':>12} {'probe s':>8} {'steal s':>8}")
    for case in ("full", "increment", "unchanged"):
        r = results.get(case)
        if not r:
            continue
        tm = r["timings"]
        print(f"{case:<10} {r['exit']:>4} {r['wall_s']:>8.1f} {tm.get('ingest', 0):>8.1f} "
              f"{tm.get('score', 0):>8.1f} {tm.get('alerts', 0):>8.1f} {r['peak_rss_mb']:>8.0f} "
              f"{r['peak_pss_mb']:>8.0f} "
              f"{r['neo4j_peak_rss_mb']:>9.0f} {r['deliveries']:>5} {str(r['recomputed']):>6} "
              f"{str(r['cpu']['ingest_client_s']) + '/' + str(r['cpu']['ingest_server_s']):>12} "
              f"{str(r['ingest_path']):>15} {(r.get('records') or {}).get('written', '-'):>16} "
              f"{r['pressure']['min_available_mb']:>12} "
              f"{r['pressure'].get('pgmajfault', '-'):>12} "
              f"{str(r.get('machine', {}).get('probe_s', '-')):>8} "
              f"{str(r.get('machine', {}).get('steal_s', '-')):>8}")
    print(json.dumps(results, ensure_ascii=False))
    return 0 if all(results.get(c, {}).get("exit") in (0, 1)
                    for c in ("full", "increment", "unchanged")) else 1


if __name__ == "__main__":
    raise SystemExit(main())
