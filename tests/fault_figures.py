"""Figures the fault and kill tests measure, printed at the end of the session.

Registered as a pytest plugin in conftest.py; tests add to `FIGURES`.
"""

from __future__ import annotations

from collections import Counter

import pytest

FIGURES: Counter[str] = Counter()

LINES = (
    ("LRS faults", ("faults injected", "faults survived", "data lost")),
    ("LRS runs failed by a fault", ("failed runs", "failed runs that kept pages")),
    ("kill -9", ("kills", "identical resumes")),
)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("faults and kills")
    for title, names in LINES:
        shown = ", ".join(f"{name}: {FIGURES[name]}" for name in names if name in FIGURES)
        if shown:
            terminalreporter.write_line(f"{title}: {shown}")
