"""Screening of a record's text: a record is quarantined exactly when one of its text fields
holds a NUL or is longer than its column keeps, and the reason names the first such field."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from onemind.domain.records import CompletionRecord, Rejected, RosterEntry
from onemind.store.screening import _shape, screen

TODAY = date(2026, 11, 26)
LIMITS = dict(zip(_shape(CompletionRecord).names, _shape(CompletionRecord).limits, strict=True))


def text_near(limit: int) -> st.SearchStrategy[str]:
    """Text of a length on either side of `limit`, now and then with a NUL in it."""
    return st.builds(
        lambda length, nul: "x" * (length - 1) + "\x00" if nul and length else "x" * length,
        st.sampled_from([0, 1, 4, limit - 1, limit, limit + 1]),
        st.booleans(),
    )


def optional_text(field: str) -> st.SearchStrategy[str | None]:
    return st.none() | text_near(LIMITS[field]) | st.text(max_size=6)


@given(
    external_id=text_near(LIMITS["external_id"]),
    course_key=text_near(LIMITS["course_key"]),
    course_title=text_near(LIMITS["course_title"]),
    employee_id=optional_text("employee_id"),
    email=optional_text("email"),
    mbox_sha1sum=optional_text("mbox_sha1sum"),
    account=optional_text("account"),
    agency=optional_text("agency"),
    provider=optional_text("provider"),
    activity_type=optional_text("activity_type"),
)
def test_a_completion_is_quarantined_for_the_first_text_that_cannot_be_kept(
    **texts: str | None,
) -> None:
    record = CompletionRecord(location="f.csv:2", completed_on=date(2024, 1, 1), **texts)  # type: ignore[arg-type]
    values = dict(
        zip(_shape(CompletionRecord).names, _shape(CompletionRecord).values(record), strict=True)
    )
    bad = [
        name
        for name, value in values.items()
        if value is not None and ("\x00" in value or len(value) > LIMITS[name])
    ]
    result = screen(record, TODAY)
    if not bad:
        assert result is record
    else:
        assert isinstance(result, Rejected)
        assert result.reason.startswith(f"{bad[0]}: ")


def test_a_roster_entry_with_a_long_name_or_a_nul_is_quarantined() -> None:
    entry = RosterEntry(
        external_id="a-pd:E1",
        location="roster.csv:2",
        agency="a-pd",
        employee_id="E1",
        first_name="Ann",
        last_name="Lee",
        email=None,
        sworn=True,
        position="Officer",
        selected=None,
        hired_on=date(2020, 1, 1),
        separated_on=None,
    )
    assert screen(entry, TODAY) is entry
    limit = dict(zip(_shape(RosterEntry).names, _shape(RosterEntry).limits, strict=True))
    long_name = RosterEntry(**{**_fields(entry), "last_name": "L" * (limit["last_name"] + 1)})
    with_nul = RosterEntry(**{**_fields(entry), "position": "Offi\x00cer"})
    assert screen(long_name, TODAY).reason.startswith("last_name: ")  # type: ignore[union-attr]
    assert screen(with_nul, TODAY).reason.startswith("position: contains a NUL")  # type: ignore[union-attr]


def _fields(entry: RosterEntry) -> dict[str, object]:
    return {name: getattr(entry, name) for name in entry.__slots__}
