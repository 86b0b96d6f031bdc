"""The cyclic garbage collector paused around bulk work (one helper for ingest and analytics)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block (its previous state restored
    after, also on an error). Building or walking millions of small dicts, lists and tuples
    makes every full collection walk the whole growing heap again (scale 1: projection client
    CPU 5.0-5.5 s with it, 2.7-2.8 s without; the bulk CSV step 2.7 s less at scale 5); the
    loops it wraps make no reference cycles to reclaim meanwhile.

    The collector is one per process: pauses nest and may overlap across threads (a
    background read of the projection cache while ingest writes), and the collector comes
    back only when the last of them ends, in the state the first found it."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()


def release_in_background(items: list[object]) -> threading.Thread:
    """Drop the references in ``items`` in a background thread, with the collector kept
    paused until they are gone; returns the (non-daemon) thread.

    Freeing a scoring run's projection and result (tens of millions of objects) takes
    seconds of interpreter time. Done in the background, it overlaps with what the caller
    does next while waiting for the database (the refresh job's alerts and ledger). The
    pause starts before this returns, so the collector does not walk the objects being
    freed meanwhile; the caller must hold no other reference to them."""
    entered = threading.Event()

    def drop() -> None:
        with gc_paused():
            entered.set()
            items.clear()

    thread = threading.Thread(target=drop, name="release")
    thread.start()
    entered.wait()
    return thread
