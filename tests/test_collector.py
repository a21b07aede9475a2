"""The collector held back for a job and given back as it was, however the job ends."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from onemind.collector import ALLOCATIONS, fewer_collections, paused


@pytest.fixture(autouse=True)
def collector_as_found() -> Iterator[None]:
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*threshold)
    (gc.enable if enabled else gc.disable)()


def test_fewer_collections_raises_the_youngest_threshold_then_restores_it() -> None:
    gc.set_threshold(700, 10, 10)
    with pytest.raises(RuntimeError), fewer_collections():
        assert gc.get_threshold() == (ALLOCATIONS, 10, 10)
        raise RuntimeError("the job failed")
    assert gc.get_threshold() == (700, 10, 10)


def test_fewer_collections_keeps_a_threshold_already_higher() -> None:
    gc.set_threshold(ALLOCATIONS * 2, 10, 10)
    with fewer_collections():
        assert gc.get_threshold() == (ALLOCATIONS * 2, 10, 10)


@pytest.mark.parametrize("enabled", [True, False])
def test_paused_stops_collections_and_gives_back_the_state_it_found(enabled: bool) -> None:
    (gc.enable if enabled else gc.disable)()
    with pytest.raises(RuntimeError), paused():
        assert not gc.isenabled()
        raise RuntimeError("the job failed")
    assert gc.isenabled() is enabled
