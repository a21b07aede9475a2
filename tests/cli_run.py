"""The command line run in this process (so `responses` fakes apply): exit code, stdout, stderr."""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Mapping
from contextlib import chdir, redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

import pytest

from onemind.cli import main


def exit_code(*args: str) -> int:
    """`onemind ARGS` run in this process: the exit code it ends with."""
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def onemind(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = exit_code(*args)
    out, err = capsys.readouterr()
    return code, out, err


def run_in(
    directory: Path, *args: str, env: Mapping[str, str | None] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command line run in this process in `directory`, with `env` set in the environment
    (None: unset): what `python -m onemind ARGS` there would give, without starting a Python."""
    out, err = io.StringIO(), io.StringIO()
    with chdir(directory), mock.patch.dict(os.environ), redirect_stdout(out), redirect_stderr(err):
        for name, value in (env or {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        code = exit_code(*args)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())
