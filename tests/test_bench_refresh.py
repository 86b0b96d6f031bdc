"""The memory-pressure figures of ``bench.refresh`` (pure parts; the benchmark itself runs on
demand)."""

from __future__ import annotations

import os
import sys
import time

import pytest

from bench.refresh import (
    PRESSURE_COUNTERS,
    PeakSampler,
    child_env,
    machine_speed,
    pressure,
    speed_probe,
    steal_seconds,
    vmstat,
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/vmstat is Linux's")
def test_vmstat_reads_the_pressure_counters() -> None:
    counters = vmstat()
    assert "pgmajfault" in counters
    assert set(counters) <= set(PRESSURE_COUNTERS)
    assert all(isinstance(v, int) and v >= 0 for v in counters.values())


def test_pressure_reports_deltas_lowest_memory_and_load() -> None:
    before = {"pgmajfault": 100, "pgscan_kswapd": 5}
    after = {"pgmajfault": 160, "pgscan_kswapd": 5, "pgscan_direct": 7}
    out = pressure(before, after, 3 * 2**20 + 1, (1.234, 2.0, 0.0))
    assert out == {"min_available_mb": 3, "load_before": [1.2, 2.0, 0.0],
                   "pgmajfault": 60, "pgscan_kswapd": 0}


@pytest.mark.parametrize(("pss_every", "many"), [(60.0, False), (0.0, True)])
def test_sampler_reads_pss_rarely(pss_every: float, many: bool) -> None:
    """RSS at every interval, PSS (a page-table walk, costly for big processes) at most every
    ``pss_every`` seconds; the sampler reports its own CPU time."""
    sampler = PeakSampler(os.getpid(), every=0.02, pss_every=pss_every)
    sampler.start()
    time.sleep(0.5)
    sampler.stop()
    assert sampler.peak > 0 and sampler.peak_pss > 0 and sampler.own_cpu >= 0
    assert (sampler.pss_samples > 3) if many else (sampler.pss_samples == 1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/stat is Linux's")
def test_steal_seconds_read_proc_stat_and_only_grow() -> None:
    first = steal_seconds()
    assert first is not None and first >= 0.0
    second = steal_seconds()
    assert second is not None and second >= first


def test_machine_speed_reports_the_probe_and_the_time_stolen() -> None:
    assert machine_speed(0.8, 10.0, 12.34) == {"probe_s": 0.8, "steal_s": 2.3}
    assert machine_speed(0.8, None, 12.0) == {"probe_s": 0.8, "steal_s": None}


def test_speed_probe_grows_with_its_workload() -> None:
    small, large = speed_probe(rows=20_000), speed_probe(rows=400_000)
    assert 0.0 < small < large


def test_child_env_keeps_the_scoring_settings_passed_and_drops_the_others() -> None:
    from pathlib import Path

    caller = {"PATH": "/bin", "RISKGRAPH_GROUPS_IN_CHILD": "on", "RISKGRAPH_CITY": "110000",
              "NEO4J_URI": "bolt://elsewhere:7687", "RISKGRAPH_NEO4J_HEAP": "3g"}
    env = child_env(caller, Path("/tmp/h"), "7777", "off")
    assert env["RISKGRAPH_GROUPS_IN_CHILD"] == "on"  # passed through
    assert "RISKGRAPH_CITY" not in env and "NEO4J_URI" not in env  # the bench's defaults
    assert (env["RISKGRAPH_HOME"], env["RISKGRAPH_BOLT_PORT"], env["RISKGRAPH_BULK_LOAD"],
            env["RISKGRAPH_NEO4J_HEAP"], env["PATH"]) == ("/tmp/h", "7777", "off", "3g", "/bin")
    assert "RISKGRAPH_SCORE_WORKERS" not in child_env({}, Path("/tmp/h"), "1", "auto")
