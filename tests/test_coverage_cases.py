"""The coverage engine against hand-worked cases of SPEC §3, on every store backend.

Every expected figure below was worked out by hand from SPEC §3 (the counting rules) and §5
(the JSON contract); none was copied from the engine's output. The as-of date D is 2026-11-26.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

import pytest
from builders import UNMAPPED, StoreBuilder, empty_store
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from onemind.store.coverage import CoverageReport, compute
from onemind.store.db import make_engine, session_factory, transaction, upgrade
from onemind.store.explain import explain_agency, explain_person
from onemind.store.models import CoverageSnapshot, Person
from onemind.store.snapshots import save_snapshots

D = date(2026, 11, 26)
A, B = "a-pd", "b-pd"
CURRENT, ORIGINAL = "one-mind", "one-mind-2016"

Build = Callable[[StoreBuilder], None]
FLAGS = {True: "selected", False: "deselected", None: "blank"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One migrated store per backend for the whole module (migrating per case is too slow)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('cases') / 'onemind.db'}")
    else:
        engine = make_engine(request.getfixturevalue("pg_url"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(store: Engine) -> sessionmaker[Session]:
    """Sessions on the module's store, emptied for each test (shadows conftest's `sessions`)."""
    empty_store(store)
    return session_factory(store)


class Rec(NamedTuple):
    """One completion to give a person: category (or UNMAPPED / None), date, extras."""

    category: str | None
    on: date
    expires_on: date | None = None
    voided: bool = False


def give(b: StoreBuilder, person: Person | None, *records: Rec) -> None:
    for r in records:
        b.complete(person, r.category, r.on, expires_on=r.expires_on, voided=r.voided)


def figures(report: CoverageReport) -> dict[str, Any]:
    """The report's figures under the names SPEC §5 gives them."""
    c = report.counts
    return {
        "sworn_total": c.sworn_total,
        "sworn_crisis": c.sworn_crisis,
        "sworn_trained": c.sworn_trained,
        "nonsworn_selected_total": c.nonsworn_total,
        "nonsworn_trained": c.nonsworn_trained,
        "partnership": report.partnership,
        "policy": report.policy,
        "crisis_20": report.crisis_20,
        "all_trained": report.all_trained,
        "status": report.status,
        "deadline": report.deadline,
        "projected_completion": report.projected_completion,
        "crisis_needed": report.crisis_needed,
    }


def build_store(sessions: sessionmaker[Session], now: datetime, build: Build) -> None:
    with transaction(sessions) as session:
        build(StoreBuilder.start(session, now))


def reports_at(sessions: sessionmaker[Session], as_of: date = D) -> dict[str, CoverageReport]:
    with sessions() as session:
        return {r.agency: r for r in compute(session, as_of)}


# --- builders of the hand-worked worlds ---------------------------------------------------------


def crisis_share(officers: int, crisis: int) -> Build:
    """`officers` sworn officers, the first `crisis` of them CIT-trained."""

    def build(b: StoreBuilder) -> None:
        b.agency(A)
        for person in b.officers(A, officers)[:crisis]:
            give(b, person, Rec("cit", date(2024, 3, 1)))

    return build


def officer_with(*records: Rec, program: str = CURRENT, colleagues: int = 1) -> Build:
    """One officer holding `records`, and `colleagues` untrained officers."""

    def build(b: StoreBuilder) -> None:
        b.agency(A, program=program)
        give(b, b.person(A), *records)
        b.officers(A, colleagues)

    return build


def nonsworn(
    position: str, *records: Rec, selected: bool | None = None, program: str = CURRENT
) -> Build:
    """One untrained officer and one non-sworn staff member holding `records`."""

    def build(b: StoreBuilder) -> None:
        b.agency(A, program=program)
        b.officers(A, 1)
        give(b, b.person(A, sworn=False, position=position, selected=selected), *records)

    return build


def two_officers(**second: Any) -> Build:
    """An untrained active officer, and a CIT-trained one employed per `second`."""

    def build(b: StoreBuilder) -> None:
        b.agency(A)
        b.officers(A, 1)
        give(b, b.person(A, **second), Rec("cit", date(2024, 3, 1)))

    return build


def lateral_hire(b: StoreBuilder) -> None:
    """CIT taken at A in 2024; left A on 2025-06-30, hired by B on 2025-07-01."""
    b.agency(A)
    b.agency(B)
    mover = b.person(A, hired_on=date(2018, 2, 1), separated_on=date(2025, 6, 30))
    give(b, mover, Rec("cit", date(2024, 2, 1)))
    b.employ(mover, B, hired_on=date(2025, 7, 1))
    b.officers(A, 1)
    b.officers(B, 1)


