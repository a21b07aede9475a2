"""Paginators: where a listing's next page is, one small object per way of paging.

A connector reads the page at `current`, hands it to `advance()`, and stops once `finished`.
Every paginator refuses to be led to a page it has been to already (a server that loops),
through the one `PageGuard`. (After meltano's singer_sdk pagination, with the guard widened
from the last token to every one seen.)
"""

from __future__ import annotations

import abc
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import urljoin

import requests

from onemind.connectors.http import mask_url, origin, stay_on
from onemind.errors import SourceError

Token = TypeVar("Token")
PageT = TypeVar("PageT")


class PageGuard:
    """The pages a listing has been led to; the same one twice means the server loops."""

    def __init__(self, source: str, what: str) -> None:
        self.source = source
        self.what = what
        self.seen: set[Hashable] = set()

    def visit(self, mark: Hashable, shown: str) -> None:
        """Note a page by `mark` (its link, or what it holds).

        Raises:
            SourceError: that page was seen before.
        """
        if mark in self.seen:
            raise SourceError(
                f"source {self.source!r}: the server sent the same {self.what} twice "
                f"({shown}); stopping"
            )
        self.seen.add(mark)


class Paginator(abc.ABC, Generic[Token, PageT]):
    """Reads a listing page by page: `current` says which page to ask for next."""

    what: ClassVar[str] = "page"

    def __init__(self, source: str, start: Token) -> None:
        self.source = source
        self.current = start
        self.finished = False
        self.guard = PageGuard(source, self.what)

    def advance(self, page: PageT) -> None:
        """Move on to the page after `page`, or finish after the last one.

        Raises:
            SourceError: the server loops, or leads somewhere the paginator will not go.
        """
        following = self.following(page)
        if following is None:
            self.finished = True
        else:
            self.current = following

    @abc.abstractmethod
    def following(self, page: PageT) -> Token | None:
        """The token of the page after `page`; None when `page` was the last."""


@dataclass(frozen=True)
class CountedPage:
    """What a counted paginator needs of a page: its items' keys and any total the server gives."""

    keys: tuple[Hashable, ...]
    total: int | None = None


class _Counted(Paginator[int, CountedPage]):
    """Pages asked for by number or offset. A short page does not end the listing (a server may
    leave out of a page the items it will not show): an empty page does, or the reported total."""

    def __init__(self, source: str, size: int, start: int = 0) -> None:
        super().__init__(source, start)
        self.size = size

    def ended(self, page: CountedPage, read: int) -> bool:
        """Whether `page` is the last, `read` being how many items the pages so far spanned."""
        if not page.keys:
            return True
        self.guard.visit(page.keys, f"{self.what} at {self.current}")
        return page.total is not None and read >= page.total


class OffsetPaginator(_Counted):
    """Offset and limit (Moodle's `limitfrom`/`limitnumber`): the next page starts a size on."""

    what = "page of items"

    def following(self, page: CountedPage) -> int | None:
        following = self.current + self.size
        return None if self.ended(page, following) else following


class PageNumberPaginator(_Counted):
    """Numbered pages (Moodle's report pages, from 0): the next page is the next number."""

    what = "page"

    def __init__(self, source: str, size: int, first: int = 0) -> None:
        super().__init__(source, size, first)
        self.first = first

    def following(self, page: CountedPage) -> int | None:
        following = self.current + 1
        return None if self.ended(page, (following - self.first) * self.size) else following


class _Links(Paginator[str, PageT]):
    """Pages named by links, relative ones resolved against the source's endpoint. Only links on
    the endpoint's origin are followed: the credentials must never go to another server."""

    def __init__(self, source: str, endpoint: str, first: str) -> None:
        super().__init__(source, first)
        self.endpoint = endpoint
        self.origin = origin(endpoint)

    def following(self, page: PageT) -> str | None:
        link = self.link(page)
        if not link:
            return None
        url = urljoin(self.endpoint, link)
        stay_on(self.origin, url, self.source, f"the server sent a {self.what} to")
        self.guard.visit(url, mask_url(url))
        return url

    @abc.abstractmethod
    def link(self, page: PageT) -> str | None:
        """The link to the next page that `page` gives, if any."""


class MoreLinkPaginator(_Links[Any]):
    """xAPI: advanced with a StatementResult's `more`, relative or absolute, empty at the end."""

    what = "'more' link"

    def link(self, page: Any) -> str | None:
        if page and not isinstance(page, str):
            raise SourceError(f"source {self.source!r}: 'more' is not a link: {page!r}")
        return page or None


class HeaderLinkPaginator(_Links[requests.Response]):
    """`Link: <…>; rel="next"` response headers (Canvas)."""

    what = "next page link"

    def link(self, page: requests.Response) -> str | None:
        url = page.links.get("next", {}).get("url")
        return str(url) if url else None
