"""The cyclic garbage collector paused around bulk work (one helper for ingest and analytics)."""

from __future__ import annotations

import atexit
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
    paused until they are gone; returns the (daemon) thread.

    Freeing a scoring run's projection and result (tens of millions of objects) takes
    seconds of interpreter time. Done in the background, it overlaps with what the caller
    does next while waiting for the database (the refresh job's alerts and ledger). The big
    containers are taken apart piece by piece (:func:`shed`): dropping a whole projection in
    one call frees it in C without letting go of the interpreter lock, so the caller could
    not run a line of Python until all of it was gone. The thread is a daemon: a process
    that ends meanwhile leaves the rest to the operating system instead of freeing it first
    (and keeps the collector off it on the way out: :func:`_freeze_if_releasing`).
    The pause starts before this returns, so the collector does not walk the objects being
    freed meanwhile; the caller must hold no other reference to them."""
    entered = threading.Event()

    def drop() -> None:
        with gc_paused():
            entered.set()
            while items:
                shed(items.pop())

    thread = threading.Thread(target=drop, name="release", daemon=True)
    with _lock:
        if not _releasing:
            atexit.register(_freeze_if_releasing)
        _releasing.append(thread)
    thread.start()
    entered.wait()
    return thread


_releasing: list[threading.Thread] = []


def _freeze_if_releasing() -> None:
    """At exit, while a release is still running: move every object out of the collector's
    reach (``gc.freeze``). Shutting down, the interpreter runs one full collection even with
    the collector off, and it would walk all the objects not yet released (a scale-25
    increment: about 10 s between the refresh's end and the process's)."""
    with _lock:
        _releasing[:] = [t for t in _releasing if t.is_alive()]
        if _releasing:
            gc.freeze()


SHED_ABOVE = 1000
"""Containers with more items than this are taken apart item by item by :func:`shed`."""

_CONTAINERS = (dict, list, set, tuple)


def shed(obj: object, depth: int = 4) -> None:
    """Take apart, one item at a time, the containers ``obj`` is or holds: the containers in
    the attributes of objects (and of the objects in those attributes, such as a projection's
    graph), and inside containers the tuples and the big containers (dicts, lists and sets
    of more than :data:`SHED_ABOVE` items), down to ``depth`` levels. Emptied containers
    are left empty; nothing else is changed (small containers in containers, and other
    objects, are dropped whole when their holder goes).
    The caller must hold the only reference to those containers. Between two items the
    interpreter may switch threads."""
    if depth <= 0:
        return
    if isinstance(obj, dict):
        while obj:
            _key, value = obj.popitem()
            _shed_item(value, depth - 1)
    elif isinstance(obj, list | set):
        while obj:
            _shed_item(obj.pop(), depth - 1)
    elif isinstance(obj, tuple):
        for value in obj:
            _shed_item(value, depth - 1)
    else:
        attrs = getattr(obj, "__dict__", None)
        if isinstance(attrs, dict):
            for value in list(attrs.values()):
                shed(value, depth - 1)


def _shed_item(value: object, depth: int) -> None:
    """An item of a container: tuples (e.g. parallel lists) and big containers are taken
    apart, anything else is dropped whole."""
    if isinstance(value, tuple) or (isinstance(value, dict | list | set)
                                    and len(value) > SHED_ABOVE):
        shed(value, depth)
