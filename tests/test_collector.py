"""The collector held back for a job and given back as it was, however the job ends; the
cycles a part of a paused job left collected by hand as it ends."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from onemind.collector import collect_young, paused


@pytest.fixture(autouse=True)
def collector_as_found() -> Iterator[None]:
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*threshold)
    (gc.enable if enabled else gc.disable)()


@pytest.mark.parametrize("enabled", [True, False])
def test_paused_stops_collections_and_gives_back_the_state_it_found(enabled: bool) -> None:
    (gc.enable if enabled else gc.disable)()
    with pytest.raises(RuntimeError), paused():
        assert not gc.isenabled()
        raise RuntimeError("the job failed")
    assert gc.isenabled() is enabled


def cycle() -> None:
    """A list that holds itself, left behind."""
    garbage: list[object] = []
    garbage.append(garbage)


def test_collect_young_frees_the_cycles_a_paused_job_left() -> None:
    with paused():
        for _ in range(100):
            cycle()
        assert collect_young() >= 100
        assert not gc.isenabled()
