"""The command line run in this process (so `responses` fakes apply): exit code, stdout, stderr."""

from __future__ import annotations

import pytest

from onemind.cli import main


def onemind(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
