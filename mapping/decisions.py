"""What staff name when they decide courses besides a catalogue id: a `SOURCE:KEY`, a title, or
every queue title whose best suggestion is confident enough."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.config.names import did_you_mean
from onemind.domain.rules import COURSE_KEY, TITLE
from onemind.mapping.catalogue import review_groups, title_group, title_pattern
from onemind.mapping.changes import Decision, InvalidRuleError
from onemind.mapping.suggest import NOT_QUALIFYING
from onemind.store.models import Course, Source


def by_key(session: Session, key: str, category: str | None) -> Decision:
    """The course a source names `KEY`, given as `SOURCE:KEY`.

    Raises:
        InvalidRuleError: the key has no source part, or no such course is in the catalogue.
    """
    source, sep, course_key = key.partition(":")
    if not sep or not source or not course_key:
        raise InvalidRuleError(f"--key {key!r}: give SOURCE:KEY, e.g. academy:CIT-40")
    found = session.scalar(
        select(Course.id)
        .join(Source, Source.id == Course.source_id)
        .where(Source.name == source, Course.course_key == course_key)
    )
    if found is None:
        known = session.scalars(select(Source.name).order_by(Source.name)).all()
        hint = "" if source in known else f" (sources: {', '.join(known) or 'none'})"
        raise InvalidRuleError(f"no course {course_key!r} from source {source!r}{hint}")
    return Decision(f"course {key}", COURSE_KEY, course_key, source, category)


def by_title(session: Session, title: str, category: str | None) -> Decision:
    """Every course, from any source, whose title reads like `title` (case, spacing and
    punctuation aside), now and to come.

    Raises:
        InvalidRuleError: no course in the catalogue has such a title.
    """
    titles = list(session.scalars(select(Course.title).distinct()))
    if title_group(title) not in {title_group(t) for t in titles}:
        hint = did_you_mean(title, titles)
        raise InvalidRuleError(f"no course titled {title!r} in the catalogue{hint}")
    return Decision(f"title {title!r}", TITLE, title_pattern(title), None, category)


def suggested(session: Session, min_score: float) -> list[Decision]:
    """One decision per queue title whose best suggestion scores at least `min_score`."""
    decisions = []
    for group in review_groups(session):
        best = group.suggestions[0] if group.suggestions else None
        if best is None or best.confidence < min_score:
            continue
        category = None if best.category == NOT_QUALIFYING else best.category
        subject = f"title {group.title!r} (suggested {best.category} {best.confidence:.2f})"
        decisions.append(Decision(subject, TITLE, title_pattern(group.title), None, category))
    return decisions
