"""Which connector class serves a configured source: each configuration class names its own.

A connector module is imported only when a source of its kind is used, so that commands which
never touch a source do not pay for its dependencies.
"""

from __future__ import annotations

from importlib import import_module

from onemind.config.model import SourceConfig
from onemind.connectors.base import Connector


def connector_class(config: SourceConfig) -> type[Connector]:
    """The class that serves this source's kind (ask it for capabilities with `issubclass`)."""
    module, _, name = type(config).connector.partition(":")
    found = getattr(import_module(module), name)
    if not (isinstance(found, type) and issubclass(found, Connector)):
        raise TypeError(f"{type(config).connector} is not a Connector")
    return found


def build_connector(config: SourceConfig) -> Connector:
    """A connector for one configured source."""
    return connector_class(config)(config)  # type: ignore[call-arg]
