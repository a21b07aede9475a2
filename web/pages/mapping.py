"""The mapping review queue by course title: preview a decision's effect, then apply it; bulk
approval of confident suggestions; the rules with their versions and history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, HTTPException, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.mapping.catalogue import review_groups
from onemind.mapping.suggest import NOT_QUALIFYING
from onemind.store.models import AuditEntry, Category, MappingRule, Source
from onemind.web import review
from onemind.web.access import MAPPING, Principal, db
from onemind.web.pages.attestations import after_commit
from onemind.web.templating import render

router = APIRouter()
QUEUE_SHOWN = 100
Title = Annotated[str, Form(min_length=1, max_length=500)]
Choice = Annotated[str, Form(min_length=1, max_length=40)]
Reason = Annotated[str, Form(max_length=2000)]


def categories(session: Session) -> list[str]:
    return [*session.scalars(select(Category.id).order_by(Category.id)), NOT_QUALIFYING]


@router.get("/mapping")
def queue_page(
    request: Request, me: Principal = Depends(MAPPING), session: Session = Depends(db)
) -> Response:
    groups = review_groups(session, QUEUE_SHOWN)
    confident = sum(
        1 for g in groups if g.suggestions and g.suggestions[0].confidence >= review.BULK_MIN_SCORE
    )
    context = {
        "groups": groups,
        "categories": categories(session),
        "confident": confident,
        "bulk_min": review.BULK_MIN_SCORE,
    }
    return render(request, "mapping.html", context)


def _decide(title: str | None, category: str | None) -> review.Decide:
    if title is None:
        return review.suggested()
    if category is None:
        raise HTTPException(400, "Choose a category for the title.")
    return review.by_title(title, review.category_of(category))


@router.post("/mapping/preview")
def preview(
    request: Request,
    title: Annotated[str | None, Form(max_length=500)] = None,
    category: Annotated[str | None, Form(max_length=40)] = None,
    reason: Reason = "",
    me: Principal = Depends(MAPPING),
) -> Response:
    """The effect of a decision (or of the bulk approval), changing nothing."""
    state = request.app.state
    decide = _decide(title, category)
    found = review.preview(
        state.sessions, state.settings, decide, me.username, reason or "preview", state.now()
    )
    context = {"effect": found, "title": title, "category": category, "reason": reason}
    return render(request, "effect.html", context)


@router.post("/mapping/apply")
def apply(
    request: Request,
    tasks: BackgroundTasks,
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    title: Annotated[str | None, Form(max_length=500)] = None,
    category: Annotated[str | None, Form(max_length=40)] = None,
    me: Principal = Depends(MAPPING),
    session: Session = Depends(db),
) -> Response:
    state = request.app.state
    decide = _decide(title, category)
    found = review.effect(session, state.settings, decide, me.username, reason, state.now())
    after_commit(request, tasks)
    context = {"effect": found, "title": title, "category": category, "reason": reason}
    return render(request, "effect.html", context)


@router.get("/mapping/rules")
def rules_page(
    request: Request, me: Principal = Depends(MAPPING), session: Session = Depends(db)
) -> Response:
    rows = session.execute(
        select(MappingRule, Source.name)
        .outerjoin(Source, Source.id == MappingRule.source_id)
        .order_by(MappingRule.active.desc(), MappingRule.priority.desc(), MappingRule.id)
    ).all()
    return render(request, "rules.html", {"rules": rows})


@router.get("/mapping/rules/{rule_id}")
def rule_history(
    request: Request, rule_id: int, me: Principal = Depends(MAPPING), session: Session = Depends(db)
) -> Response:
    rule = session.get(MappingRule, rule_id)
    if rule is None:
        raise HTTPException(404, f"No rule #{rule_id}.")
    history = session.scalars(
        select(AuditEntry).where(AuditEntry.target == f"rule #{rule_id}").order_by(AuditEntry.id)
    ).all()
    return render(request, "rule.html", {"rule": rule, "history": history})
