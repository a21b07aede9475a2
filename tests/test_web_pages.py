"""The hub dashboard, the agency page and its downloads, the runs page, and bad input."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from web_world import AS_OF, build, sign_in

from onemind.pipeline.recompute import recompute
from onemind.store.db import transaction
from onemind.store.models import Agency
from onemind.web import dashboard


@pytest.fixture
def app(tmp_path: Path, sessions: sessionmaker[Session], now: datetime) -> FastAPI:
    return build(tmp_path, sessions, now)


def add_agencies(app: FastAPI, count: int) -> None:
    """More agencies, with snapshots as a nightly run leaves them."""
    state = app.state
    with transaction(state.sessions) as session:
        for number in range(count):
            session.add(
                Agency(
                    id=f"x-{number:03d}",
                    name=f"Extra {number:03d} Police",
                    program="one-mind-2016" if number % 2 else "one-mind",
                    pledged_on=date(2024, 1, 1),
                    deadline_months=12 + number % 24,
                    report_to=[],
                )
            )
        session.flush()
        recompute(session, state.settings, state.now(), AS_OF)


def test_dashboard_counts_filters_sorts_and_pages(app: FastAPI) -> None:
    add_agencies(app, 60)
    client = sign_in(app, "viewer")
    everyone = client.get("/api/v1/agencies").json()
    assert everyone["total"] == 62 and sum(everyone["counts"].values()) == 62
    assert everyone["pages"] == 2 and len(everyone["agencies"]) == dashboard.PAGE_SIZE
    second = client.get("/api/v1/agencies?page=2").json()["agencies"]
    assert len(second) == 12
    names = [a["name"] for a in everyone["agencies"] + second]
    assert names == sorted(names, key=str.lower)
    found = client.get("/api/v1/agencies?q=springfield").json()
    assert [a["agency"] for a in found["agencies"]] == ["a-pd"]
    older = client.get("/api/v1/agencies?program=one-mind-2016").json()
    assert older["total"] == 30 and {a["program"] for a in older["agencies"]} == {"one-mind-2016"}
    status = everyone["agencies"][0]["status"]
    only = client.get(f"/api/v1/agencies?status={status}").json()
    assert only["total"] == everyone["counts"][status]
    assert {a["status"] for a in only["agencies"]} == {status}
    by_deadline = client.get("/api/v1/agencies?sort=deadline&desc=true").json()["agencies"]
    deadlines = [a["deadline"] for a in by_deadline]
    assert deadlines == sorted(deadlines, reverse=True)
    by_crisis = client.get("/api/v1/agencies?sort=crisis&desc=true").json()["agencies"]
    assert by_crisis[0]["agency"] in ("a-pd", "b-pd")
    page = client.get("/?q=extra&sort=name&page=2")
    assert page.status_code == 200 and "page 2 of 2" in page.text
    assert "Extra 059 Police" in page.text and "Extra 000 Police" not in page.text


def test_agencies_never_computed_are_counted_and_listed_last_by_figure(app: FastAPI) -> None:
    with transaction(app.state.sessions) as session:
        for number, name in enumerate(("zeta Police", "Alpha Police", "alpha police")):
            session.add(Agency(id=f"n-{number}", name=name, pledged_on=None, report_to=[]))
    client = sign_in(app, "viewer")
    everyone = client.get("/api/v1/agencies").json()
    assert everyone["counts"][dashboard.NOT_COMPUTED] == 3 and everyone["total"] == 5
    names = [a["agency"] for a in everyone["agencies"]]
    assert names[:2] == ["n-1", "n-2"] and names[-1] == "n-0"  # case-blind, then by id
    backwards = client.get("/api/v1/agencies?sort=name&desc=true").json()["agencies"]
    assert [a["agency"] for a in backwards] == names[::-1]
    by_crisis = client.get("/api/v1/agencies?sort=crisis").json()["agencies"]
    assert [a["status"] for a in by_crisis][-3:] == [dashboard.NOT_COMPUTED] * 3
    narrowed = client.get("/api/v1/agencies?q=alpha").json()
    assert narrowed["counts"] == {dashboard.NOT_COMPUTED: 2} and narrowed["total"] == 2
    uncomputed = client.get("/api/v1/agencies?status=not+computed").json()
    assert [a["agency"] for a in uncomputed["agencies"]] == ["n-1", "n-2", "n-0"]
    springfield = next(a for a in everyone["agencies"] if a["agency"] == "a-pd")
    coord = sign_in(app, "coord").get("/api/v1/agencies").json()
    assert coord["counts"] == {springfield["status"]: 1} and coord["total"] == 1


@pytest.mark.parametrize("desc", ["false", "true"])
@pytest.mark.parametrize("sort", ["crisis", "trained", "nonsworn"])
def test_a_share_sort_pages_through_every_agency_once(app: FastAPI, sort: str, desc: str) -> None:
    """Those with the share first, in its order; then those without (nobody counted, or never
    computed) by id; page after page, none twice, none left out."""
    add_agencies(app, 60)
    with transaction(app.state.sessions) as session:
        session.add(Agency(id="n-0", name="Never Computed", pledged_on=None, report_to=[]))
    client = sign_in(app, "viewer")
    seen = []
    for number in (1, 2):
        found = client.get(f"/api/v1/agencies?sort={sort}&desc={desc}&page={number}").json()
        seen += found["agencies"]
    assert len(seen) == found["total"] == 63
    assert len({a["agency"] for a in seen}) == 63
    key = f"{sort}_pct"
    having = [a[key] for a in seen if a[key] is not None]
    assert having and having == sorted(having, reverse=desc == "true")
    lacking = [a["agency"] for a in seen[len(having) :]]
    assert all(a[key] is None for a in seen[len(having) :]) and lacking == sorted(lacking)


def test_search_takes_like_wildcards_literally(app: FastAPI) -> None:
    client = sign_in(app, "viewer")
    assert client.get("/api/v1/agencies?q=%25").json()["total"] == 0
    assert client.get("/api/v1/agencies?q=_").json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("status=bogus", "status"),
        ("sort=password", "sort"),
        ("program=x", "program"),
        ("q=" + "x" * 101, "q"),
        ("desc=maybe", "desc"),
    ],
)
def test_bad_query_strings_are_a_clear_400(app: FastAPI, query: str, field: str) -> None:
    client = sign_in(app, "viewer")
    page = client.get(f"/?{query}")
    assert page.status_code == 400 and f"{field}:" in page.text and "Traceback" not in page.text
    answer = client.get(f"/api/v1/agencies?{query}")
    assert answer.status_code == 400 and answer.json()["detail"].startswith(f"Bad input: {field}")


def test_agency_page_shows_the_live_report(app: FastAPI) -> None:
    client = sign_in(app, "coord")
    page = client.get("/agencies/a-pd").text
    for shown in (
        "Springfield Police Department",
        "Partnership with community mental-health organizations",
        "At least 20 % of sworn officers",
        "Who still needs training",
        "Dan Fox",
        "<svg",
        "roster",
        "academy",
        'type="date"',
    ):
        assert shown in page, shown
    earlier = client.get("/agencies/a-pd?as_of=2019-06-01").text
    assert 'value="2019-06-01"' in earlier
    assert client.get("/agencies/a-pd?as_of=2026-02-30").status_code == 400


def test_downloads_are_the_reports_pdf_and_csv(app: FastAPI) -> None:
    client = sign_in(app, "coord")
    pdf = client.get("/agencies/a-pd/report.pdf")
    assert pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment;")
    people = client.get("/agencies/a-pd/people.csv?as_of=2026-11-26")
    assert people.headers["content-type"].startswith("text/csv")
    assert 'filename="a-pd-2026-11-26-needs.csv"' in people.headers["content-disposition"]
    assert "Dan Fox" in people.text


def test_runs_page_shows_history_failures_and_locks(app: FastAPI) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from onemind.store.models import Source, SyncLock, SyncRun

    state = app.state
    now = state.now()
    with transaction(state.sessions) as session:
        source = session.scalar(select(Source).where(Source.name == "academy"))
        assert source is not None
        session.add(
            SyncRun(source_id=source.id, started_at=now, status="failed", error="LMS said <no>")
        )
        session.add(
            SyncLock(
                source_id=source.id,
                holder="worker-7",
                acquired_at=now,
                heartbeat_at=now,
                expires_at=now + timedelta(minutes=5),
            )
        )
    page = sign_in(app, "academy").get("/runs").text
    assert "LMS said &lt;no&gt;" in page and "worker-7" in page and "failed" in page
    answer = sign_in(app, "admin").get("/api/v1/runs").json()
    assert answer["locks"][0]["holder"] == "worker-7"
    assert answer["failing"][0]["last_error"] == "LMS said <no>"


def test_unknown_page_is_a_404_page(app: FastAPI) -> None:
    client = sign_in(app, "admin")
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/api/v1/nothing").json() == {"detail": "Not Found"}


def test_dashboard_keeps_each_agencys_newest_snapshot(app: FastAPI) -> None:
    state = app.state
    with transaction(state.sessions) as session:
        recompute(session, state.settings, state.now(), date(2025, 6, 1))  # an older as-of
        recompute(session, state.settings, state.now(), AS_OF, ["a-pd"])
    listed = sign_in(app, "viewer").get("/api/v1/agencies").json()["agencies"]
    assert {a["agency"]: a["as_of"] for a in listed} == {
        "a-pd": AS_OF.isoformat(),
        "b-pd": AS_OF.isoformat(),
    }
