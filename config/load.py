"""Load and validate the TOML configuration, reporting every problem in one error."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from onemind.config.model import Settings
from onemind.config.secrets import resolve
from onemind.errors import ConfigurationError

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
    return _absolute_paths(settings)


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
    return isinstance(part, str) and part in {
        "csv",
        "xlsx",
        "xapi-file",
        "xapi",
        "moodle",
        "canvas",
    }


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
    sources = []
    for source in settings.sources:
        path = getattr(source, "path", None)
        if path is not None and not path.is_absolute():
            source = source.model_copy(update={"path": settings.base_dir / path})
        sources.append(source)
    store = settings.store
    prefix = "sqlite:///"
    if store.url.startswith(prefix) and not store.url.startswith(prefix + "/"):
        relative = store.url[len(prefix) :]
        if relative and relative != ":memory:":
            store = store.model_copy(update={"url": prefix + str(settings.base_dir / relative)})
    return settings.model_copy(update={"sources": sources, "store": store})
