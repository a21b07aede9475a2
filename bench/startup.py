"""Start-up benchmark: `onemind --help` against the floor, a bare `python -c pass`.

Each command runs in a fresh process, the commands taking turns so that a busy machine slows
them alike; the minimum is the figure to compare (the least the machine allowed), the median
shows the noise. Run it from the repository root:

    .venv/bin/python bench/startup.py --runs 20
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path
from time import perf_counter

PACKAGE = Path(__file__).resolve().parent.parent

COMMANDS = {
    "floor: python -c pass": [sys.executable, "-c", "pass"],
    "onemind --help": [sys.executable, "-m", "onemind", "--help"],
    "onemind coverage --help": [sys.executable, "-m", "onemind", "coverage", "--help"],
    "onemind --version": [sys.executable, "-m", "onemind", "--version"],
}


def wall_time(command: list[str]) -> float:
    """Seconds from start to exit of one fresh process."""
    started = perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return perf_counter() - started


def compile_package() -> None:
    """Compile the package's bytecode once, as `pip install` does for the image: an editable
    install run with PYTHONDONTWRITEBYTECODE (as here) would otherwise compile every module
    it imports in every process, a cost no deployment pays."""
    compileall.compile_dir(PACKAGE, quiet=1, rx=re.compile(r"[/\\]\.(ralph-)?venv"))


def measure(runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            times[name].append(wall_time(command))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="Runs of each command.")
    args = parser.parse_args()
    compile_package()
    times = measure(args.runs)
    floor = min(next(iter(times.values())))
    print(f"{'command':<26} {'min s':>7} {'median s':>9} {'min / floor':>12}")
    for name, seconds in times.items():
        fastest = min(seconds)
        print(
            f"{name:<26} {fastest:>7.3f} {statistics.median(seconds):>9.3f} "
            f"{fastest / floor:>11.1f}x"
        )
    print(
        f"{args.runs} runs each, taking turns, bytecode compiled; target for onemind --help: "
        f"0.300 s; load {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
