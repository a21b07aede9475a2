"""Load and validate the TOML configuration, reporting every problem in one error."""

from __future__ import annotations

import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from onemind.config.model import Settings
from onemind.config.secrets import Secret, resolve
from onemind.config.sources import SOURCE_KINDS
from onemind.errors import ConfigurationError

log = logging.getLogger(__name__)
ENV_VARIABLE = "ONEMIND_CONFIG"
DEFAULT_NAME = "onemind.toml"
SECRET_KEYS = re.compile(r"(password|passphrase|token|secret|api_key)$")


def config_path(explicit: str | Path | None, environ: dict[str, str] | None = None) -> Path:
    """`--config PATH`, else `$ONEMIND_CONFIG`, else `./onemind.toml`."""
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get(ENV_VARIABLE):
        return Path(env[ENV_VARIABLE])
    return Path(DEFAULT_NAME)


def load_settings(path: Path, environ: dict[str, str] | None = None) -> Settings:
    """Read, resolve secrets in, and validate one configuration file.

    Raises:
        ConfigurationError: naming the file and every problem found in it.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
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
    return parse_settings(raw, path, environ)


def parse_settings(
    raw: dict[str, Any], path: Path, environ: dict[str, str] | None = None
) -> Settings:
    """Validate an already parsed configuration; relative paths are taken from `path`'s folder."""
    problems: list[str] = []
    data = _resolve_secrets(raw, environ, "", problems)
    data["base_dir"] = path.parent.resolve()
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems += [_describe(error) for error in exc.errors()]
        settings = None
    if problems or settings is None:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise ConfigurationError(f"{path}: {len(problems)} problem(s):\n{listing}")
    _warn_of_clear_credentials(settings)
    return _absolute_paths(settings)


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


def _describe(error: Any) -> str:
    where = ""
    for part in error["loc"]:
        if isinstance(part, int):
            where += f"[{part}]"
        elif not _is_union_tag(part):
            where += f".{part}" if where else part
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{where}: {message}" if where else message


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and part in SOURCE_KINDS


def _resolve_secrets(
    data: Any, environ: dict[str, str] | None, path: str, problems: list[str]
) -> Any:
    if isinstance(data, dict):
        return {
            k: _resolve_entry(k, v, environ, f"{path}.{k}" if path else k, problems)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_resolve_secrets(v, environ, f"{path}[{i}]", problems) for i, v in enumerate(data)]
    return data


def _resolve_entry(
    key: str, value: Any, environ: dict[str, str] | None, path: str, problems: list[str]
) -> Any:
    if isinstance(value, str) and (SECRET_KEYS.search(key) or value.startswith(("env:", "enc:"))):
        try:
            return resolve(value, environ)
        except ValueError as exc:
            problems.append(f"{path}: {exc}")
            return None
    return _resolve_secrets(value, environ, path, problems)


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
