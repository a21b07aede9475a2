"""Load and validate the TOML configuration, reporting every problem in one error."""

from __future__ import annotations

import logging
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from onemind.config.model import Settings, reference_problems
from onemind.config.problems import (
    Loc,
    Problem,
    TomlLines,
    describe,
    located,
    misspelt,
    where,
)
from onemind.config.secrets import Secret, UnusableSecret, check_reference, resolve
from onemind.errors import ConfigurationError

log = logging.getLogger(__name__)
ENV_VARIABLE = "ONEMIND_CONFIG"
DEFAULT_NAME = "onemind.toml"
SECRET_KEYS = re.compile(r"(password|passphrase|token|secret|api_key)$")
SCHEMES = ("env:", "enc:")
DEFERRED = ("sources", "smtp")
"""Tables whose secrets are read only by the commands that use them (a sync, sending mail)."""


def config_path(explicit: str | Path | None, environ: dict[str, str] | None = None) -> Path:
    """`--config PATH`, else `$ONEMIND_CONFIG`, else `./onemind.toml`."""
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get(ENV_VARIABLE):
        return Path(env[ENV_VARIABLE])
    return Path(DEFAULT_NAME)


def load_settings(path: Path, environ: dict[str, str] | None = None) -> Settings:
    """Read and validate one configuration file (secrets are read when first used).

    Raises:
        ConfigurationError: naming the file and every problem found in it, with its line.
    """
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"{path}: configuration file not found (use --config or run "
            "'onemind demo' for a working example)"
        ) from exc
    except IsADirectoryError as exc:
        raise ConfigurationError(f"{path}: is a folder, not a configuration file") from exc
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the configuration: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from exc
    return parse_settings(raw, path, environ, TomlLines(text))


def parse_settings(
    raw: dict[str, Any],
    path: Path,
    environ: dict[str, str] | None = None,
    lines: TomlLines | None = None,
) -> Settings:
    """Validate an already parsed configuration; relative paths are taken from `path`'s folder.

    Secrets are checked for their form here; those of sources and of `[smtp]` are read only
    when a command uses them, the others (the store's, the certificates') here.
    """
    lines = lines or TomlLines("")
    problems: list[Problem] = []
    data = _secrets(raw, (), _Resolution(raw, lines, environ, problems))
    data["base_dir"] = path.parent.resolve()
    settings = None
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        errors = misspelt([e for e in exc.errors() if _reported(e)])
        problems += [describe(e, raw, lines, Settings) for e in errors]
    if settings is not None:
        problems += [located(loc, m, raw, lines) for loc, m in reference_problems(settings)]
    if problems or settings is None:
        listing = "\n".join(f"  - {p}" for p in sorted(problems, key=Problem.order))
        raise ConfigurationError(f"{path}: {len(problems)} problem(s):\n{listing}")
    _warn_of_clear_credentials(settings)
    return _absolute_paths(settings)


def _reported(error: Any) -> bool:
    """False for an error raised by the stand-in of a secret already reported."""
    return not isinstance(error.get("ctx", {}).get("error"), UnusableSecret)


def _warn_of_clear_credentials(settings: Settings) -> None:
    for source in settings.sources:
        url = source.clear_credentials_url()
        if url is not None:
            log.warning(
                "source %r: its credentials go unencrypted to %s: use https:// unless the "
                "network between is trusted",
                source.name,
                url,
            )


@dataclass
class _Resolution:
    raw: dict[str, Any]
    lines: TomlLines
    environ: dict[str, str] | None
    problems: list[Problem]


def _secrets(data: Any, loc: Loc, state: _Resolution) -> Any:
    """The raw settings with each secret reference turned into a `Secret`."""
    if isinstance(data, dict):
        return {k: _secret_entry(k, v, (*loc, k), state) for k, v in data.items()}
    if isinstance(data, list):
        return [_secrets(v, (*loc, i), state) for i, v in enumerate(data)]
    return data


def _secret_entry(key: str, value: Any, loc: Loc, state: _Resolution) -> Any:
    if not (isinstance(value, str) and (SECRET_KEYS.search(key) or value.startswith(SCHEMES))):
        return _secrets(value, loc, state)
    try:
        check_reference(value)
        if loc[0] not in DEFERRED:
            return resolve(value, state.environ)
    except ValueError as exc:
        state.problems.append(located(loc, str(exc), state.raw, state.lines))
        return Secret.unusable(value)
    return Secret.deferred(value, where(loc, state.raw), state.environ)


def _absolute_paths(settings: Settings) -> Settings:
    """Relative paths (sources' files, the SQLite file, the SMTP CA file) from the file's folder."""
    base = settings.base_dir
    sources = []
    for source in settings.sources:
        path = getattr(source, "path", None)
        if path is not None and not path.is_absolute():
            source = source.model_copy(update={"path": base / path})
        sources.append(source)
    smtp = settings.smtp
    if smtp is not None and smtp.ca_file is not None:
        smtp = smtp.model_copy(update={"ca_file": base / smtp.ca_file})
    store = settings.store.model_copy(update={"url": _absolute_sqlite(settings.store.url, base)})
    return settings.model_copy(update={"sources": sources, "store": store, "smtp": smtp})


def _absolute_sqlite(url: Secret, base: Path) -> Secret:
    prefix = "sqlite:///"
    value = url.get()
    relative = value.removeprefix(prefix)
    if relative == value or relative.startswith("/") or relative in ("", ":memory:"):
        return url
    absolute = prefix + str(base / relative)
    return Secret(absolute, absolute)
