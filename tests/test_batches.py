"""A source that marks its cursor after every page is still written in batches of its role's
size; each mark reaches the store once the records before it are written, also when the source
fails or a stop is asked for part-way."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from test_sync import AS_OF, make_settings

from onemind.config.model import SourceConfig
from onemind.connectors.base import Connector
from onemind.domain.records import Checkpoint, CompletionRecord, PullItem
from onemind.errors import SourceError
from onemind.store.models import Completion, Source
from onemind.sync.loading import SourceLoad
from onemind.sync.runner import SourceResult, SyncRunner

PAGE = 3
PAGES = 12


class Paged(Connector):
    """Pages of PAGE completions, the cursor marked after each; the source fails after
    `fails_after` pages (and two records of the next), or asks the runner to stop while
    reading page `stop_in`."""

    name = "completions"

    def __init__(
        self, fails_after: int | None = None, stop_in: int | None = None, stop: Any = None
    ) -> None:
        self.fails_after = fails_after
        self.stop_in = stop_in
        self.stop = stop

    def pull(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        for page in range(1, PAGES + 1):
            for row in range(PAGE):
                if page == self.stop_in:
                    self.stop.set()
                if page == self.fails_after and row == 2:
                    raise SourceError("the LRS went away")
                yield completion(page, row)
            yield Checkpoint({"page": page})

    def check(self) -> None:
        return None


def completion(page: int, row: int) -> CompletionRecord:
    key = f"statement-{page}-{row}"
    return CompletionRecord(
        external_id=key,
        location=key,
        course_key="CIT-40",
        course_title="CIT Basic 40-Hour",
        completed_on=date(2025, 1, 1 + page),
        employee_id=str(1 + row),
        payload={"id": key},
    )


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each batch written from here on."""
    sizes: list[int] = []
    write = SourceLoad.write

    def noting(self: SourceLoad, batch: list[Any]) -> None:
        sizes.append(len(batch))
        write(self, batch)

    monkeypatch.setattr(SourceLoad, "write", noting)
    return sizes


def sync(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime, **paged: Any
) -> tuple[SourceResult, int, dict[str, Any] | None]:
    """Sync the completions source from a `Paged` connector: its result, the completions
    stored and the cursor saved."""
    stop = threading.Event()

    def factory(source: SourceConfig) -> Connector:
        return Paged(stop=stop, **paged)

    runner = SyncRunner(make_settings(tmp_path), sessions, lambda: now, connector_factory=factory)
    runner.stop = stop
    [result] = runner.run(["completions"], as_of=AS_OF).results
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Completion))
        cursor = session.scalar(select(Source.cursor).where(Source.name == "completions"))
    return result, stored, cursor


def test_pages_are_written_in_batches_and_the_last_mark_is_saved(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime, writes: list[int]
) -> None:
    result, stored, cursor = sync(tmp_path, sessions, now)
    assert result.ok and result.stats.new == PAGE * PAGES
    assert writes == [PAGE * PAGES]  # one batch, not one a page
    assert (stored, cursor) == (PAGE * PAGES, {"page": PAGES})


def test_a_source_failing_part_way_keeps_the_pages_its_last_mark_covers(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime, writes: list[int]
) -> None:
    result, stored, cursor = sync(tmp_path, sessions, now, fails_after=6)
    assert result.error is not None and "went away" in result.error
    assert writes == [5 * PAGE]
    assert (stored, cursor) == (5 * PAGE, {"page": 5})


def test_a_stop_asked_for_is_obeyed_at_the_next_mark(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime, writes: list[int]
) -> None:
    result, stored, cursor = sync(tmp_path, sessions, now, stop_in=4)
    assert result.stopped
    assert writes == [4 * PAGE]
    assert (stored, cursor) == (4 * PAGE, {"page": 4})


class Cyclic(Paged):
    """Paged, each record leaving a reference cycle behind, as a library might."""

    def pull(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        for item in super().pull(cursor):
            garbage: list[Any] = []
            garbage.append(garbage)
            yield item


def test_a_pull_pauses_the_collector_and_frees_its_cycles_as_it_commits(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    """A load's records live until their batch is written: the collector is paused while the
    pull runs, and what the pull left in cycles is collected as each transaction commits,
    not held to the end of a long load."""
    passes: list[tuple[bool, int, int]] = []

    def noting(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            passes.append((gc.isenabled(), info["generation"], info["collected"]))

    runner = SyncRunner(make_settings(tmp_path), sessions, lambda: now, connector_factory=Cyclic)
    gc.callbacks.append(noting)
    try:
        [result] = runner.run(["completions"], as_of=AS_OF).results
    finally:
        gc.callbacks.remove(noting)
    assert result.ok and result.stats.new == PAGE * PAGES
    paused = [(generation, collected) for enabled, generation, collected in passes if not enabled]
    assert paused, "no collection while the collector was paused: the pull did not commit"
    assert {generation for generation, _ in paused} == {1}  # collect_young's, none on its own
    assert sum(collected for _, collected in paused) >= PAGE * PAGES
    assert gc.isenabled()
