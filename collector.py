"""Python's cyclic garbage collector held back while the process builds objects by the hundred
thousand that all live to the end of the job (a batch's records, a hub's 18,000 reports).

Its passes over such objects find nothing to free: by default the youngest objects are walked
every 700 allocations, and each tenth and hundredth pass walks the older ones too; a load's
records, alive until their batch is written, were walked once or twice each (5 to 11 % of a
load's time, 13 of the 171 s of a roster of 800,000 people). Imports nothing of the project.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection for the duration, for a job of bounded size whose objects all
    live to its end, or one that calls `collect_young` as each part of it ends; what it left
    for the collector is found at the next pass after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def collect_young() -> int:
    """Collect the two younger generations now, as a paused job's part ends (a load's
    transaction): what the part left in cycles is freed, and a long job never holds more of it
    than one part made; the part's records are gone by then, so the pass walks little. Returns
    the objects freed."""
    return gc.collect(1)