def dispatcher_turned_officer(b: StoreBuilder) -> None:
    """Took dispatch CIT as a dispatcher at A, is now a sworn officer at B."""
    b.agency(A)
    b.agency(B)
    mover = b.person(
        A,
        sworn=False,
        position="Dispatcher",
        hired_on=date(2019, 1, 1),
        separated_on=date(2025, 1, 31),
    )
    give(b, mover, Rec("dispatch-crisis", date(2023, 5, 1)))
    b.employ(mover, B, hired_on=date(2025, 2, 1))


def only_dispatchers(b: StoreBuilder) -> None:
    b.agency(A)
    give(b, b.person(A, sworn=False, position="Dispatcher"), Rec("mhfa", date(2025, 1, 1)))


def empty_agency(b: StoreBuilder) -> None:
    b.agency(A)


def mixed_all_trained(officer: Rec, dispatcher: Rec | None) -> Build:
    def build(b: StoreBuilder) -> None:
        b.agency(A)
        give(b, b.person(A), officer)
        d = b.person(A, sworn=False, position="Call Taker")
        if dispatcher is not None:
            give(b, d, dispatcher)

    return build


def attested(partnership_on: date | None, policy_on: date | None) -> Build:
    def build(b: StoreBuilder) -> None:
        b.agency(A, partnership_on=partnership_on, policy_on=policy_on)
        give(b, b.person(A), Rec("cit", date(2024, 1, 1)))

    return build


def pledged(
    pledged_on: date,
    months: int = 36,
    officers: int = 1,
    trained: tuple[Rec, ...] = (),
    attestations: bool = True,
) -> Build:
    """An agency pledged on `pledged_on`; officer i holds `trained[i]`, the rest nothing."""

    def build(b: StoreBuilder) -> None:
        on = date(2025, 4, 1) if attestations else None
        b.agency(A, pledged_on=pledged_on, deadline_months=months, partnership_on=on, policy_on=on)
        people = b.officers(A, officers)
        for person, record in zip(people, trained, strict=False):
            give(b, person, record)

    return build


OLD_CIT = Rec("cit", date(2020, 5, 1))
OLD_MHFA = Rec("mhfa", date(2025, 1, 1))
RECENT = date(2026, 10, 1)  # within the 90 days before D
THREE_RECENT = (Rec("cit", RECENT), Rec("mhfa", RECENT), Rec("mhfa", RECENT))


def newcomer_untrained(b: StoreBuilder) -> None:
    """Three officers, one CIT-trained in the last 90 days, and one hired 30 days before D."""
    b.agency(A, pledged_on=date(2025, 1, 15))
    give(b, b.officers(A, 3)[0], Rec("cit", RECENT))
    b.person(A, hired_on=D - timedelta(days=30))


