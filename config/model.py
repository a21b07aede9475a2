"""The configuration file's schema, validated once at load; the rest of the code trusts it."""

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, model_validator

from onemind.config.base import SLUG, UTC_ZONE, Cron, EmailAddress, Strict, Zone
from onemind.config.names import did_you_mean, listing
from onemind.config.secrets import Secret
from onemind.config.sources import (
    COMPLETION_COLUMNS,
    ROSTER_COLUMNS,
    CanvasSourceConfig,
    MoodleSourceConfig,
    PresetConfig,
    SourceConfig,
    StatementOptions,
    TabularSourceConfig,
    XapiFileSourceConfig,
    XapiSourceConfig,
    _with_preset,
)
from onemind.config.store import StoreConfig

PROGRAMS = ("one-mind", "one-mind-2016")


class AgencyConfig(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    name: str
    program: Literal["one-mind", "one-mind-2016"] = "one-mind"
    pledged_on: date | None = None
    deadline_months: Annotated[int, Field(ge=12, le=36)] = 36
    region: Annotated[str, Field(max_length=100)] | None = None
    partnership_on: date | None = None
    partnership_evidence: str | None = None
    policy_on: date | None = None
    policy_evidence: str | None = None
    report_to: list[EmailAddress] = []
    report_schedule: Cron | None = None


def _not_empty(secret: Secret) -> Secret:
    if not secret.get():
        raise ValueError(f"must not be empty ({secret.reference} is empty)")
    return secret


class CertificatesConfig(Strict):
    """The issuer of Open Badges 3.0 credentials; without this section none are issued."""

    issuer_id: Annotated[str, Field(pattern=r"^https?://")]
    issuer_name: str
    issuer_url: str | None = None
    issuer_email: str | None = None
    algorithm: Literal["RS256", "EdDSA"] = "RS256"
    key_passphrase: Annotated[Secret, AfterValidator(_not_empty)]
    verify_url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    revocation_list_url: Annotated[str, Field(pattern=r"^https?://")] | None = None

    def base(self) -> str:
        return self.issuer_id.rstrip("/")

    def revocation_list(self) -> str:
        return self.revocation_list_url or f"{self.base()}/revocations.json"

    def verify_link(self, credential_id: str) -> str:
        return f"{(self.verify_url or self.base() + '/credentials').rstrip('/')}/{credential_id}"


class SmtpConfig(Strict):
    """The mail server reports are sent through; the password is an `env:`/`enc:` reference.

    The connection is encrypted by STARTTLS (default) or from the start (`implicit_tls`, usually
    port 465), checked against the system's certificate authorities or `ca_file`. A login over
    an unencrypted connection is refused unless `allow_plaintext_auth` says otherwise.
    """

    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    starttls: bool = True
    implicit_tls: bool = False
    ca_file: Path | None = None
    username: str | None = None
    password: Secret | None = None
    allow_plaintext_auth: bool = False
    sender: EmailAddress
    timeout: Annotated[float, Field(gt=0)] = 30

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both username and password, or neither")
        if self.starttls and self.implicit_tls:
            raise ValueError("implicit_tls already encrypts the connection: set starttls = false")
        encrypted = self.starttls or self.implicit_tls
        if self.username is not None and not encrypted and not self.allow_plaintext_auth:
            raise ValueError(
                "the password would be sent unencrypted: set starttls = true or implicit_tls = "
                "true (or allow_plaintext_auth = true for a server on this machine)"
            )
        return self


class SchedulerConfig(Strict):
    """How `onemind serve` runs: cron schedules' time zone, misfires, workers, lock expiry."""

    timezone: Zone | None = None
    misfire_grace_seconds: Annotated[int, Field(ge=1)] = 6 * 3600
    workers: Annotated[int, Field(ge=1, le=32)] = 4
    lock_ttl_seconds: Annotated[int, Field(ge=10)] = 900
    report_claim_ttl_seconds: Annotated[int, Field(ge=10)] = 600


class ReportsConfig(Strict):
    """The hub summary for academy staff, and when a failing source is flagged."""

    hub_to: list[EmailAddress] = []
    hub_schedule: Cron | None = None
    flag_failing_after: Annotated[int, Field(ge=1)] = 3


class WorkersConfig(Strict):
    """A Celery worker pool: `onemind serve` enqueues jobs on the broker, `onemind worker` runs
    them. Without this section every job runs inside `onemind serve`."""

    broker: Annotated[str, Field(pattern=r"^(redis|rediss|amqp|amqps)://")]
    broker_password: Secret | None = None
    queue: Annotated[str, Field(pattern=SLUG)] = "onemind"
    concurrency: Annotated[int, Field(ge=1, le=64)] = 2
    visibility_timeout_seconds: Annotated[int, Field(ge=1)] = 3600
    max_retries: Annotated[int, Field(ge=0, le=50)] = 5
    retry_backoff_seconds: Annotated[int, Field(ge=1)] = 30
    issue_batch: Annotated[int, Field(ge=100, le=100_000)] = 5000

    @model_validator(mode="after")
    def _no_password_in_url(self) -> Self:
        if re.match(r"^[a-z]+://[^/@]*:[^/@]+@", self.broker):
            raise ValueError(
                "broker: the URL holds a password in plain text; put it in broker_password "
                '(e.g. broker_password = "env:BROKER_PASSWORD")'
            )
        return self

    def broker_url(self) -> str:
        """The broker URL with its password filled in from `broker_password`."""
        if self.broker_password is None:
            return self.broker
        scheme, _, rest = self.broker.partition("://")
        user, at, host = rest.rpartition("@")
        if not at:
            user, host = "", rest
        password = quote(self.broker_password.get(), safe="")
        return f"{scheme}://{user.split(':')[0]}:{password}@{host}"


class Settings(Strict):
    """The whole configuration file."""

    store: StoreConfig = StoreConfig()
    timezone: Zone = UTC_ZONE
    agencies: list[AgencyConfig] = []
    presets: dict[str, PresetConfig] = {}
    sources: list[SourceConfig] = []
    certificates: CertificatesConfig | None = None
    smtp: SmtpConfig | None = None
    scheduler: SchedulerConfig = SchedulerConfig()
    reports: ReportsConfig = ReportsConfig()
    workers: WorkersConfig | None = None
    base_dir: Path = Path(".")

    @model_validator(mode="before")
    @classmethod
    def _user_presets(cls, data: Any) -> Any:
        """Sources naming a `[presets.NAME]` table take its settings (built-in ones apply later)."""
        if not isinstance(data, dict) or not isinstance(data.get("presets"), dict):
            return data
        presets, sources = data["presets"], data.get("sources")
        if not isinstance(sources, list):
            return data
        resolved = []
        for index, source in enumerate(sources):
            name = source.get("preset") if isinstance(source, dict) else None
            if isinstance(name, str) and isinstance(presets.get(name), dict):
                try:
                    source = {**_with_preset(source, name, presets[name]), "preset": None}
                except ValueError as exc:
                    raise ValueError(f"sources[{source.get('name', index)!r}]: {exc}") from None
            resolved.append(source)
        return {**data, "sources": resolved}

    @property
    def schedule_zone(self) -> ZoneInfo:
        """The zone schedules are read in, run dates are taken in and nights are counted in."""
        return self.scheduler.timezone or self.timezone

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)


