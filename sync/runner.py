"""One sync: each source pulled in isolation, then linking, classification and coverage."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onemind.certificates.changes import CertificateChanges
from onemind.collector import paused
from onemind.config.model import Settings, SourceConfig
from onemind.config.names import unknown_names
from onemind.connectors.base import Connector, DefersParsing, Reconciles
from onemind.connectors.registry import build_connector
from onemind.domain.records import Checkpoint, PullItem, Record, Skipped, UnparsedRow
from onemind.errors import ConfigurationError, OneMindError, SourceError
from onemind.store import deferred_indexes
from onemind.store.bootstrap import apply_settings
from onemind.store.db import transaction
from onemind.store.linking import unlinked_count
from onemind.store.models import RawRecord, Source
from onemind.store.statistics import refresh_statistics
from onemind.store.writer import BatchStats
from onemind.sync import lock, quiet, runs
from onemind.sync.loading import Batches, SourceLoad
from onemind.sync.logcontext import sync_context
from onemind.sync.roles import role_of

if TYPE_CHECKING:  # the figures' modules load only when a sync recomputes them
    from onemind.pipeline.recompute import Recomputed
    from onemind.store.coverage import CoverageReport
    from onemind.store.status import StatusChange

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]


@dataclass
class SourceResult:
    source: str
    run_id: int | None
    stats: BatchStats = field(default_factory=BatchStats)
    error: str | None = None
    skipped: str | None = None
    stopped: bool = False
    warnings: list[str] = field(default_factory=list)
    reasons: list[tuple[str, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Not failed: a source skipped because another process holds its lock is no failure."""
        return self.error is None

    @property
    def status(self) -> str:
        if self.error is not None:
            return runs.FAILED
        if self.skipped is not None:
            return runs.SKIPPED
        return runs.STOPPED if self.stopped else runs.SUCCEEDED


@dataclass
class SyncOutcome:
    results: list[SourceResult]
    reports: list[CoverageReport]
    unmatched: int
    certificates: CertificateChanges = field(default_factory=CertificateChanges)
    changes: list[StatusChange] = field(default_factory=list)
    stopped: bool = False
    # False when nothing had changed since the figures were computed: `reports` is then empty
    recomputed: bool = True

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


