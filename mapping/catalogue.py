"""The course catalogue kept by each sync, and the review queue of courses nobody mapped."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, or_, select, update
from sqlalchemy.orm import Session

from onemind.mapping.suggest import MappedTitle, Suggestion, suggest
from onemind.store.models import (
    Completion,
    Course,
    CourseTitle,
    Employment,
    RawRecord,
    Source,
    SyncRun,
)
from onemind.store.upsert import insert_for


def refresh_catalogue(session: Session, run_ids: Iterable[int], now: datetime) -> None:
    """Add or touch the courses (and titles) of the completions these runs wrote, and of
    those no finish has catalogued (a run killed or stopped before its finish: a rerun sets
    its rows aside unwritten, see `store.set_aside`); mark them all catalogued."""
    pending = session.scalars(select(SyncRun.id).where(SyncRun.catalogued.is_(False)))
    runs = sorted({*run_ids, *pending})
    if not runs:
        return
    _catalogue(session, runs, now)
    session.execute(
        update(SyncRun)
        .where(SyncRun.id.in_(runs))
        .values(catalogued=True)
        .execution_options(synchronize_session=False)
    )


def _catalogue(session: Session, runs: list[int], now: datetime) -> None:
    seen = (
        select(
            Completion.source_id,
            Completion.course_key,
            func.max(Completion.course_title).label("title"),
            func.max(Completion.hours).label("hours"),
            func.max(Completion.provider).label("provider"),
            func.max(Completion.activity_type).label("activity_type"),
        )
        .join(RawRecord, RawRecord.id == Completion.raw_record_id)
        .where(RawRecord.last_run_id.in_(runs))
        .group_by(Completion.source_id, Completion.course_key)
    )
    rows = [dict(r._mapping, first_seen=now, last_seen=now) for r in session.execute(seen)]
    if not rows:
        return
    statement = insert_for(session, Course.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["source_id", "course_key"],
        set_={
            c: statement.excluded[c]
            for c in ("title", "hours", "provider", "activity_type", "last_seen")
        },
    )
    session.execute(statement, rows)
    titles = (
        select(Course.id.label("course_id"), Completion.course_title.label("title"))
        .join(
            Completion,
            (Completion.source_id == Course.source_id)
            & (Completion.course_key == Course.course_key),
        )
        .join(RawRecord, RawRecord.id == Completion.raw_record_id)
        .where(RawRecord.last_run_id.in_(runs))
        .distinct()
    )
    title_rows = [dict(r._mapping) for r in session.execute(titles)]
    statement = insert_for(session, CourseTitle.__table__).on_conflict_do_nothing(
        index_elements=["course_id", "title"]
    )
    session.execute(statement, title_rows)


@dataclass
class QueueItem:
    """An unmapped course and how much it matters."""

    course_id: int
    source: str
    course_key: str
    title: str
    hours: float | None
    provider: str | None
    completions: int
    people: int
    agencies: int
    titles: list[str] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "course": self.course_id,
            "source": self.source,
            "course_key": self.course_key,
            "title": self.title,
            "hours": self.hours,
            "provider": self.provider,
            "completions": self.completions,
            "people": self.people,
            "agencies": self.agencies,
            "titles": self.titles,
            "suggestions": [s.to_json() for s in self.suggestions],
        }


def review_queue(session: Session, limit: int | None = None) -> list[QueueItem]:
    """Courses with completions no rule decides, most people and agencies affected first."""
    mapped = mapped_titles(session)
    items = []
    for item in _unmapped(session, limit):
        titles = select(CourseTitle.title).where(CourseTitle.course_id == item.course_id)
        item.titles = sorted(session.scalars(titles))
        item.suggestions = suggest(item.title, item.hours, item.provider, mapped)
        items.append(item)
    return items


def _unmapped(session: Session, limit: int | None = None) -> list[QueueItem]:
    """The queue's courses with their reach, without titles or suggestions."""
    query = (
        select(
            Course, Source.name, _UNMAPPED.c.completions, _UNMAPPED.c.people, _UNMAPPED.c.agencies
        )
        .join(
            _UNMAPPED,
            (_UNMAPPED.c.source_id == Course.source_id)
            & (_UNMAPPED.c.course_key == Course.course_key),
        )
        .join(Source, Source.id == Course.source_id)
        .order_by(_UNMAPPED.c.people.desc(), _UNMAPPED.c.agencies.desc(), Course.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        QueueItem(c.id, source, c.course_key, c.title, c.hours, c.provider, *reach)
        for c, source, *reach in session.execute(query)
    ]


_UNDECIDED = or_(Completion.classified_at.is_(None), Completion.rule_id.is_(None))
_UNMAPPED = (
    select(
        Completion.source_id,
        Completion.course_key,
        func.count(Completion.id).label("completions"),
        func.count(distinct(Completion.person_id)).label("people"),
        func.count(distinct(Employment.agency_id)).label("agencies"),
    )
    .outerjoin(Employment, Employment.person_id == Completion.person_id)
    .where(_UNDECIDED)
    .group_by(Completion.source_id, Completion.course_key)
    .subquery()
)


def title_group(title: str) -> str:
    """A title as staff tell courses apart: case, spacing and punctuation aside."""
    return " ".join(_WORDS.findall(title.lower()))


def title_pattern(title: str) -> str:
    """A title rule's pattern for exactly the titles in `title`'s group."""
    words = _WORDS.findall(title.lower())
    return r"^[\W_]*" + r"[\W_]+".join(map(re.escape, words)) + r"[\W_]*$"


_WORDS = re.compile(r"[^\W_]+")


@dataclass
class QueueGroup:
    """Unmapped courses sharing a title (case, spacing and punctuation aside), decided together."""

    title: str
    courses: list[QueueItem]
    completions: int
    people: int
    agencies: int
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        """The courses as `SOURCE:KEY`, as `mapping approve --key` takes them."""
        return [f"{c.source}:{c.course_key}" for c in self.courses]

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "courses": len(self.courses),
            "keys": self.keys,
            "course_ids": [c.course_id for c in self.courses],
            "titles": sorted({c.title for c in self.courses}),
            "hours": sorted({c.hours for c in self.courses if c.hours is not None}),
            "completions": self.completions,
            "people": self.people,
            "agencies": self.agencies,
            "suggestions": [s.to_json() for s in self.suggestions],
        }


