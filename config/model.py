"""The configuration file's schema, validated once at load; the rest of the code trusts it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from onemind.config.secrets import Secret

SLUG = r"^[a-z0-9][a-z0-9._-]{0,63}$"
PROGRAMS = ("one-mind", "one-mind-2016")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class StoreConfig(Strict):
    url: str = "sqlite:///onemind.db"


class AgencyConfig(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    name: str
    program: Literal["one-mind", "one-mind-2016"] = "one-mind"
    pledged_on: date | None = None
    deadline_months: Annotated[int, Field(ge=12, le=36)] = 36
    partnership_on: date | None = None
    partnership_evidence: str | None = None
    policy_on: date | None = None
    policy_evidence: str | None = None
    report_to: list[str] = []


class SourceBase(Strict):
    name: Annotated[str, Field(pattern=SLUG)]
    schedule: str = "0 2 * * *"

    @field_validator("schedule")
    @classmethod
    def _cron_has_five_fields(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError("schedule must be a 5-field cron expression, e.g. '0 2 * * *'")
        return value


ROSTER_COLUMNS = (
    "agency",
    "employee_id",
    "first_name",
    "last_name",
    "email",
    "sworn",
    "position",
    "selected",
    "hired_on",
    "separated_on",
)
COMPLETION_COLUMNS = (
    "employee_id",
    "email",
    "agency",
    "course_id",
    "course_title",
    "provider",
    "hours",
    "completed_on",
    "expires_on",
)


class TabularSourceConfig(SourceBase):
    kind: Literal["csv", "xlsx"]
    role: Literal["roster", "completions"]
    path: Path
    agency: Annotated[str, Field(pattern=SLUG)] | None = None
    columns: dict[str, str] = {}
    sheet: str | None = None
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    date_format: str | None = None
    provider: str | None = None

    @model_validator(mode="after")
    def _columns_are_fields(self) -> TabularSourceConfig:
        known = ROSTER_COLUMNS if self.role == "roster" else COMPLETION_COLUMNS
        unknown = sorted(set(self.columns) - set(known))
        if unknown:
            raise ValueError(
                f"columns: {', '.join(unknown)} not among the {self.role} fields "
                f"({', '.join(known)})"
            )
        return self


class StatementOptions(SourceBase):
    """How an xAPI source's statements are read (shared by LRS and file sources)."""

    agency: Annotated[str, Field(pattern=SLUG)] | None = None
    verbs: list[str] = [
        "http://adlnet.gov/expapi/verbs/completed",
        "http://adlnet.gov/expapi/verbs/passed",
        "https://w3id.org/xapi/adl/verbs/satisfied",
    ]
    timezone: str = "UTC"
    account_as: Literal["employee_id", "account"] = "employee_id"
    hours_extension: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as 'America/Chicago')"
            ) from None
        return value


class XapiFileSourceConfig(StatementOptions):
    kind: Literal["xapi-file"]
    path: Path


class XapiSourceConfig(StatementOptions):
    """A conformant LRS (xAPI 1.0.3 / 2.0) read incrementally over HTTP."""

    kind: Literal["xapi"]
    endpoint: Annotated[str, Field(pattern=r"^https?://")]
    username: str
    password: Secret
    version: Literal["1.0.3", "2.0.0"] = "1.0.3"
    page_size: Annotated[int, Field(ge=1, le=5000)] = 500
    overlap_minutes: Annotated[float, Field(ge=0, le=60 * 24 * 31)] = 5
    connect_timeout: Annotated[float, Field(gt=0)] = 10
    read_timeout: Annotated[float, Field(gt=0)] = 60
    max_retries: Annotated[int, Field(ge=0, le=10)] = 5
    account_home_page: str | None = None
    achievement_base: str = "https://onemind.example/achievements/"

    @field_validator("endpoint")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"


SourceConfig = Annotated[
    TabularSourceConfig | XapiFileSourceConfig | XapiSourceConfig, Field(discriminator="kind")
]


class Settings(Strict):
    """The whole configuration file."""

    store: StoreConfig = StoreConfig()
    timezone: str = "UTC"
    agencies: list[AgencyConfig] = []
    sources: list[SourceConfig] = []
    base_dir: Path = Path(".")

    @model_validator(mode="after")
    def _names_are_unique_and_known(self) -> Settings:
        problems = []
        agency_ids = [a.id for a in self.agencies]
        problems += [f"agency id {i!r} appears more than once" for i in _dupes(agency_ids)]
        names = [s.name for s in self.sources]
        problems += [f"source name {n!r} appears more than once" for n in _dupes(names)]
        for source in self.sources:
            agency = getattr(source, "agency", None)
            if agency is not None and agency not in agency_ids:
                problems.append(f"source {source.name!r}: agency {agency!r} is not in [[agencies]]")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)


def _dupes(values: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({v for v in values if v in seen or seen.add(v)})


__all__ = ["PROGRAMS", "AgencyConfig", "Secret", "Settings", "SourceConfig", "StoreConfig"]
