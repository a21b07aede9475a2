"""Configuration: one TOML file, validated at the edge."""

from onemind.config.load import config_path, load_settings, parse_settings
from onemind.config.model import AgencyConfig, Settings, TabularSourceConfig, XapiFileSourceConfig

__all__ = [
    "AgencyConfig",
    "Settings",
    "TabularSourceConfig",
    "XapiFileSourceConfig",
    "config_path",
    "load_settings",
    "parse_settings",
]
