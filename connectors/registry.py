"""Which connector class serves which configured `kind`."""

from __future__ import annotations

from onemind.config.model import (
    CanvasSourceConfig,
    MoodleSourceConfig,
    SourceConfig,
    TabularSourceConfig,
    XapiFileSourceConfig,
    XapiSourceConfig,
)
from onemind.connectors.base import Connector
from onemind.connectors.canvas import CanvasConnector
from onemind.connectors.moodle import MoodleConnector
from onemind.connectors.tabular import TabularConnector
from onemind.connectors.xapi import XapiConnector
from onemind.connectors.xapi_file import XapiFileConnector


def build_connector(config: SourceConfig) -> Connector:
    if isinstance(config, TabularSourceConfig):
        return TabularConnector(config)
    if isinstance(config, XapiFileSourceConfig):
        return XapiFileConnector(config)
    if isinstance(config, XapiSourceConfig):
        return XapiConnector(config)
    if isinstance(config, MoodleSourceConfig):
        return MoodleConnector(config)
    if isinstance(config, CanvasSourceConfig):
        return CanvasConnector(config)
    raise TypeError(f"no connector for {type(config).__name__}")
