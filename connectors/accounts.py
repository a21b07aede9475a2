"""A person's account on an LMS as our records name it: `site|user id`, the way xAPI names
accounts (home page and name), so that a push finds the user again without a lookup."""

from __future__ import annotations

from collections.abc import Iterable


def account(site: str, user_id: int | str) -> str:
    """The account of user `user_id` on `site` (the source's base URL)."""
    return f"{site}|{user_id}"


def user_on(site: str, accounts: Iterable[str]) -> int | None:
    """The user id of the first of these accounts that is on `site`, if any."""
    ids = [a.removeprefix(f"{site}|") for a in accounts if a.startswith(f"{site}|")]
    return next((int(i) for i in ids if i.isdigit()), None)
