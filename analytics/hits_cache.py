"""The indicator cache: a rescore on a patched projection re-evaluates only the enterprises
whose facts changed.

Evaluating every indicator of every enterprise is the biggest part of the scoring
computation. A run leaves, per enterprise, its raw hits (before corroboration) and the
reference date until which they hold (:func:`analytics.indicators.evaluate_raw_until`: two
indicators read the reference date, which is the latest delivery and so moves with every
delivery) in ``RISKGRAPH_HOME/cache/hits.pkl``, stamped with the run and a fingerprint of
the indicator code. The next run reuses an enterprise's entry when

* its projection was patched from the same run's rows (:mod:`analytics.projection_cache`),
  so the change logs name every node that changed since;
* the enterprise is not among those whose facts may have changed
  (:func:`analytics.facts.affected` of the changed nodes); and
* the new reference date is before the entry's until date.

Every other enterprise is gathered and evaluated as in a full run, so the hits are those a
full evaluation gives (a test compares the records of both). Derived data: when it is
missing or stale the run evaluates everything.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from riskgraph.gcpause import gc_paused

FORMAT = 2


@dataclass
class CachedHits:
    fingerprint: str
    run_id: str
    as_of: date
    entries: dict[str, tuple[dict[str, Any], date | None]]


def fingerprint() -> str:
    """The indicator code: the modules that compute hits from a projection's facts."""
    from analytics import facts, indicators, sectors

    h = hashlib.sha1(f"{FORMAT}|{indicators.MODEL_VERSION}".encode())
    for module in (indicators, facts, sectors):
        h.update(Path(str(module.__file__)).read_bytes())
    return h.hexdigest()[:12]


def load(path: Path, live_run: str | None) -> CachedHits | None:
    """The cache in ``path`` when it was left by ``live_run`` with today's indicator code."""
    try:
        with path.open("rb") as fh, gc_paused():
            fmt, fp, run_id, as_of, flat = pickle.load(fh)
        if fmt != FORMAT or fp != fingerprint() or not live_run or run_id != live_run:
            return None
        from analytics.indicators import Hit

        with gc_paused():
            entries = {k: ({h[0]: Hit(h[1], h[2], h[3]) for h in v[1:]},
                           date.fromordinal(v[0]) if v[0] else None)
                       for k, v in flat.items()}
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            ImportError, IndexError):
        return None
    return CachedHits(fp, run_id, date.fromordinal(as_of), entries)


def stage(path: Path, run_id: str, as_of: date,
          entries: Mapping[str, tuple[dict[str, Any], date | None]]) -> Path:
    """Write this run's entries beside the cache file; :func:`commit` once the run is live.
    Entries are stored flat (tuples of plain values, dates as ordinals): most are empty,
    and plain values pickle several times faster than dataclasses."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f"{path.name}.{run_id}.staged")
    buf = io.BytesIO()
    with gc_paused():
        flat = {k: _flatten(v) for k, v in entries.items()}
        pickle.dump((FORMAT, fingerprint(), run_id, as_of.toordinal(), flat), buf, protocol=5)
    staged.write_bytes(buf.getbuffer())
    return staged


def _flatten(entry: tuple[Mapping[str, Any], date | None]) -> tuple[Any, ...]:
    hits, until = entry
    return (until.toordinal() if until else 0,
            *[(k, h.strength, h.value, h.delivery) for k, h in hits.items()])



def commit(staged: Path, path: Path) -> None:
    os.replace(staged, path)
