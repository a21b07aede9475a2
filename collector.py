"""Python's cyclic garbage collector held back while the process builds objects by the hundred
thousand that all live to the end of the job (a batch's records, a hub's 18,000 reports).

Its passes over such objects find nothing to free: by default the youngest objects are walked
every 700 allocations, and each tenth and hundredth pass walks the older ones too. Imports
nothing of the project.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

ALLOCATIONS = 50_000
"""Allocations between two collections of the youngest objects while held back (700 by
default)."""


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect cyclic garbage less often for the duration (the process's setting, restored)."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], ALLOCATIONS), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection for the duration, for a job of bounded size whose objects all
    live to its end; what it left for the collector is found at the next pass after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
