"""One sync: each source pulled in isolation, then linking, classification and coverage."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onemind.config.model import Settings, SourceConfig
from onemind.connectors.base import Checkpoint, Connector, Reconciles, Record
from onemind.connectors.registry import build_connector
from onemind.errors import ConfigurationError, OneMindError
from onemind.mapping.catalogue import refresh_catalogue
from onemind.store import coverage
from onemind.store.bootstrap import apply_settings
from onemind.store.classify import classify_pending
from onemind.store.db import transaction
from onemind.store.linking import apply_voids, link_completions, unlinked_count
from onemind.store.models import Agency, RawRecord, Source, SyncRun
from onemind.store.writer import BatchStats, RecordWriter
from onemind.sync.logcontext import sync_context

log = logging.getLogger(__name__)

BATCH_SIZE = 2000
Progress = Callable[[str, int, int | None], None]


@dataclass
class SourceResult:
    source: str
    run_id: int | None
    stats: BatchStats = field(default_factory=BatchStats)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class SyncOutcome:
    results: list[SourceResult]
    reports: list[coverage.CoverageReport]
    unmatched: int

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


class SyncRunner:
    """Owns cursors and transactions; connectors only yield."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        now: Callable[[], datetime],
        progress: Progress | None = None,
        connector_factory: Callable[[SourceConfig], Connector] = build_connector,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.now = now
        self.progress = progress
        self.connector_factory = connector_factory

    def run(
        self, names: Iterable[str] = (), full: bool = False, as_of: date | None = None
    ) -> SyncOutcome:
        """Sync the named sources (all if none), then recompute coverage as of `as_of`."""
        wanted = list(names) or [s.name for s in self.settings.sources]
        unknown = [n for n in wanted if n not in {s.name for s in self.settings.sources}]
        if unknown:
            raise ConfigurationError(
                f"no source named {', '.join(map(repr, unknown))} in the configuration"
            )
        with transaction(self.sessions) as session:
            apply_settings(session, self.settings, self.now())
        ordered = sorted(
            wanted, key=lambda n: getattr(self.settings.source(n), "role", "") != "roster"
        )
        results = [self.sync_source(self.settings.source(n), full) for n in ordered]
        return self.finish(results, as_of or self.now().date())

    def finish(self, results: list[SourceResult], as_of: date) -> SyncOutcome:
        """Link people, apply voids, classify, and snapshot coverage: each step idempotent."""
        with transaction(self.sessions) as session:
            refresh_catalogue(session, [r.run_id for r in results if r.run_id], self.now())
            link_completions(session)
            apply_voids(session)
            classify_pending(session, self.now())
            reports = coverage.compute(session, as_of)
            coverage.save_snapshots(session, reports, self.now())
            unmatched = unlinked_count(session)
        return SyncOutcome(results, reports, unmatched)

    def sync_source(self, config: SourceConfig, full: bool = False) -> SourceResult:
        """Pull one source; its failure is recorded and never raised to the other sources."""
        run_id, cursor = self._start(config)
        result = SourceResult(config.name, run_id)
        with sync_context(config.name, run_id):
            log.info("sync started%s", " (full)" if full else "")
            try:
                connector = self.connector_factory(config)
                self._pull(connector, config, run_id, None if full else cursor, result)
                if full and isinstance(connector, Reconciles):
                    self._reconcile(connector, config, run_id, result)
            except OneMindError as exc:
                result.error = str(exc)
            except Exception as exc:  # one source's bug must not stop the others
                log.exception("failed unexpectedly")
                result.error = f"unexpected {type(exc).__name__}: {exc}"
            self._end(run_id, result)
        return result

    def _pull(
        self,
        connector: Connector,
        config: SourceConfig,
        run_id: int,
        cursor: dict[str, Any] | None,
        result: SourceResult,
    ) -> None:
        batch: list[Record] = []
        total = connector.size_hint()
        for item in connector.pull(cursor):
            if isinstance(item, Checkpoint):
                self._commit(config, run_id, batch, item.cursor, result)
                batch = []
                continue
            batch.append(item)
            if len(batch) >= BATCH_SIZE:
                self._commit(config, run_id, batch, None, result)
                batch = []
                if self.progress:
                    self.progress(config.name, result.stats.fetched, total)
        self._commit(config, run_id, batch, None, result)
        if self.progress:
            self.progress(config.name, result.stats.fetched, result.stats.fetched)

    def _reconcile(
        self, connector: Reconciles, config: SourceConfig, run_id: int, result: SourceResult
    ) -> None:
        """After a full pull: ask the system about the records it did not return this time."""
        with self.sessions() as session:
            unseen = list(
                session.scalars(
                    select(RawRecord.external_id)
                    .join(Source, Source.id == RawRecord.source_id)
                    .where(
                        Source.name == config.name,
                        RawRecord.kind == "completion",
                        RawRecord.last_run_id != run_id,
                    )
                )
            )
        retractions: list[Record] = list(connector.gone(unseen))
        for start in range(0, len(retractions), BATCH_SIZE):
            self._commit(config, run_id, retractions[start : start + BATCH_SIZE], None, result)

    def _commit(
        self,
        config: SourceConfig,
        run_id: int,
        batch: list[Record],
        cursor: dict[str, Any] | None,
        result: SourceResult,
    ) -> None:
        """Records and, when given, the cursor that covers them, in one transaction."""
        if not batch and cursor is None:
            return
        now = self.now()
        with transaction(self.sessions) as session:
            source = session.scalars(select(Source).where(Source.name == config.name)).one()
            agencies = set(session.scalars(select(Agency.id)))
            writer = RecordWriter(
                session, source.id, run_id, now, agencies, getattr(config, "agency", None)
            )
            result.stats.add(writer.write(batch))
            if cursor is not None:
                source.cursor = cursor
                source.cursor_updated_at = now

    def _start(self, config: SourceConfig) -> tuple[int, dict[str, Any] | None]:
        with transaction(self.sessions) as session:
            source = session.scalars(select(Source).where(Source.name == config.name)).one()
            run = SyncRun(source_id=source.id, started_at=self.now())
            session.add(run)
            session.flush()
            return run.id, source.cursor

    def _end(self, run_id: int, result: SourceResult) -> None:
        with transaction(self.sessions) as session:
            run = session.get_one(SyncRun, run_id)
            run.finished_at = self.now()
            run.status = "failed" if result.error else "succeeded"
            run.error = result.error
            stats = result.stats
            run.fetched, run.new, run.updated = stats.fetched, stats.new, stats.updated
            run.quarantined = stats.quarantined
        if result.error:
            log.error("sync failed: %s", result.error)
        else:
            log.info("sync done: %s", stats)
