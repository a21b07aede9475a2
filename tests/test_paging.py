"""The paginator family: where each next page is, when a listing ends, and loops refused."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses
from fixtures.moodle.fake import connector, enrolled, reply, status

from onemind.connectors.paging import (
    CountedPage,
    HeaderLinkPaginator,
    MoreLinkPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    Paginator,
)
from onemind.domain.records import CompletionRecord
from onemind.errors import SourceError

LRS = "https://lrs.example/xAPI/"


def walk(paginator: Paginator[Any, Any], pages: list[Any]) -> list[Any]:
    """The tokens a paginator asks for, fed these pages in turn, until it finishes."""
    asked = [paginator.current]
    for page in pages:
        paginator.advance(page)
        if paginator.finished:
            return asked
        asked.append(paginator.current)
    raise AssertionError(f"still paging after {len(pages)} pages")


def counted(*ids: int, total: int | None = None) -> CountedPage:
    return CountedPage(tuple(ids), total)


@pytest.mark.parametrize(
    ("pages", "asked"),
    [
        ([counted(1, 2), counted(3), counted()], [0, 2, 4]),  # a short page is not the last
        ([counted(1, 2), counted(), counted(9)], [0, 2]),
        ([counted()], [0]),
        ([counted(1, 2, total=3), counted(3, total=3)], [0, 2]),  # the total ends it
        ([counted(1, total=3), counted(3, total=3)], [0, 2]),  # whatever the page held
        ([counted(1, 2, total=2)], [0]),
    ],
)
def test_offsets_go_a_page_size_on_until_an_empty_page_or_the_total(
    pages: list[CountedPage], asked: list[int]
) -> None:
    assert walk(OffsetPaginator("m", 2), pages) == asked


@pytest.mark.parametrize(
    ("first", "pages", "asked"),
    [
        (0, [counted(1, 2, total=5), counted(3, 4, total=5), counted(5, total=5)], [0, 1, 2]),
        (0, [counted(1, 2, total=4), counted(3, 4, total=4)], [0, 1]),
        (1, [counted(1, 2, total=3), counted(3, total=3)], [1, 2]),
        (0, [counted(1), counted(2), counted()], [0, 1, 2]),  # no total: up to an empty page
        (0, [counted(total=9)], [0]),
    ],
)
def test_page_numbers_count_up_until_an_empty_page_or_the_total(
    first: int, pages: list[CountedPage], asked: list[int]
) -> None:
    assert walk(PageNumberPaginator("m", 2, first), pages) == asked


@pytest.mark.parametrize("paginator", [OffsetPaginator("m", 2), PageNumberPaginator("m", 2)])
def test_a_counted_listing_that_serves_the_same_page_again_is_refused(
    paginator: Paginator[int, CountedPage],
) -> None:
    paginator.advance(counted(1, 2))
    paginator.advance(counted(3, 4))
    with pytest.raises(SourceError, match=r"source 'm': the server sent the same page.* twice"):
        paginator.advance(counted(1, 2))


@pytest.mark.parametrize(
    ("mores", "asked"),
    [
        (["/xAPI/statements?more=a", "statements?more=b", ""], ["a", "b"]),
        ([LRS + "statements?more=a", None], ["a"]),
        ([""], []),
    ],
)
def test_more_links_relative_or_absolute_are_resolved_against_the_endpoint(
    mores: list[Any], asked: list[str]
) -> None:
    first = LRS + "statements"
    pages = walk(MoreLinkPaginator("lrs", LRS, first), mores)
    assert pages == [first, *(f"{first}?more={token}" for token in asked)]


def test_a_more_link_seen_before_or_not_a_link_is_refused() -> None:
    links = MoreLinkPaginator("lrs", LRS, LRS + "statements")
    links.advance("/xAPI/statements?more=a")
    links.advance("/xAPI/statements?more=b")
    with pytest.raises(SourceError, match=r"source 'lrs': .*same 'more' link twice .*more=a"):
        links.advance(LRS + "statements?more=a")
    with pytest.raises(SourceError, match=r"source 'lrs': 'more' is not a link: \{'page': 2\}"):
        MoreLinkPaginator("lrs", LRS, LRS + "statements").advance({"page": 2})


def linked(next_url: str | None) -> requests.Response:
    response = requests.Response()
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next", <{next_url}&x=1>; rel="last"'
    return response


def test_header_links_are_followed_until_there_is_no_next_and_never_twice() -> None:
    api = "https://canvas.example/api/v1/courses/1/users"
    links = HeaderLinkPaginator("c", "https://canvas.example", api)
    assert walk(links, [linked(f"{api}?page=2"), linked(f"{api}?page=3"), linked(None)]) == [
        api,
        f"{api}?page=2",
        f"{api}?page=3",
    ]
    looping = HeaderLinkPaginator("c", "https://canvas.example", api)
    looping.advance(linked(f"{api}?page=2"))
    with pytest.raises(SourceError, match=r"source 'c': .*same next page link twice"):
        looping.advance(linked(f"{api}?page=2"))


@responses.activate(assert_all_requests_are_fired=True)
def test_moodle_reads_past_a_short_page_of_people_until_an_empty_one() -> None:
    reply("core_course_get_courses_by_field", fixture="courses_12", field="ids", value="12")
    enrolled(12, 0, "enrolled_users_15_page1")  # one person where two were asked for
    enrolled(12, 2, "enrolled_users_12_page2")
    enrolled(12, 4, "enrolled_users_none")
    status(12, 101, "status_complete_all")
    status(12, 103, "status_complete_any")
    moodle, _ = connector(course_ids=[12])
    found = [i.external_id for i in moodle.pull(None) if isinstance(i, CompletionRecord)]
    assert found == ["moodle:12:alee", "moodle:12:corr"]


@responses.activate(assert_all_requests_are_fired=True)
def test_moodle_refuses_a_site_that_serves_the_same_people_whatever_the_offset() -> None:
    reply("core_course_get_courses_by_field", fixture="courses_12", field="ids", value="12")
    enrolled(12, 0, "enrolled_users_12_page1")
    enrolled(12, 2, "enrolled_users_12_page1")
    status(12, 101, "status_complete_all")
    status(12, 102, "status_incomplete")
    moodle, _ = connector(course_ids=[12])
    with pytest.raises(SourceError, match="'academy-moodle': the server sent the same page of"):
        list(moodle.pull(None))
