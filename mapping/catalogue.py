"""The course catalogue kept by each sync, and the review queue of courses nobody mapped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session

from onemind.mapping.suggest import MappedTitle, Suggestion, suggest
from onemind.store.models import (
    Classification,
    Completion,
    Course,
    CourseTitle,
    Employment,
    RawRecord,
    Source,
)
from onemind.store.upsert import insert_for


def refresh_catalogue(session: Session, run_ids: Iterable[int], now: datetime) -> None:
    """Add or touch the courses (and titles) of the completions these runs saw."""
    runs = list(run_ids)
    if not runs:
        return
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
    unmapped = (
        select(
            Completion.source_id,
            Completion.course_key,
            func.count(Completion.id).label("completions"),
            func.count(distinct(Completion.person_id)).label("people"),
            func.count(distinct(Employment.agency_id)).label("agencies"),
        )
        .outerjoin(Classification, Classification.completion_id == Completion.id)
        .outerjoin(Employment, Employment.person_id == Completion.person_id)
        .where(or_(Classification.completion_id.is_(None), Classification.rule_id.is_(None)))
        .group_by(Completion.source_id, Completion.course_key)
        .subquery()
    )
    query = (
        select(Course, Source.name, unmapped.c.completions, unmapped.c.people, unmapped.c.agencies)
        .join(
            unmapped,
            (unmapped.c.source_id == Course.source_id)
            & (unmapped.c.course_key == Course.course_key),
        )
        .join(Source, Source.id == Course.source_id)
        .order_by(unmapped.c.people.desc(), unmapped.c.agencies.desc(), Course.id)
    )
    if limit is not None:
        query = query.limit(limit)
    mapped = mapped_titles(session)
    items = []
    for course, source, completions, people, agencies in session.execute(query):
        titles = sorted(
            session.scalars(select(CourseTitle.title).where(CourseTitle.course_id == course.id))
        )
        items.append(
            QueueItem(
                course.id,
                source,
                course.course_key,
                course.title,
                course.hours,
                course.provider,
                completions,
                people,
                agencies,
                titles,
                suggest(course.title, course.hours, course.provider, mapped),
            )
        )
    return items


def mapped_titles(session: Session) -> list[MappedTitle]:
    """Titles of courses that a rule already maps to a category, for similarity suggestions."""
    rows = session.execute(
        select(Completion.course_title, Classification.category_id)
        .join(Classification, Classification.completion_id == Completion.id)
        .where(Classification.category_id.is_not(None))
        .distinct()
        .limit(5000)
    )
    return [MappedTitle(title, category) for title, category in rows]
