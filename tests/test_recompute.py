"""One recomputation for every writer: a rule change and a sync that bring the same fact agree."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from builders import StoreBuilder
from sqlalchemy import Engine, create_engine, delete, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from test_certificates import AS_OF, COMPLETIONS, ROSTER, make_settings, sync

from onemind.cli import main
from onemind.config import Settings
from onemind.mapping import changes
from onemind.pipeline.recompute import _one_at_a_time, change_rules, recompute
from onemind.reports.delivery import status_notices
from onemind.store.db import open_store
from onemind.store.models import (
    AgencyStatusChange,
    Base,
    Category,
    Course,
    CoverageSnapshot,
    Credential,
    Person,
)

SCIA = "4,,SCIA,State Crisis Academy,,40,2024-06-01,\n"
ATTESTED = {"partnership_on": "2024-01-01", "policy_on": "2024-01-01"}


def outcome(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """What the recomputation leaves behind, free of ids and clocks."""
    with sessions() as session:
        snapshot = session.scalars(
            select(CoverageSnapshot).where(CoverageSnapshot.as_of == AS_OF)
        ).one()
        email = {p.id: p.email for p in session.scalars(select(Person))}
        return {
            "changes": [
                (c.agency_id, c.as_of, c.before, c.after)
                for c in session.scalars(select(AgencyStatusChange))
            ],
            "notices": {a: n.message for a, n in status_notices(session).items()},
            "snapshot": {
                c.name: getattr(snapshot, c.name)
                for c in CoverageSnapshot.__table__.columns
                if c.name not in ("id", "computed_at")
            },
            "credentials": sorted(
                (c.kind, email.get(c.person_id or 0, c.agency_id), c.tier, c.category_id, c.status)
                for c in session.scalars(select(Credential))
            ),
        }


def wipe(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != Category.__tablename__:
                session.execute(delete(table))


def by_rule_change(settings: Settings, sessions: sessionmaker[Session], now: datetime) -> None:
    sync(settings, sessions, now)
    with sessions.begin() as session:
        course = session.scalars(select(Course.id).where(Course.course_key == "SCIA")).one()
        change_rules(
            session,
            settings,
            now,
            AS_OF,
            lambda s, day: changes.approve(
                s, course, "crisis-equivalent", "state academy", "staff", now, day
            ),
        )


def by_sync(
    settings: Settings, sessions: sessionmaker[Session], now: datetime, tmp_path: Path
) -> None:
    (tmp_path / "completions.csv").write_text(COMPLETIONS.replace(SCIA, ""))
    sync(settings, sessions, now)
    rule = changes.RuleSpec(
        "title", "state crisis academy", "crisis-equivalent", "academy", "staff"
    )
    with sessions.begin() as session:
        change_rules(
            session, settings, now, AS_OF, lambda s, day: changes.add_rule(s, rule, now, day)
        )
    (tmp_path / "completions.csv").write_text(COMPLETIONS)
    sync(settings, sessions, now)


def test_a_rule_change_and_a_sync_bringing_the_same_fact_leave_the_same_store(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = make_settings(tmp_path, **ATTESTED)
    by_rule_change(settings, sessions, now)
    changed = outcome(sessions)
    wipe(sessions)
    by_sync(make_settings(tmp_path, **ATTESTED), sessions, now, tmp_path)
    synced = outcome(sessions)

    assert changed["changes"] == [("a-pd", AS_OF, "on-track", "complete")]
    assert changed["notices"] == {"a-pd": "Status changed from on-track to complete"}
    assert changed["snapshot"]["status"] == "complete"
    assert ("agency", "a-pd", None, None, "active") in changed["credentials"]
    assert ("person", "dan@a.example", "crisis", "crisis-equivalent", "active") in (
        changed["credentials"]
    )
    assert changed == synced


def test_init_recomputes_an_agency_whose_attestations_are_new(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(
        COMPLETIONS.replace(SCIA, SCIA.replace("SCIA,State Crisis Academy", "CIT-40,CIT Basic"))
    )
    config = tmp_path / "onemind.toml"
    base = f"""[store]
url = "sqlite:///{tmp_path / "onemind.db"}"

[[sources]]
name = "roster"
kind = "csv"
role = "roster"
path = "roster.csv"

[[sources]]
name = "academy"
kind = "csv"
role = "completions"
path = "completions.csv"

[[agencies]]
id = "a-pd"
name = "A Police Department"
"""
    config.write_text(base)
    main(["--config", str(config), "init"])
    main(["--config", str(config), "sync", "--as-of", AS_OF.isoformat()])
    config.write_text(base + "partnership_on = 2024-01-01\npolicy_on = 2024-01-01\n")
    main(["--config", str(config), "init"])
    sessions = open_store(f"sqlite:///{tmp_path / 'onemind.db'}")
    with sessions() as session:
        told = [(c.before, c.after) for c in session.scalars(select(AgencyStatusChange))]
    assert told == [("on-track", "complete")]


def started_hub(sessions: sessionmaker[Session], now: datetime) -> None:
    """An agency whose last snapshot, a year ago, said it was complete: it is not now."""
    with sessions.begin() as session:
        b = StoreBuilder.start(session, now)
        b.agency("a-pd")
        b.person("a-pd")
        figures = dict.fromkeys(("sworn_total", "sworn_crisis", "sworn_trained"), 1)
        figures |= dict.fromkeys(("nonsworn_selected_total", "nonsworn_trained"), 0)
        figures |= dict.fromkeys(("partnership", "policy", "crisis_20", "all_trained"), True)
        session.add(
            CoverageSnapshot(
                agency_id="a-pd",
                as_of=AS_OF.replace(year=AS_OF.year - 1),
                program="one-mind",
                status="complete",
                **figures,
            )
        )


def waiting_for_a_lock(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")))


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_two_recomputations_on_postgresql_run_one_after_the_other(
    sessions: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    """The second waits for the first's commit before reading: one status change, not two."""
    started_hub(sessions, now)
    events: list[str] = []
    first_done, release = threading.Event(), threading.Event()

    def first() -> None:
        with sessions.begin() as session:
            recompute(session, Settings(), now, AS_OF)
            events.append("first recomputed")
            first_done.set()
            release.wait(30)
        events.append("first committed")

    def second() -> None:
        with sessions.begin() as session:
            recompute(session, Settings(), now, AS_OF)
            events.append("second recomputed")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert first_done.wait(30)
    threads[1].start()
    for _ in range(300):  # until the second waits for the first (or has finished: a failure)
        if waiting_for_a_lock(engine) or not threads[1].is_alive():
            break
        time.sleep(0.1)
    release.set()
    for thread in threads:
        thread.join(30)
    assert events == ["first recomputed", "first committed", "second recomputed"]
    with sessions() as session:
        told = [(c.before, c.after) for c in session.scalars(select(AgencyStatusChange))]
    assert len(told) == 1 and told[0][0] == "complete"


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_recomputation_on_sqlite_holds_the_write_lock_from_its_start(
    sessions: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    started_hub(sessions, now)
    impatient = create_engine(engine.url, connect_args={"timeout": 0})
    with sessions.begin() as session:
        _one_at_a_time(session)
        with (
            pytest.raises(OperationalError, match="database is locked"),
            impatient.begin() as other,
        ):
            _one_at_a_time(Session(other))
    with impatient.begin() as other:
        _one_at_a_time(Session(other))
    impatient.dispose()