CASES = [
    # 20 %: crisis_trained * 5 >= sworn_total
    *(
        pytest.param(
            crisis_share(n, k),
            A,
            {"sworn_total": n, "sworn_crisis": k, "crisis_20": want, "crisis_needed": needed},
            id=f"20pct-{k}-of-{n}-{want}",
        )
        for n, k, want, needed in [
            (4, 0, False, 1),
            (4, 1, True, 1),
            (5, 1, True, 1),
            (6, 1, False, 2),
            (6, 2, True, 2),
            (7, 1, False, 2),
            (7, 2, True, 2),
            (10, 2, True, 2),
            (11, 2, False, 3),
            (11, 3, True, 3),
        ]
    ),
    # validity: MHFA lasts 3 years unless the record says otherwise; CIT does not expire
    pytest.param(
        officer_with(Rec("mhfa", date(2024, 11, 26))),
        A,
        {"sworn_total": 2, "sworn_trained": 1, "sworn_crisis": 0},
        id="mhfa-2y-old-valid",
    ),
    pytest.param(
        officer_with(Rec("mhfa", date(2023, 11, 27))),
        A,
        {"sworn_trained": 1},
        id="mhfa-a-day-short-of-3y-valid",
    ),
    pytest.param(
        officer_with(Rec("mhfa", date(2023, 11, 25))),
        A,
        {"sworn_trained": 0},
        id="mhfa-3y-and-a-day-old-expired",
    ),
    pytest.param(
        officer_with(Rec("mhfa", date(2021, 3, 1))),
        A,
        {"sworn_trained": 0},
        id="mhfa-5y-old-expired",
    ),
    pytest.param(
        officer_with(Rec("mhfa", date(2022, 6, 1), expires_on=date(2027, 6, 1))),
        A,
        {"sworn_trained": 1},
        id="mhfa-record-expiry-beyond-3y-still-valid",
    ),
    pytest.param(
        officer_with(Rec("mhfa", date(2025, 6, 1), expires_on=date(2026, 6, 1))),
        A,
        {"sworn_trained": 0},
        id="mhfa-record-expiry-within-3y-expired",
    ),
    pytest.param(
        officer_with(Rec("mhfa", date(2021, 3, 1)), Rec("mhfa", date(2025, 3, 1))),
        A,
        {"sworn_trained": 1},
        id="mhfa-renewed-after-expiry",
    ),
    pytest.param(
        officer_with(Rec("cit", date(2005, 4, 1))),
        A,
        {"sworn_trained": 1, "sworn_crisis": 1, "crisis_20": True},
        id="cit-from-2005-does-not-expire",
    ),
    pytest.param(
        officer_with(Rec("mhfa-equivalent", date(2012, 4, 1))),
        A,
        {"sworn_trained": 1},
        id="mhfa-equivalent-has-no-3y-term",
    ),
    pytest.param(
        officer_with(Rec("cit", date(2020, 1, 1), expires_on=date(2025, 1, 1))),
        A,
        {"sworn_trained": 0, "sworn_crisis": 0},
        id="cit-record-expiry-passed",
    ),
    # completed after D, voided, not qualifying
    pytest.param(
        officer_with(Rec("cit", D + timedelta(days=1))),
        A,
        {"sworn_trained": 0, "sworn_crisis": 0, "crisis_20": False},
        id="cit-completed-after-D-not-counted",
    ),
    pytest.param(
        officer_with(Rec("cit", D)),
        A,
        {"sworn_trained": 1, "sworn_crisis": 1},
        id="cit-completed-on-D-counts",
    ),
    pytest.param(
        officer_with(Rec("cit", date(2024, 1, 1), voided=True)),
        A,
        {"sworn_trained": 0, "sworn_crisis": 0},
        id="voided-cit-not-counted",
    ),
    pytest.param(
        officer_with(Rec("cit", date(2024, 1, 1), voided=True), Rec("mhfa", date(2025, 1, 1))),
        A,
        {"sworn_trained": 1, "sworn_crisis": 0},
        id="voided-cit-valid-mhfa",
    ),
    pytest.param(
        officer_with(Rec(UNMAPPED, date(2024, 1, 1)), Rec(None, date(2024, 1, 1))),
        A,
        {"sworn_trained": 0, "sworn_crisis": 0},
        id="unmapped-and-unclassified-not-counted",
    ),
    pytest.param(
        officer_with(Rec("crit", date(2023, 1, 1)), Rec("crisis-equivalent", date(2023, 2, 1))),
        A,
        {"sworn_trained": 1, "sworn_crisis": 1},
        id="crit-and-crisis-equivalent-count-once",
    ),
    pytest.param(
        officer_with(
            Rec("cit", date(2022, 1, 1)),
            Rec("mhfa", date(2025, 1, 1)),
            Rec("cit", date(2023, 1, 1)),
        ),
        A,
        {"sworn_total": 2, "sworn_trained": 1, "sworn_crisis": 1, "crisis_20": True},
        id="cit-and-mhfa-person-counts-once",
    ),
    # dispatch CIT is for selected non-sworn staff only
    pytest.param(
        officer_with(Rec("dispatch-crisis", date(2025, 1, 1))),
        A,
        {"sworn_trained": 0, "sworn_crisis": 0},
        id="dispatch-crisis-does-not-count-for-sworn",
    ),
    pytest.param(
        nonsworn("Dispatcher", Rec("dispatch-crisis", date(2025, 1, 1))),
        A,
        {"nonsworn_selected_total": 1, "nonsworn_trained": 1},
        id="dispatch-crisis-counts-for-dispatcher",
    ),
    pytest.param(
        nonsworn("Dispatcher", Rec("dispatch-crisis", date(2025, 1, 1)), program=ORIGINAL),
        A,
        {"nonsworn_selected_total": 1, "nonsworn_trained": 1},
        id="dispatch-crisis-counts-for-dispatcher-2016",
    ),
    # who is selected non-sworn staff
    *(
        pytest.param(
            nonsworn(position, Rec("mhfa", date(2025, 1, 1)), selected=flag),
            A,
            {"nonsworn_selected_total": n, "nonsworn_trained": n},
            id=f"nonsworn-{position.lower().replace(' ', '-')}-{FLAGS[flag]}",
        )
        for position, flag, n in [
            ("Dispatcher", None, 1),
            ("Call Taker", None, 1),
            ("Senior Telecommunicator", None, 1),
            ("911 Dispatcher II", None, 1),
            ("Records Clerk", True, 1),
            ("Records Clerk", None, 0),
            ("Crime Analyst", None, 0),
            # SPEC §3: an explicit `selected = false` excludes even an in-scope position
            ("Dispatcher", False, 0),
            ("Senior Telecommunicator", False, 0),
            ("Records Clerk", False, 0),
            ("Dispatcher", True, 1),
        ]
    ),
    pytest.param(
        nonsworn("Dispatcher", Rec("mhfa", date(2022, 1, 1))),
        A,
        {"nonsworn_selected_total": 1, "nonsworn_trained": 0},
        id="nonsworn-expired-mhfa",
    ),
    pytest.param(
        nonsworn("Dispatcher", Rec("cit", date(2022, 1, 1))),
        A,
        {"nonsworn_selected_total": 1, "nonsworn_trained": 1, "sworn_crisis": 0},
        id="nonsworn-cit-trained-current-wording",
    ),
    pytest.param(
        nonsworn("Dispatcher", Rec("cit", date(2022, 1, 1)), program=ORIGINAL),
        A,
        {"nonsworn_selected_total": 1, "nonsworn_trained": 0},
        id="nonsworn-cit-not-trained-2016-wording",
    ),
    pytest.param(
        mixed_all_trained(Rec("mhfa", date(2025, 1, 1)), None),
        A,
        {"sworn_trained": 1, "nonsworn_trained": 0, "all_trained": False},
        id="all-trained-needs-selected-nonsworn-too",
    ),
    pytest.param(
        mixed_all_trained(Rec("mhfa", date(2025, 1, 1)), Rec("mhfa", date(2025, 2, 1))),
        A,
        {"sworn_trained": 1, "nonsworn_trained": 1, "all_trained": True},
        id="all-trained-sworn-and-nonsworn",
    ),
    # the two wordings of the pledge
    pytest.param(
        officer_with(Rec("cit", date(2024, 1, 1)), colleagues=0),
        A,
        {"sworn_trained": 1, "sworn_crisis": 1, "crisis_20": True, "all_trained": True},
        id="cit-only-trained-current-wording",
    ),
    pytest.param(
        officer_with(Rec("cit", date(2024, 1, 1)), colleagues=0, program=ORIGINAL),
        A,
        {"sworn_trained": 0, "sworn_crisis": 1, "crisis_20": True, "all_trained": False},
        id="cit-only-not-trained-2016-wording",
    ),
    pytest.param(
        officer_with(Rec("mhfa", date(2025, 1, 1)), colleagues=0, program=ORIGINAL),
        A,
        {"sworn_trained": 1, "sworn_crisis": 0, "crisis_20": False, "all_trained": True},
        id="mhfa-only-2016-wording",
    ),
    pytest.param(
        officer_with(Rec("cit", date(2024, 1, 1)), Rec("mhfa", date(2025, 1, 1)), program=ORIGINAL),
        A,
        {"sworn_total": 2, "sworn_trained": 1, "sworn_crisis": 1, "crisis_20": True},
        id="cit-and-mhfa-2016-wording",
    ),
    # population at D
    pytest.param(
        two_officers(separated_on=D - timedelta(days=1)),
        A,
        {"sworn_total": 1, "sworn_crisis": 0},
        id="separated-before-D-not-in-population",
    ),
    pytest.param(
        two_officers(separated_on=D),
        A,
        {"sworn_total": 2, "sworn_crisis": 1},
        id="separated-on-D-still-in-population",
    ),
    pytest.param(
        two_officers(hired_on=D + timedelta(days=1)),
        A,
        {"sworn_total": 1, "sworn_crisis": 0},
        id="hired-after-D-not-in-population",
    ),
    pytest.param(
        two_officers(hired_on=D),
        A,
        {"sworn_total": 2, "sworn_crisis": 1},
        id="hired-on-D-in-population",
    ),
    pytest.param(
        lateral_hire,
        B,
        {"sworn_total": 2, "sworn_crisis": 1, "sworn_trained": 1},
        id="lateral-hire-keeps-training-at-new-agency",
    ),
    pytest.param(
        lateral_hire,
        A,
        {"sworn_total": 1, "sworn_crisis": 0, "sworn_trained": 0},
        id="lateral-hire-leaves-old-agency",
    ),
    pytest.param(
        dispatcher_turned_officer,
        B,
        {"sworn_total": 1, "sworn_trained": 0, "nonsworn_selected_total": 0},
        id="dispatch-crisis-stops-counting-once-sworn",
    ),
    # no active sworn officers: reported as such
    *(
        pytest.param(
            build,
            A,
            {
                "sworn_total": 0,
                "status": "no-sworn-officers",
                "crisis_20": None,
                "all_trained": None,
                "crisis_needed": 0,
            },
            id=name,
        )
        for name, build in [
            ("no-sworn-only-dispatchers", only_dispatchers),
            ("no-sworn-empty-agency", empty_agency),
            ("no-sworn-dispatcher-turned-officer-left", dispatcher_turned_officer),
        ]
    ),
    pytest.param(
        only_dispatchers,
        A,
        {"nonsworn_selected_total": 1, "nonsworn_trained": 1},
        id="no-sworn-still-counts-nonsworn",
    ),
    # attestations count from their date on
    pytest.param(
        attested(date(2025, 4, 1), date(2025, 6, 1)),
        A,
        {"partnership": True, "policy": True},
        id="attestations-before-D",
    ),
    pytest.param(attested(D, D), A, {"partnership": True, "policy": True}, id="attestations-on-D"),
    pytest.param(
        attested(D + timedelta(days=1), date(2027, 3, 1)),
        A,
        {"partnership": False, "policy": False},
        id="attestations-after-D-do-not-count",
    ),
    pytest.param(
        attested(date(2025, 4, 1), None),
        A,
        {"partnership": True, "policy": False},
        id="partnership-without-policy",
    ),
    # status
    pytest.param(
        pledged(date(2025, 1, 15), trained=(OLD_CIT,)),
        A,
        {"status": "complete", "deadline": date(2028, 1, 15), "projected_completion": D},
        id="status-complete",
    ),
    pytest.param(
        pledged(date(2022, 1, 15), trained=(OLD_CIT,)),
        A,
        {"status": "complete", "deadline": date(2025, 1, 15)},
        id="status-complete-after-deadline-is-complete",
    ),
    pytest.param(
        pledged(date(2022, 1, 15), officers=2, trained=(OLD_CIT,)),
        A,
        {"status": "overdue", "all_trained": False},
        id="status-overdue-training-missing",
    ),
    pytest.param(
        pledged(date(2024, 1, 15), months=12, trained=(OLD_CIT,), attestations=False),
        A,
        {"status": "overdue", "deadline": date(2025, 1, 15), "all_trained": True},
        id="status-overdue-attestations-missing",
    ),
    pytest.param(
        pledged(date(2023, 11, 26), officers=2),
        A,
        {"status": "at-risk", "deadline": D},
        id="status-deadline-is-D-not-yet-overdue",
    ),
    pytest.param(
        pledged(date(2025, 1, 15), officers=5, trained=(OLD_CIT,)),
        A,
        {"status": "at-risk", "sworn_trained": 1, "projected_completion": None},
        id="status-at-risk-no-progress-in-90-days",
    ),
    pytest.param(
        # deadline 2027-01-15 (50 days); 7 left after 1 trained in 90 days: 630 days to go
        pledged(date(2024, 1, 15), officers=10, trained=(OLD_CIT, OLD_CIT, Rec("mhfa", RECENT))),
        A,
        {
            "status": "at-risk",
            "sworn_trained": 3,
            "crisis_20": True,
            "projected_completion": date(2028, 8, 17),
        },
        id="status-at-risk-too-slow-for-deadline",
    ),
    pytest.param(
        # 3 trained in the last 90 days, 2 left: 60 days, deadline 2028-01-15
        pledged(date(2025, 1, 15), officers=5, trained=THREE_RECENT),
        A,
        {
            "status": "on-track",
            "sworn_trained": 3,
            "crisis_20": True,
            "projected_completion": date(2027, 1, 25),
        },
        id="status-on-track",
    ),
    pytest.param(
        pledged(date(2025, 1, 15), trained=(OLD_CIT,), attestations=False),
        A,
        {
            "status": "on-track",
            "all_trained": True,
            "partnership": False,
            "projected_completion": D,
        },
        id="status-on-track-trained-attestations-pending",
    ),
    # on-track while the projection (D + 60 = 2027-01-25) is on or before the deadline
    *(
        pytest.param(
            pledged(pledged_on, months=12, officers=5, trained=THREE_RECENT),
            A,
            {"deadline": due, "projected_completion": date(2027, 1, 25), "status": want},
            id=f"status-projected-{name}",
        )
        for name, pledged_on, due, want in [
            ("a-day-after-deadline", date(2026, 1, 24), date(2027, 1, 24), "at-risk"),
            ("on-deadline", date(2026, 1, 25), date(2027, 1, 25), "on-track"),
            ("a-day-before-deadline", date(2026, 1, 26), date(2027, 1, 26), "on-track"),
            ("after-deadline-passed", date(2025, 11, 25), date(2026, 11, 25), "overdue"),
        ]
    ),
    # projected completion: the same people now and 90 days before D, at the net rate
    pytest.param(
        # CIT on D - 89 is in the window: 1 of 2 trained in 90 days, 1 left
        pledged(date(2025, 1, 15), officers=2, trained=(Rec("cit", date(2026, 8, 29)),)),
        A,
        {"projected_completion": date(2027, 2, 24), "status": "on-track"},
        id="projected-window-starts-after-D-minus-90",
    ),
    pytest.param(
        pledged(date(2025, 1, 15), officers=2, trained=(Rec("cit", date(2026, 8, 28)),)),
        A,
        {"projected_completion": None, "status": "at-risk"},
        id="projected-completed-on-D-minus-90-is-not-progress",
    ),
    pytest.param(
        # new CIT, but an MHFA expired on 2026-10-01 inside the window: net 0
        pledged(
            date(2025, 1, 15),
            officers=3,
            trained=(Rec("cit", RECENT), Rec("mhfa", date(2023, 10, 1))),
        ),
        A,
        {"sworn_trained": 1, "projected_completion": None, "status": "at-risk"},
        id="projected-expiry-in-window-cancels-new-credential",
    ),
    pytest.param(
        # 4 officers today; 90 days ago none of them trained, now 1: 3 left at 1 per 90 days
        newcomer_untrained,
        A,
        {"sworn_total": 4, "projected_completion": date(2027, 8, 23)},
        id="projected-counts-todays-people-including-new-hire",
    ),
    pytest.param(
        # all-trained: 1 left, 4 done → 23 days; crisis: 1 of 2 left, 1 done → 90 days
        pledged(
            date(2025, 1, 15),
            officers=10,
            trained=(Rec("cit", RECENT), *[OLD_MHFA] * 5, *[Rec("mhfa", RECENT)] * 3),
        ),
        A,
        {"sworn_trained": 9, "crisis_needed": 2, "projected_completion": date(2027, 2, 24)},
        id="projected-crisis-gap-decides",
    ),
    pytest.param(
        # all-trained: 4 left, 2 done → 180 days; crisis: 1 left, 1 done → 90 days
        pledged(
            date(2025, 1, 15),
            officers=10,
            trained=(Rec("cit", RECENT), Rec("mhfa", RECENT), *[OLD_MHFA] * 4),
        ),
        A,
        {"sworn_trained": 6, "crisis_needed": 2, "projected_completion": date(2027, 5, 25)},
        id="projected-all-trained-gap-decides",
    ),
    pytest.param(
        # 1 left after 7 trained in 90 days: 90 / 7 = 12.9 → 13 days
        pledged(
            date(2025, 1, 15),
            officers=8,
            trained=(*[Rec("cit", RECENT)] * 2, *[Rec("mhfa", RECENT)] * 5),
        ),
        A,
        {"sworn_trained": 7, "crisis_needed": 2, "projected_completion": date(2026, 12, 9)},
        id="projected-rounds-days-up",
    ),
]