class SyncRunner:
    """Owns cursors, locks and transactions; connectors only yield.

    Setting `stop` ends the sync at the next batch or page boundary: what was pulled is
    committed, the run is recorded as `stopped`, and the cursor covers only what was committed.
    """

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        now: Callable[[], datetime],
        progress: Progress | None = None,
        connector_factory: Callable[[SourceConfig], Connector] = build_connector,
        stop: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.now = now
        self.progress = progress
        self.connector_factory = connector_factory
        self.stop = stop or threading.Event()
        self.holder = lock.holder_id()
        self.lock_ttl = timedelta(seconds=settings.scheduler.lock_ttl_seconds)

    def run(
        self, names: Iterable[str] = (), full: bool = False, as_of: date | None = None
    ) -> SyncOutcome:
        """Sync the named sources (all if none), then recompute coverage as of `as_of`."""
        known = [s.name for s in self.settings.sources]
        wanted = list(names) or known
        unknown = [n for n in wanted if n not in known]
        if unknown:
            raise ConfigurationError(unknown_names("source", unknown, known, "in [[sources]]"))
        with transaction(self.sessions) as session:
            stored = quiet.configured(session)
            attested = apply_settings(session, self.settings, self.now())
            reconfigured = bool(attested) or quiet.configured(session) != stored
        ordered = sorted(wanted, key=lambda n: role_of(self.settings.source(n)).load_order)
        results = []
        for name in ordered:
            if self.stop.is_set():
                break
            results.append(self.sync_source(self.settings.source(name), full))
        if self.stop.is_set():
            return self._stopped(results)
        return self.finish(results, as_of or self.now().date(), reconfigured)

    def finish(
        self, results: list[SourceResult], as_of: date, reconfigured: bool = True
    ) -> SyncOutcome:
        """Link people, apply voids and classify; then the one recomputation every writer runs.

        All of it is skipped when nothing changed since coverage as of `as_of` was computed
        (see `onemind.sync.quiet`); `reconfigured` says the configuration changed something.
        """
        now = self.now()  # before any work: what ends before it, this finish takes in
        with transaction(self.sessions) as session:
            if not reconfigured and quiet.nothing_to_do(session, self.settings, as_of):
                log.info("nothing new since coverage as of %s was computed: not recomputed", as_of)
                recomputed = None
            else:
                refresh_statistics(session, self._written(results))
                recomputed = self._recompute(session, _run_ids(results), now, as_of)
            runs.note_unmatched(session, _run_ids(results))
            unmatched = unlinked_count(session)
        if self.settings.certificates is not None:  # else no push is ever queued
            from onemind.pipeline.recompute import deliver_pushes

            deliver_pushes(self.sessions, self.settings, self.now, self.connector_factory)
        if recomputed is None:
            return SyncOutcome(results, [], unmatched, recomputed=False)
        return SyncOutcome(
            results, recomputed.reports, unmatched, recomputed.certificates, recomputed.changes
        )

    def _written(self, results: list[SourceResult]) -> dict[str, int]:
        """The rows the runs wrote (new, changed, voided), counted for each table their
        sources' roles grow."""
        written: dict[str, int] = {}
        for result in results:
            stats = result.stats
            for table in role_of(self.settings.source(result.source)).grown:
                written[table] = written.get(table, 0) + stats.new + stats.updated + stats.voided
        return written

    def _recompute(
        self, session: Session, run_ids: list[int], now: datetime, as_of: date
    ) -> Recomputed:
        """Catalogue, link, void and classify what arrived, then recompute; what it takes is
        imported here, so that a quiet rerun does not load it."""
        from onemind.mapping.catalogue import refresh_catalogue
        from onemind.pipeline.recompute import recompute
        from onemind.store.classify import classify_pending
        from onemind.store.linking import apply_voids, link_completions

        refresh_catalogue(session, run_ids, now)
        link_completions(session)
        apply_voids(session)
        classify_pending(session, now)
        return recompute(session, self.settings, now, as_of)

    def _stopped(self, results: list[SourceResult]) -> SyncOutcome:
        """A stop was asked for: skip the recomputation (the next run does it) and say so."""
        with transaction(self.sessions) as session:
            runs.note_unmatched(session, _run_ids(results))
            unmatched = unlinked_count(session)
        log.warning("stopped on request; coverage is recomputed by the next run")
        return SyncOutcome(results, [], unmatched, stopped=True, recomputed=False)

    def sync_source(self, config: SourceConfig, full: bool = False) -> SourceResult:
        """Pull one source under its lock; a failure is recorded, never raised to the others."""
        with transaction(self.sessions) as session:
            started = runs.start(session, config.name, self.holder, self.now(), self.lock_ttl)
        run_id = started.run_id
        result = SourceResult(config.name, run_id)
        with sync_context(config.name, run_id):
            if started.held is not None:
                result.skipped = started.held.describe()
                log.warning("skipped: %s", result.skipped)
                return result
            try:
                connector = self.connector_factory(config)
                full = self._full_pass(connector, config, started, full)
                cursor = None if full else started.cursor
                with deferred_indexes.built_after(self.sessions, role_of(config).deferral):
                    self._pull(connector, config, run_id, cursor, result)
                if full and isinstance(connector, Reconciles) and not result.stopped:
                    self._reconcile(connector, config, run_id, result)
                self._weigh_quarantined(config, result)
            except OneMindError as exc:
                result.error = str(exc)
            except Exception as exc:  # one source's bug must not stop the others
                log.exception("failed unexpectedly")
                result.error = f"unexpected {type(exc).__name__}: {exc}"
            self._end(started, result)
        return result

    def _full_pass(
        self, connector: Connector, config: SourceConfig, started: runs.Started, asked: bool
    ) -> bool:
        """Whether this run reads the source whole (and records it): asked for, a first read,
        or the source's `full_every` (else its connector's default) has passed since the last."""
        every = config.full_every
        if every is None:
            every = connector.full_pass_every(started.cursor)
        with transaction(self.sessions) as session:
            last = runs.last_full_pass(session, started.source_id)
            due = isinstance(every, timedelta) and (last is None or last <= self.now() - every)
            full = asked or started.cursor is None or due
            if full:
                runs.mark_full(session, started.run_id)
        log.info("sync started%s", " (full)" if full else "")
        if due and not asked:
            log.info("reading the source whole: its last full pass began %s", last)
        return full

    def _pull(
        self,
        connector: Connector,
        config: SourceConfig,
        run_id: int,
        cursor: dict[str, Any] | None,
        result: SourceResult,
    ) -> None:
        total = connector.size_hint()
        pulled = _pulled(connector, cursor)
        with (
            self._load(config, run_id, result) as load,
            _closing(pulled) as items,
            paused(),
        ):
            batches = Batches(load, role_of(config).batch_size)
            try:
                for item in items:
                    if isinstance(item, Skipped):
                        result.warnings.append(f"{item.location}: {item.reason}")
                        log.warning("skipped %s: %s", item.location, item.reason)
                        continue
                    if isinstance(item, Checkpoint):
                        batches.mark(item.cursor)
                        if not self.stop.is_set():
                            continue
                        batches.flush()
                    elif not batches.add(item):
                        continue
                    elif self.progress:
                        self.progress(config.name, load.fetched, total)
                    if self.stop.is_set():
                        result.stopped = True
                        break
                else:
                    batches.flush()
            except Exception:
                batches.flush_covered()
                raise
            finally:
                load.commit()
        if result.stopped:
            log.warning("stopping on request after %d record(s)", result.stats.fetched)
            return
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
        size = role_of(config).batch_size
        with self._load(config, run_id, result) as load:
            for start in range(0, len(retractions), size):
                load.write(retractions[start : start + size])
            load.commit()

    def _weigh_quarantined(self, config: SourceConfig, result: SourceResult) -> None:
        """Name the top reasons records were quarantined for.

        Raises:
            SourceError: more than the source's `quarantine_limit` of the records was dropped.
        """
        quarantined, fetched = result.stats.quarantined, result.stats.fetched
        if not quarantined or result.run_id is None:
            return
        from onemind.store import dropped

        with self.sessions() as session:
            result.reasons = dropped.top_reasons(session, result.run_id)
        if quarantined > config.quarantine_limit * fetched:
            raise SourceError(
                f"{quarantined} of {fetched} record(s) quarantined, more than quarantine_limit "
                f"{config.quarantine_limit * 100:g} %; top reasons: "
                f"{'; '.join(dropped.counted(result.reasons))}; "
                f"see 'onemind quarantine list --source {config.name}'"
            )

    def _load(self, config: SourceConfig, run_id: int, result: SourceResult) -> SourceLoad:
        """Where a pull's records go; what it commits is counted in `result.stats`."""
        role = role_of(config)
        return SourceLoad(
            self.sessions,
            config.name,
            run_id,
            self.holder,
            self.lock_ttl,
            self.now,
            result.stats,
            config.agency,
            role.writer(self.sessions, config),
            role.page_cache_kib,
            role.commit_records,
            role.grown,
        )

    def _end(self, started: runs.Started, result: SourceResult) -> None:
        with transaction(self.sessions) as session:
            outcome = (result.status, result.error)
            runs.finish(
                session, started, self.holder, outcome, result.stats, self.now(), result.warnings
            )
        if result.error:
            log.info("sync failed: %s", result.error)  # the caller reports it: CLI line or log
        else:
            log.info("sync %s: %s", result.status, result.stats)


def _run_ids(results: list[SourceResult]) -> list[int]:
    return [r.run_id for r in results if r.run_id and r.skipped is None]


def _pulled(
    connector: Connector, cursor: dict[str, Any] | None
) -> Iterator[PullItem | UnparsedRow]:
    """The connector's items, its rows unparsed where it can leave their parsing to the writer
    (which parses only the rows the store does not hold already)."""
    if isinstance(connector, DefersParsing):
        return connector.pull_rows(cursor)
    return connector.pull(cursor)


@contextmanager
def _closing(
    items: Iterator[PullItem | UnparsedRow],
) -> Iterator[Iterator[PullItem | UnparsedRow]]:
    """Close a connector's generator when the pull ends early, so it releases what it holds."""
    try:
        yield items
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()
