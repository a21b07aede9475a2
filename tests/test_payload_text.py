"""A page of statements read with each statement's own JSON text: parsed as `json.loads`
parses it, errors alike, and a text kept only where the store can keep it as it is."""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields, replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onemind.domain.payload_text import MAX_DEPTH, object_with_texts
from onemind.domain.records import CompletionRecord
from onemind.store.payloads import pack, unpack
from onemind.store.repeats import fingerprint
from onemind.store.screening import screen

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(
    st.dictionaries(st.text(), json_values, max_size=3),
    st.lists(json_values, max_size=6),
    st.sampled_from([None, 0, 2]),
)
def test_a_page_parses_as_json_loads_parses_it(
    others: dict[str, Any], items: list[Any], indent: int | None
) -> None:
    text = json.dumps({**others, "statements": items}, indent=indent)
    parsed, texts = object_with_texts(text, "statements")
    assert parsed == json.loads(text)
    assert len(texts) == len(items)
    assert [json.loads(t) for t in texts if t is not None] == [
        item for item, t in zip(items, texts, strict=True) if t is not None
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        '{"a": 1,}',
        '{"a" 1}',
        '{"statements": [',
        '{"statements": [1, 2,]}',
        '{"statements": [1 2]}',
        '{"statements": [1]} x',
        '{"statements": [1], "more": }',
        "\ufeff{}",
    ],
)
def test_what_is_not_json_fails_as_json_loads_fails(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as ours:
        object_with_texts(text, "statements")
    assert (ours.value.msg, ours.value.pos) == (expected.value.msg, expected.value.pos)


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    ("item", "kept"),
    [
        ('{"a": "plain"}', True),
        ('{"a": "caf\\u00e9", "b": [1, 2.5, -3e10, true, null]}', True),
        ('{"a": "\\u0000"}', False),
        ('{"a\\u0000": 1}', False),
        ('{"a": NaN}', False),
        ('{"a": [Infinity]}', False),
        ('{"a": -Infinity}', False),
        ('{"a": 1e999}', False),
        ('{"a": 1e308}', True),
        (nested(MAX_DEPTH - 2), True),
        (nested(MAX_DEPTH), False),
    ],
)
def test_a_text_is_kept_only_when_the_store_can_keep_it(item: str, kept: bool) -> None:
    page = f'{{"statements": [{item}, {{"b": 2}}], "more": ""}}'
    parsed, texts = object_with_texts(page, "statements")
    assert texts == [item if kept else None, '{"b": 2}']
    assert repr(parsed["statements"][0]) == repr(json.loads(item))  # NaN is not equal to itself


@pytest.mark.parametrize(
    "text",
    ["[1, 2]", '{"more": ""}', '{"statements": {"a": 1}}', '{"statements": [1], "statements": 2}'],
)
def test_no_texts_without_a_statements_array(text: str) -> None:
    assert object_with_texts(text, "statements") == (json.loads(text), [])


def completion(payload: dict[str, Any], text: str | None) -> CompletionRecord:
    return CompletionRecord(
        external_id="s1",
        location="statement s1",
        course_key="cit",
        course_title="CIT",
        completed_on=date(2025, 3, 1),
        email="ann@a.example",
        payload=payload,
        payload_text=text,
    )


def test_the_store_keeps_a_cleared_text_as_it_was_sent() -> None:
    sent = '{"id": "s1", "result": {"score": {"raw": 1.50}}, "name": "caf\\u00e9"}'
    [text] = object_with_texts(f'{{"statements": [{sent}]}}', "statements")[1]
    record = completion(json.loads(sent), text)
    assert screen(record, date(2025, 3, 2)) is record
    assert unpack(pack([record.payload_text or "", {"other": 1}])) == [
        json.loads(sent),
        {"other": 1},
    ]


def test_a_digest_changes_with_the_text_and_with_what_was_read_from_it() -> None:
    payload = {"id": "s1"}
    digest = fingerprint(completion(payload, '{"id": "s1"}'))
    assert fingerprint(completion(payload, '{"id": "s1"}')) == digest
    assert fingerprint(completion(payload, '{"id":"s1"}')) != digest
    retitled = replace(completion(payload, '{"id": "s1"}'), course_title="CIT 2")
    assert fingerprint(retitled) != digest


def test_a_digest_without_a_text_is_what_it_was() -> None:
    """Records of sources that send no text keep their digests, so nothing is rewritten."""
    record = completion({"id": "s1"}, None)
    values = tuple(
        getattr(record, f.name)
        for f in fields(record)
        if f.name not in ("location", "payload_text", "digest")
    )
    assert fingerprint(record) == hashlib.sha256(repr(values).encode()).hexdigest()