def review_groups(session: Session, limit: int | None = None) -> list[QueueGroup]:
    """The queue by title, most people and agencies affected first, each with suggestions."""
    by_title: dict[str, list[QueueItem]] = {}
    for item in _unmapped(session):
        by_title.setdefault(title_group(item.title), []).append(item)
    reach = _reach(session, by_title)
    groups = [
        QueueGroup(items[0].title, items, sum(i.completions for i in items), *reach[name])
        for name, items in by_title.items()
    ]
    groups.sort(key=lambda g: (-g.people, -g.agencies, title_group(g.title)))
    shown = groups if limit is None else groups[:limit]
    mapped = mapped_titles(session)
    for group in shown:
        first = group.courses[0]
        group.suggestions = suggest(group.title, first.hours, first.provider, mapped)
    return shown


def _reach(session: Session, by_title: dict[str, list[QueueItem]]) -> dict[str, tuple[int, int]]:
    """Per title group, the distinct people and agencies its undecided completions touch."""
    group_of = {(i.source, i.course_key): name for name, items in by_title.items() for i in items}
    people: dict[str, set[int]] = {name: set() for name in by_title}
    agencies: dict[str, set[str]] = {name: set() for name in by_title}
    rows = session.execute(
        select(Source.name, Completion.course_key, Completion.person_id, Employment.agency_id)
        .join(Source, Source.id == Completion.source_id)
        .outerjoin(Employment, Employment.person_id == Completion.person_id)
        .where(_UNDECIDED)
        .distinct()
    )
    for source, key, person, agency in rows:
        name = group_of.get((source, key))
        if name is None:
            continue
        if person is not None:
            people[name].add(person)
        if agency is not None:
            agencies[name].add(agency)
    return {name: (len(people[name]), len(agencies[name])) for name in by_title}


def mapped_titles(session: Session) -> list[MappedTitle]:
    """Titles of courses that a rule already maps to a category, for similarity suggestions."""
    rows = session.execute(
        select(Completion.course_title, Completion.category_id)
        .where(Completion.category_id.is_not(None))
        .distinct()
        .limit(5000)
    )
    return [MappedTitle(title, category) for title, category in rows]
