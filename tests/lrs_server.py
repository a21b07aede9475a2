"""A real xAPI LRS for the test-suite: Ralph (ralph-malph 5.1.0) on its filesystem backend.

Registered as a pytest plugin (``pytest_plugins = ["lrs_server"]`` in conftest.py). It
gives two fixtures:

- ``lrs`` (session): builds, if needed, a separate venv with Ralph (its pins clash with
  ours), starts ``uvicorn ralph_app:app`` from it on a free loopback port and yields an
  :class:`LrsServer`. The server is killed at the end of the session.
- ``fresh_lrs`` (function): the same server with its statement store emptied first.
  The fs backend re-reads its single JSONL file on every request, so deleting the file
  is all it takes (no restart). Tests that use ``lrs`` directly share the store with
  every other test of the session and should use actors/activities of their own.

The venv lives in ``<repo>/.ralph-venv/venv`` (override: ``ONEMIND_TEST_RALPH_VENV``, the
folder that holds ``venv/`` and ``lock``), guarded by an fcntl lock so that parallel
sessions build it once, and is rebuilt when importing Ralph in it fails or the pinned
requirements change. Under ``CI=true`` failing to build or start it fails the tests;
elsewhere the tests are skipped only when the package index cannot be reached.

Ralph's known deviations from xAPI 1.0.3 are not corrected here; see
``tests/test_lrs_server.py``, which pins them down.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

RALPH_REQUIREMENTS = ("ralph-malph[lrs]==5.1.0", "requests")
XAPI_VERSION = "1.0.3"
START_TIMEOUT = 60.0
INSTALL_TIMEOUT = 1200.0

REPO = Path(__file__).resolve().parents[1]
APP_DIR = Path(__file__).resolve().parent / "lrs"
CACHE_DIR = Path(os.environ.get("ONEMIND_TEST_RALPH_VENV") or REPO / ".ralph-venv")
VENV = CACHE_DIR / "venv"
STAMP = VENV / "onemind-requirements.txt"
STATEMENTS_FILE = "fs_lrs.jsonl"  # FSLRSBackendSettings.DEFAULT_LRS_FILE

_VERIFY = """
from importlib.metadata import version
import bcrypt, requests, uvicorn
import ralph.backends.lrs.fs
assert version("ralph-malph") == "5.1.0", version("ralph-malph")
"""
_HASH = (
    "import sys, bcrypt; print(bcrypt.hashpw(sys.stdin.buffer.read(), bcrypt.gensalt(4)).decode())"
)
# What pip prints when it cannot reach the index at all (as opposed to a broken build).
_OFFLINE_MARKERS = (
    "NewConnectionError",
    "ConnectTimeoutError",
    "Failed to establish a new connection",
    "NameResolutionError",
    "Failed to resolve",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Max retries exceeded",
    "ProxyError",
)


class RalphUnavailable(Exception):
    """Ralph could not be installed; ``offline`` when the package index was unreachable."""

    def __init__(self, message: str, *, offline: bool = False) -> None:
        super().__init__(message)
        self.offline = offline


@dataclass(frozen=True)
class LrsServer:
    """A running Ralph LRS. ``endpoint`` ends with ``/xAPI/``."""

    endpoint: str
    username: str
    password: str
    directory: Path  # the fs backend's DEFAULT_DIRECTORY_PATH
    log: Path  # uvicorn's stdout and stderr

    @property
    def statements_file(self) -> Path:
        return self.directory / STATEMENTS_FILE

    @property
    def auth(self) -> tuple[str, str]:
        return (self.username, self.password)

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Experience-API-Version": XAPI_VERSION}

    def url(self, path: str = "statements") -> str:
        """``path`` relative to the endpoint, or absolute (``/xAPI/...``, as in ``more``)."""
        if path.startswith("/"):
            return self.endpoint.split("/xAPI/", 1)[0] + path
        return self.endpoint + path

    def request(self, method: str, path: str = "statements", **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        kwargs.setdefault("timeout", 30)
        return requests.request(method, self.url(path), auth=self.auth, headers=headers, **kwargs)

    def post_statements(self, statements: Sequence[Mapping[str, Any]]) -> list[str]:
        """POST statements; return the ids the LRS reports (``[]`` on 204: all known)."""
        response = self.request("POST", json=list(statements))
        if response.status_code == 204:
            return []
        if response.status_code != 200:
            raise AssertionError(f"POST statements: {response.status_code} {response.text[:2000]}")
        return response.json()

    def get_statements(self, **params: Any) -> dict[str, Any]:
        """One page of GET statements (``{"statements": [...], "more": ...}``)."""
        response = self.request("GET", params=params)
        if response.status_code != 200:
            raise AssertionError(
                f"GET statements {params}: {response.status_code} {response.text[:2000]}"
            )
        return response.json()

    def all_statements(self, **params: Any) -> list[dict[str, Any]]:
        """Every page, following ``more`` (relative to the server root)."""
        result = self.get_statements(**params)
        statements = list(result["statements"])
        while result.get("more"):
            response = self.request("GET", result["more"])
            if response.status_code != 200:
                raise AssertionError(f"GET {result['more']}: {response.status_code}")
            result = response.json()
            statements += result["statements"]
        return statements

    def clear(self) -> None:
        """Forget every stored statement (the server keeps running)."""
        self.statements_file.unlink(missing_ok=True)


def _run(cmd: Sequence[str | os.PathLike[str]], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd],
        stdin=kwargs.pop("stdin", subprocess.DEVNULL),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        **kwargs,
    )


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _venv_ok() -> bool:
    if not _venv_python().exists() or not STAMP.exists():
        return False
    if STAMP.read_text() != "\n".join(RALPH_REQUIREMENTS) + "\n":
        return False
    return _run([_venv_python(), "-c", _VERIFY], timeout=120).returncode == 0


def ensure_ralph_venv() -> Path:
    """Return the Ralph venv's python, building the venv first if needed."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held until the venv is built or known good
        if _venv_ok():
            return _venv_python()
        shutil.rmtree(VENV, ignore_errors=True)
        created = _run([sys.executable, "-m", "venv", VENV], timeout=300)
        if created.returncode != 0:
            raise RalphUnavailable(f"python -m venv {VENV} failed:\n{created.stdout}")
        try:
            installed = _run(
                [
                    _venv_python(),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    *RALPH_REQUIREMENTS,
                ],
                timeout=INSTALL_TIMEOUT,
            )
        except subprocess.TimeoutExpired as exc:
            shutil.rmtree(VENV, ignore_errors=True)
            raise RalphUnavailable(
                f"pip install {' '.join(RALPH_REQUIREMENTS)} took over {INSTALL_TIMEOUT:.0f} s",
                offline=True,
            ) from exc
        if installed.returncode != 0:
            shutil.rmtree(VENV, ignore_errors=True)
            raise RalphUnavailable(
                f"pip install {' '.join(RALPH_REQUIREMENTS)} failed "
                f"(exit {installed.returncode}):\n{installed.stdout}",
                offline=any(marker in installed.stdout for marker in _OFFLINE_MARKERS),
            )
        verified = _run([_venv_python(), "-c", _VERIFY], timeout=120)
        if verified.returncode != 0:
            shutil.rmtree(VENV, ignore_errors=True)
            raise RalphUnavailable(f"Ralph does not import after install:\n{verified.stdout}")
        STAMP.write_text("\n".join(RALPH_REQUIREMENTS) + "\n")
        return _venv_python()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_up(process: subprocess.Popen[bytes], base: str) -> str | None:
    """None once the server answers; else why it did not (it is then stopped)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"exited with {process.returncode}"
        try:
            if requests.get(f"{base}/__lbheartbeat__", timeout=2).status_code == 200:
                return None
        except requests.RequestException:
            pass
        time.sleep(0.1)
    _stop(process)
    return f"did not answer within {START_TIMEOUT:.0f} s"


def start_ralph(
    python: Path, run_dir: Path, username: str, password: str
) -> tuple[subprocess.Popen[bytes], LrsServer]:
    """Start Ralph in ``run_dir`` (store, auth file, history, log); return it up."""
    store = run_dir / "store"
    store.mkdir(parents=True, exist_ok=True)
    hashed = _run([python, "-c", _HASH], stdin=None, input=password, timeout=60)
    if hashed.returncode != 0:
        raise RuntimeError(f"bcrypt in the Ralph venv failed:\n{hashed.stdout}")
    auth_file = run_dir / "auth.json"
    auth_file.write_text(
        json.dumps(
            [
                {
                    "username": username,
                    "hash": hashed.stdout.strip(),
                    "scopes": ["all"],
                    "agent": {"mbox": f"mailto:{username}@lrs.test"},
                }
            ]
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RALPH_")}
    env.update(
        RALPH_APP_DIR=str(run_dir),
        RALPH_AUTH_FILE=str(auth_file),
        RALPH_HISTORY_FILE=str(run_dir / "history.json"),
        RALPH_RUNSERVER_BACKEND="fs",
        RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH=str(store),
    )
    log = run_dir / "uvicorn.log"
    failures = []
    for _attempt in range(3):  # the free port may be taken between probe and bind
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    str(python),
                    "-m",
                    "uvicorn",
                    "ralph_app:app",
                    "--app-dir",
                    str(APP_DIR),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                cwd=run_dir,  # Ralph's settings read a .env from the working directory
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        why = _wait_until_up(process, base)
        if why is None:
            server = LrsServer(f"{base}/xAPI/", username, password, store, log)
            whoami = server.request("GET", "/whoami")
            if whoami.status_code == 200:
                return process, server
            _stop(process)
            raise RuntimeError(
                f"Ralph is up but rejects its user ({whoami.status_code} {whoami.text}):\n"
                + log.read_text(errors="replace")
            )
        output = log.read_text(errors="replace")
        failures.append(f"Ralph on port {port} {why}:\n{output}")
        if "address already in use" not in output.lower():
            break
    raise RuntimeError("\n\n".join(failures))


@pytest.fixture(scope="session")
def lrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LrsServer]:
    """A running Ralph LRS shared by the whole session."""
    in_ci = os.environ.get("CI") == "true"
    try:
        python = ensure_ralph_venv()
    except RalphUnavailable as exc:
        if exc.offline and not in_ci:
            last = str(exc).strip().splitlines()[-1]
            pytest.skip(f"cannot install Ralph, package index unreachable: {last}")
        pytest.fail(f"cannot install Ralph for the LRS tests: {exc}", pytrace=False)
    try:
        process, server = start_ralph(
            python, tmp_path_factory.mktemp("lrs"), "onemind", uuid.uuid4().hex
        )
    except RuntimeError as exc:
        pytest.fail(f"cannot start the Ralph LRS: {exc}", pytrace=False)
    try:
        yield server
    finally:
        _stop(process)


@pytest.fixture
def fresh_lrs(lrs: LrsServer) -> LrsServer:
    """The session's LRS with no statements stored."""
    lrs.clear()
    return lrs
