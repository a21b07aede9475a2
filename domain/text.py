"""Untrusted text made safe to show: what a terminal, a report or an e-mail may print."""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: str) -> str:
    """Untrusted text made safe for a terminal: control characters (escape codes) replaced."""
    return CONTROL.sub("?", text)
