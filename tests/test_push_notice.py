"""What a source is told with a push: the accounts its own records gave the person, and which
of the person's other credentials still stand (one activity or grade stands for all of them)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session, sessionmaker

from onemind.certificates.outbox import notice_for
from onemind.store.models import Completion, Credential, Person, RawRecord, SigningKey, Source

TODAY = date(2026, 11, 26)


def credential(id_: str, person: int, **changes: object) -> Credential:
    values: dict[str, object] = {
        "id": id_,
        "kind": "person",
        "person_id": person,
        "tier": "mh",
        "valid_from": date(2026, 1, 1),
        "issued_at": datetime(2026, 1, 1, 12, tzinfo=UTC),
        "kid": "k1",
        "jwt": "eyJ.x.y",
        "status": "active",
    }
    return Credential(**(values | changes))


def completion(
    session: Session, source: Source, person: Person, n: int, account: str | None
) -> None:
    raw = RawRecord(
        source_id=source.id,
        external_id=f"r{n}",
        kind="completion",
        location=f"row {n}",
        payload={},
        payload_hash=str(n),
        first_seen=datetime(2026, 1, 1, tzinfo=UTC),
        last_seen=datetime(2026, 1, 1, tzinfo=UTC),
    )
    session.add(raw)
    session.flush()
    completed = Completion(
        raw_record_id=raw.id,
        source_id=source.id,
        person_id=person.id,
        account=account,
        course_key="c",
        course_title="C",
        completed_on=date(2026, 1, 1),
    )
    session.add(completed)


def test_the_notice_names_the_sources_accounts_and_the_other_credentials_still_valid(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        canvas, moodle = Source(name="canvas", kind="canvas"), Source(name="moodle", kind="moodle")
        ann = Person(first_name="Ann", last_name="Lee", email="ann.lee@springfield.example")
        session.add_all([canvas, moodle, ann])
        session.add(SigningKey(kid="k1", algorithm="EdDSA", public_jwk={}, private_pem=""))
        session.flush()
        completion(session, canvas, ann, 1, "https://canvas.example|9")
        completion(session, moodle, ann, 2, "https://moodle.example|101")
        completion(session, canvas, ann, 3, None)
        session.add_all(
            [
                credential("mh", ann.id),
                credential("crisis", ann.id, tier="crisis"),
                credential("expired", ann.id, valid_until=TODAY),
                credential("revoked", ann.id, status="revoked"),
            ]
        )
    with sessions() as session:
        mh = session.get_one(Credential, "mh")
        notice = notice_for(session, mh, canvas.id, TODAY)
    assert notice.accounts == ("https://canvas.example|9",)
    assert notice.others_valid == ("crisis",)