def reference_problems(settings: Settings) -> list[tuple[tuple[str | int, ...], str]]:
    """Ids given twice, and sources naming an agency not in `[[agencies]]`, each at its key."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    agency_ids = [a.id for a in settings.agencies]
    for index in _repeats(agency_ids):
        problems.append((("agencies", index, "id"), "this id is given to an earlier agency too"))
    for index in _repeats([s.name for s in settings.sources]):
        problems.append((("sources", index, "name"), "this name is given to an earlier source too"))
    listed = any(getattr(s, "role", None) == "agencies" for s in settings.sources)
    for index, source in enumerate(settings.sources):
        # with an agencies file, a source's agency may be one it lists (checked when syncing)
        if source.agency is not None and source.agency not in agency_ids and not listed:
            problems.append(
                (
                    ("sources", index, "agency"),
                    f"agency {source.agency!r} is not in [[agencies]]"
                    f"{did_you_mean(source.agency, agency_ids)}; known: {listing(agency_ids)}",
                )
            )
    return problems


def _repeats(values: list[str]) -> list[int]:
    """The positions of values seen before."""
    seen: set[str] = set()
    return [i for i, v in enumerate(values) if v in seen or seen.add(v)]


__all__ = [
    "COMPLETION_COLUMNS",
    "PROGRAMS",
    "ROSTER_COLUMNS",
    "AgencyConfig",
    "CanvasSourceConfig",
    "CertificatesConfig",
    "MoodleSourceConfig",
    "PresetConfig",
    "ReportsConfig",
    "SchedulerConfig",
    "Secret",
    "Settings",
    "SmtpConfig",
    "SourceConfig",
    "StatementOptions",
    "StoreConfig",
    "TabularSourceConfig",
    "XapiFileSourceConfig",
    "XapiSourceConfig",
]