@pytest.mark.parametrize(("build", "agency", "expected"), CASES)
def test_coverage_case(
    sessions: sessionmaker[Session],
    now: datetime,
    build: Build,
    agency: str,
    expected: dict[str, Any],
) -> None:
    build_store(sessions, now, build)
    got = figures(reports_at(sessions)[agency])
    assert {k: got[k] for k in expected} == expected


def test_all_separated_agency_reports_no_sworn_officers(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    def build(b: StoreBuilder) -> None:
        b.agency(A)
        give(b, b.person(A, separated_on=date(2025, 1, 1)), Rec("cit", date(2024, 3, 1)))

    build_store(sessions, now, build)
    got = figures(reports_at(sessions)[A])
    assert (got["sworn_total"], got["status"], got["crisis_20"], got["all_trained"]) == (
        0,
        "no-sworn-officers",
        None,
        None,
    )


def test_compute_reports_only_the_agencies_asked_for_in_id_order(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    def build(b: StoreBuilder) -> None:
        for agency in ("c-pd", A, B):
            b.agency(agency)
            b.officers(agency, 1)

    build_store(sessions, now, build)
    with sessions() as session:
        assert [r.agency for r in compute(session, D)] == [A, B, "c-pd"]
        assert [r.agency for r in compute(session, D, ["c-pd", A])] == [A, "c-pd"]
        assert [r.agency for r in compute(session, D, iter([B]))] == [B]
        assert compute(session, D, []) == []


SPEC_KEYS = {
    "agency",
    "as_of",
    "program",
    "sworn_total",
    "sworn_crisis",
    "sworn_trained",
    "nonsworn_selected_total",
    "nonsworn_trained",
    "requirements",
    "status",
    "deadline",
}


def test_report_json_has_the_spec_shape(sessions: sessionmaker[Session], now: datetime) -> None:
    def build(b: StoreBuilder) -> None:
        b.agency(
            A,
            pledged_on=date(2025, 1, 15),
            partnership_on=date(2025, 4, 1),
            policy_on=date(2027, 1, 1),
        )
        officers = b.officers(A, 6)
        give(b, officers[0], Rec("cit", date(2024, 1, 1)))
        for officer in officers[1:5]:
            give(b, officer, Rec("mhfa", date(2025, 1, 1)))
        give(b, b.person(A, sworn=False, position="Dispatcher"), Rec("mhfa", date(2025, 1, 1)))
        b.person(A, sworn=False, position="Call Taker")

    build_store(sessions, now, build)
    (report,) = reports_at(sessions).values()
    document = json.loads(json.dumps([report.to_json()]))[0]

    assert set(document) >= SPEC_KEYS
    assert set(document["requirements"]) == {"partnership", "policy", "crisis_20", "all_trained"}
    assert {k: document[k] for k in SPEC_KEYS - {"requirements"}} == {
        "agency": A,
        "as_of": "2026-11-26",
        "program": "one-mind",
        "sworn_total": 6,
        "sworn_crisis": 1,
        "sworn_trained": 5,
        "nonsworn_selected_total": 2,
        "nonsworn_trained": 1,
        "status": "at-risk",
        "deadline": "2028-01-15",
    }
    assert document["requirements"] == {
        "partnership": True,
        "policy": False,
        "crisis_20": False,
        "all_trained": False,
    }


def test_report_json_for_an_agency_without_officers_or_pledge(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    build_store(sessions, now, only_dispatchers)
    document = json.loads(json.dumps(reports_at(sessions)[A].to_json()))
    assert document["status"] == "no-sworn-officers"
    assert document["deadline"] is None
    assert document["requirements"]["crisis_20"] is None
    assert document["requirements"]["all_trained"] is None


def explained_world(b: StoreBuilder) -> None:
    b.agency(A)
    give(b, b.person(A, name="Ann Expired"), Rec("mhfa", date(2023, 1, 10)))
    give(b, b.person(A, name="Ben Voided"), Rec("cit", date(2024, 1, 1), voided=True))
    give(b, b.person(A, name="Cal Sworn"), Rec("dispatch-crisis", date(2025, 1, 1)))
    give(b, b.person(A, name="Dee Valid"), Rec("cit", date(2024, 5, 1)))
    give(
        b,
        b.person(A, name="Eve Dispatch", sworn=False, position="Dispatcher"),
        Rec("dispatch-crisis", date(2025, 2, 1)),
    )
    give(
        b,
        b.person(A, name="Fay Clerk", sworn=False, position="Records Clerk"),
        Rec("mhfa", date(2025, 1, 1)),
    )
    give(b, b.person(A, name="Gus Future"), Rec("cit", date(2026, 12, 1)))
    give(b, b.person(A, name="Hal Unmapped"), Rec(UNMAPPED, date(2024, 1, 1)))
    give(
        b,
        b.person(A, name="Ivy Flagged", sworn=False, position="Records Clerk", selected=True),
        Rec("mhfa", date(2025, 1, 1)),
    )
    give(b, b.person(A, name="Jo Left", separated_on=date(2026, 1, 1)), OLD_CIT)
    give(
        b,
        b.person(A, name="Kit Deselected", sworn=False, position="Dispatcher", selected=False),
        Rec("mhfa", date(2025, 1, 1)),
    )


def test_explain_says_why_each_person_counts_or_not(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    build_store(sessions, now, explained_world)
    with sessions() as session:
        people = {p.name: p for p in explain_agency(session, A, D)}
        (report,) = compute(session, D)

    assert set(people) == {
        "Ann Expired",
        "Ben Voided",
        "Cal Sworn",
        "Dee Valid",
        "Eve Dispatch",
        "Gus Future",
        "Hal Unmapped",
        "Ivy Flagged",
    }
    trained = {name for name, p in people.items() if p.trained}
    crisis = {name for name, p in people.items() if p.crisis}
    assert trained == {"Dee Valid", "Eve Dispatch", "Ivy Flagged"}
    assert crisis == {"Dee Valid"}

    def verdict(name: str) -> str:
        (note,) = people[name].notes
        return note.verdict.lower()

    assert "expired" in verdict("Ann Expired")
    assert "voided" in verdict("Ben Voided")
    assert "non-sworn" in verdict("Cal Sworn")
    assert "after" in verdict("Gus Future")
    assert "not qualifying" in verdict("Hal Unmapped")
    assert verdict("Dee Valid").startswith("counts")
    assert people["Dee Valid"].notes[0].category == "cit"
    assert people["Ann Expired"].notes[0].valid_until == date(2026, 1, 10)
    assert people["Ann Expired"].role == "sworn"
    assert "selected" in people["Ivy Flagged"].role
    assert "dispatcher" in people["Eve Dispatch"].role.lower()

    # the explanation adds up to the report, and both to the hand count
    sworn = [p for p in people.values() if p.role == "sworn"]
    other = [p for p in people.values() if p.role != "sworn"]
    explained = (
        len(sworn),
        sum(p.crisis for p in sworn),
        sum(p.trained for p in sworn),
        len(other),
        sum(p.trained for p in other),
    )
    c = report.counts
    assert explained == (6, 1, 1, 2, 2)
    assert (
        c.sworn_total,
        c.sworn_crisis,
        c.sworn_trained,
        c.nonsworn_total,
        c.nonsworn_trained,
    ) == (explained)


def test_explain_says_an_explicit_false_excludes_a_dispatcher(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    build_store(sessions, now, explained_world)
    with sessions() as session:
        kit = session.scalars(select(Person).where(Person.first_name == "Kit")).one()
        [employment] = explain_person(session, kit, D)
    assert not employment.in_population
    assert employment.person.role == "not counted: non-sworn 'Dispatcher', selected = false"


def test_save_snapshots_keeps_one_row_per_agency_and_date(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    people: dict[str, Any] = {}

    def build(b: StoreBuilder) -> None:
        b.agency(A)
        give(b, b.person(A), Rec("mhfa", date(2025, 1, 1)))
        people["newcomer"] = b.person(A)

    build_store(sessions, now, build)
    with transaction(sessions) as session:
        save_snapshots(session, compute(session, D), now)
    with sessions() as session:
        (first,) = session.scalars(select(CoverageSnapshot)).all()
    assert (first.as_of, first.sworn_total, first.sworn_trained, first.computed_at) == (
        D,
        2,
        1,
        now,
    )

    later = now + timedelta(hours=3)
    with transaction(sessions) as session:
        give(StoreBuilder.start(session, later), people["newcomer"], Rec("cit", date(2026, 11, 1)))
    with transaction(sessions) as session:
        save_snapshots(session, compute(session, D), later)
        save_snapshots(session, compute(session, D - timedelta(days=1)), later)

    with sessions() as session:
        rows = session.scalars(select(CoverageSnapshot).order_by(CoverageSnapshot.as_of)).all()
    assert [(r.agency_id, r.as_of) for r in rows] == [(A, D - timedelta(days=1)), (A, D)]
    latest = rows[1]
    assert (latest.sworn_total, latest.sworn_trained, latest.sworn_crisis) == (2, 2, 1)
    assert (latest.crisis_20, latest.all_trained) == (True, True)
    assert latest.computed_at == later


@pytest.mark.parametrize("left_job_first", [True, False], ids=["left-job-first", "new-job-first"])
def test_explain_uses_the_current_employment_of_a_rehired_person(
    sessions: sessionmaker[Session], now: datetime, left_job_first: bool
) -> None:
    """A dispatcher who left and came back to the same agency as an officer is an officer.

    The store may hold the two employments in either order; the explanation must not depend
    on it.
    """
    left: dict[str, Any] = {
        "sworn": False,
        "position": "Dispatcher",
        "hired_on": date(2015, 3, 1),
        "separated_on": date(2020, 6, 30),
    }
    current: dict[str, Any] = {"sworn": True, "hired_on": date(2021, 9, 1)}

    def build(b: StoreBuilder) -> None:
        b.agency(A)
        first, second = (left, current) if left_job_first else (current, left)
        rehired = b.person(A, name="Kim Rehired", **first)
        b.employ(rehired, A, **second)
        give(b, rehired, Rec("dispatch-crisis", date(2019, 4, 1)))

    build_store(sessions, now, build)
    with sessions() as session:
        people = explain_agency(session, A, D)
        (report,) = compute(session, D)

    # SPEC §3: active at D as a sworn officer; dispatch CIT counts for non-sworn staff only
    assert (report.counts.sworn_total, report.counts.sworn_trained) == (1, 0)
    assert report.counts.nonsworn_total == 0
    assert [(p.name, p.role, p.trained) for p in people] == [("Kim Rehired", "sworn", False)]
    (note,) = people[0].notes
    assert "non-sworn" in note.verdict


def test_explain_does_not_say_counts_for_a_credential_the_wording_ignores(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    """Under the 2016 wording a dispatcher's CIT (crisis tier) does not make them trained."""
    build_store(
        sessions, now, nonsworn("Dispatcher", Rec("cit", date(2024, 1, 1)), program=ORIGINAL)
    )
    with sessions() as session:
        (dispatcher,) = [p for p in explain_agency(session, A, D) if p.role != "sworn"]
    assert dispatcher.trained is False
    (note,) = dispatcher.notes
    assert not note.counts
    assert not note.verdict.startswith("counts"), note.verdict
