"""Pausing Python's cyclic garbage collector while the matcher builds and reads millions of small objects."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_pause_lock = threading.Lock()
_pauses = 0  # blocks inside collector_paused now, in any thread
_enabled_before = False  # the collector's state when the first of them began


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (process-wide) for the block, then restore it as it was.

    A match makes a few objects per applicant or arc (deferred acceptance's heap entries, placements,
    reasons, term lists) and none of them forms a cycle, but every so many new objects the collector runs,
    and its full passes walk every object alive, the problem's applicants and projects included: at national
    scale that was a fifth of the explain stage and a third of deferred acceptance. Reference counting still
    frees everything as usual meanwhile.

    The pause is counted across threads (a process may run two matches at once, in two threads): the collector comes back
    when the last block ends, as it was before the first began, never left off by an unlucky interleaving.
    """
    global _pauses, _enabled_before
    with _pause_lock:
        if _pauses == 0:
            _enabled_before = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _enabled_before:
                gc.enable()
