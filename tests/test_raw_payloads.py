"""Raw payloads of a load are kept per batch, compressed, and read back per record."""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_sync import COMPLETIONS, make_settings, run

from onemind.store.models import RawBatch, RawRecord
from onemind.store.payloads import pack, payloads_of, unpack


def stored_payloads(sessions: sessionmaker[Session]) -> dict[str, dict[str, str]]:
    with sessions() as session:
        records = session.execute(
            select(RawRecord.id, RawRecord.location, RawRecord.payload, RawRecord.batch_id)
        ).all()
        assert all(payload is None and batch is not None for _, _, payload, batch in records)
        found = payloads_of(session, [raw_id for raw_id, *_ in records])
    return {location: found[raw_id] for raw_id, location, *_ in records}


def test_a_batch_round_trips_what_json_can_hold() -> None:
    payloads = [{"a": "é\u2028", "n": [1, 2.5, None, True]}, {}, {"deep": {"x": {"y": "z"}}}]
    assert unpack(pack(payloads)) == payloads


def test_a_batch_of_the_same_fields_keeps_them_once_and_round_trips() -> None:
    rows = [
        {"employee_id": "7", "course_id": "CIT-40", "hours": "40", "nested": {"a": [1, None]}},
        {"course_id": "MHFA", "employee_id": "8", "nested": None, "hours": ""},
        {"employee_id": "", "course_id": "é\u2028", "hours": "8", "nested": 2.5},
    ]
    kept = json.loads(zlib.decompress(pack(rows)))
    assert kept["fields"] == ["employee_id", "course_id", "hours", "nested"]
    assert len(kept["rows"]) == 3
    assert unpack(pack(rows)) == rows


@pytest.mark.parametrize(
    "payloads",
    [
        [{"a": "1", "b": "2"}, {"a": "1", "c": "2"}],  # other fields
        [{"a": "1", "b": "2"}, {"a": "1"}],  # fewer fields
        [{"a": "1"}, {"a": "2"}],  # one field
        [{"a": "1", "b": "2"}],  # one payload
    ],
)
def test_other_batches_keep_their_payloads_as_an_array(payloads: list[dict[str, str]]) -> None:
    assert type(json.loads(zlib.decompress(pack(payloads)))) is list
    assert unpack(pack(payloads)) == payloads


def test_a_batch_packed_as_an_array_before_reads_back() -> None:
    """Batches stored before the fields were kept once are arrays of objects."""
    payloads = [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]
    assert unpack(zlib.compress(json.dumps(payloads).encode())) == payloads


def test_each_record_reads_back_its_row_and_a_changed_row_its_new_one(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    (tmp_path / "roster.csv").write_text("agency,employee_id,first_name,last_name,sworn,hired_on\n")
    (tmp_path / "completions.csv").write_text(COMPLETIONS)
    settings = make_settings(tmp_path)
    run(settings, sessions, now)
    first = stored_payloads(sessions)
    assert sorted(first) == [f"completions.csv:{line}" for line in range(2, 6)]
    assert first["completions.csv:3"] == {
        "employee_id": "",
        "email": "BOB@a.example",
        "course_id": "MHFA-PS",
        "course_title": "Mental Health First Aid for Public Safety",
        "provider": "",
        "hours": "8",
        "completed_on": "2025-01-01",
        "expires_on": "",
    }
    (tmp_path / "completions.csv").write_text(
        COMPLETIONS.replace(",8,2025-01-01,\n,cat", ",8,2025-01-01,2025-06-01\n,cat")
    )
    run(settings, sessions, now)
    second = stored_payloads(sessions)
    assert second["completions.csv:3"]["expires_on"] == "2025-06-01"
    assert {k: v for k, v in second.items() if k != "completions.csv:3"} == {
        k: v for k, v in first.items() if k != "completions.csv:3"
    }
    with sessions() as session:
        assert len(session.scalars(select(RawBatch.id)).all()) == 2
