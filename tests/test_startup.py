"""`onemind --help` starts about as fast as Python itself: heavy libraries load where used."""

from __future__ import annotations

import json
import subprocess
import sys
from time import perf_counter

import pytest

HEAVY = [
    "alembic",
    "apscheduler",
    "celery",
    "cryptography",
    "fpdf",
    "jinja2",
    "joserfc",
    "matplotlib",
    "openpyxl",
    "pydantic",
    "rapidfuzz",
    "requests",
    "rich",
    "sqlalchemy",
    "yaml",
]

LOADED = """
import json, sys
from onemind.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})), file=sys.stderr)
"""

RATIO = 15
"""The target (0.3 s against a 0.02 s floor) with room for a busy shared machine."""


@pytest.mark.parametrize(
    "args", [["--help"], ["coverage", "--help"], ["mapping", "add", "--help"], ["--version"]]
)
def test_help_loads_no_heavy_library(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", LOADED, *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stderr.splitlines()[-1]))
    assert sorted(loaded & set(HEAVY)) == []


def fastest(runs: list[list[str]], times: int = 5) -> list[float]:
    """The least wall time of each command, the commands taking turns."""
    best = [float("inf")] * len(runs)
    for _ in range(times):
        for i, command in enumerate(runs):
            started = perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL, timeout=60)
            best[i] = min(best[i], perf_counter() - started)
    return best


def test_help_starts_within_a_small_multiple_of_bare_python() -> None:
    floor, ours = fastest(
        [[sys.executable, "-c", "pass"], [sys.executable, "-m", "onemind", "--help"]]
    )
    assert ours <= RATIO * floor, f"onemind --help {ours:.3f} s, python -c pass {floor:.3f} s"
