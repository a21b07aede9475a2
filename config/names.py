"""What staff may have meant: the nearest known name to a mistyped one, and the known ones."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

SHOWN = 10


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest known name, else the empty string."""
    close = difflib.get_close_matches(name, sorted(set(known)), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def listing(known: Iterable[str]) -> str:
    """The known names, at most SHOWN of them, then how many more."""
    names = sorted(set(known))
    if not names:
        return "none"
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def unknown_names(what: str, names: Iterable[str], known: Iterable[str], where: str) -> str:
    """`no agency 'nope' in the store (did you mean …?); known: a, b`: one line for staff."""
    choices = list(known)
    missing = [f"no {what} {name!r} {where}{did_you_mean(name, choices)}" for name in names]
    return "; ".join(missing) + f"; known: {listing(choices)}"
