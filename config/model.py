"""The configuration file's schema, validated once at load; the rest of the code trusts it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from onemind.config.secrets import Secret
from onemind.connectors.presets import BUILT_IN, apply_preset

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
    report_schedule: str | None = None

    @field_validator("report_schedule")
    @classmethod
    def _report_cron(cls, value: str | None) -> str | None:
        return None if value is None else valid_cron(value)


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


class CountOnly(Strict):
    """Rows count only when this column holds one of these values (compared case-insensitively)."""

    column: str
    values: Annotated[list[str], Field(min_length=1)]


class PresetConfig(Strict):
    """A user-defined column-map preset: `[presets.NAME]`."""

    role: Literal["roster", "completions"] = "completions"
    columns: dict[str, str] = {}
    date_format: str | None = None
    provider: str | None = None
    count_only: CountOnly | None = None

    @model_validator(mode="after")
    def _columns_are_fields(self) -> PresetConfig:
        _check_columns(self.role, self.columns)
        return self


class TabularSourceConfig(SourceBase):
    kind: Literal["csv", "xlsx"]
    role: Literal["roster", "completions"]
    path: Path
    agency: Annotated[str, Field(pattern=SLUG)] | None = None
    preset: str | None = None
    columns: dict[str, str] = {}
    count_only: CountOnly | None = None
    sheet: str | None = None
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    date_format: str | None = None
    provider: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _built_in_preset(cls, data: Any) -> Any:
        """A built-in preset named here fills in what the source leaves out."""
        name = data.get("preset") if isinstance(data, dict) else None
        if name is None:
            return data
        if name not in BUILT_IN:
            raise ValueError(
                f"unknown preset {name!r} (built in: {', '.join(sorted(BUILT_IN))}; "
                f"or define [presets.{name}])"
            )
        return _with_preset(data, name, BUILT_IN[name])

    @model_validator(mode="after")
    def _columns_are_fields(self) -> TabularSourceConfig:
        _check_columns(self.role, self.columns)
        return self


def _check_columns(role: str, columns: dict[str, str]) -> None:
    known = ROSTER_COLUMNS if role == "roster" else COMPLETION_COLUMNS
    unknown = sorted(set(columns) - set(known))
    if unknown:
        raise ValueError(
            f"columns: {', '.join(unknown)} not among the {role} fields ({', '.join(known)})"
        )


def _with_preset(source: dict[str, Any], name: str, preset: dict[str, Any]) -> dict[str, Any]:
    role = preset.get("role", "completions")
    if source.get("role") not in (None, role):
        raise ValueError(f"preset {name!r} is for {role} files, not {source['role']}")
    return apply_preset({**source, "role": role}, preset)


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as 'America/Chicago')"
        ) from None
    return value


class StatementOptions(SourceBase):
    """How an xAPI source's statements are read (shared by LRS and file sources)."""

    agency: Annotated[str, Field(pattern=SLUG)] | None = None
    verbs: list[str] = [
        "http://adlnet.gov/expapi/verbs/completed",
        "http://adlnet.gov/expapi/verbs/passed",
        "https://w3id.org/xapi/adl/verbs/satisfied",
    ]
    timezone: Annotated[str, AfterValidator(_known_zone)] = "UTC"
    account_as: Literal["employee_id", "account"] = "employee_id"
    hours_extension: str | None = None


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


class LmsSourceOptions(SourceBase):
    """What the LMS sources read over a REST API with a token have in common."""

    base_url: Annotated[str, Field(pattern=r"^https?://")]
    token: Secret
    agency: Annotated[str, Field(pattern=SLUG)] | None = None
    timezone: Annotated[str, AfterValidator(_known_zone)] = "UTC"
    connect_timeout: Annotated[float, Field(gt=0)] = 10
    read_timeout: Annotated[float, Field(gt=0)] = 60
    max_retries: Annotated[int, Field(ge=0, le=10)] = 5

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


MOODLE_REPORT_COLUMNS = {
    "course_shortname": "Course short name",
    "username": "Username",
    "completed": "Time completed",
    "email": "Email address",
    "employee_id": "ID number",
}
MOODLE_DATE_FORMATS = ["%A, %d %B %Y, %I:%M %p", "%d %B %Y, %I:%M %p", "%Y-%m-%d %H:%M"]
EMPLOYEE_ID_FIELDS = ("idnumber", "username", "email", "institution", "department")


class MoodleSourceConfig(LmsSourceOptions):
    """A Moodle site read through its Web Services REST endpoint with a `wstoken`."""

    kind: Literal["moodle"]
    course_ids: list[Annotated[int, Field(ge=1)]] = []
    course_shortnames: list[str] = []
    category_ids: list[Annotated[int, Field(ge=1)]] = []
    employee_id_field: str = "idnumber"
    concurrency: Annotated[int, Field(ge=1, le=16)] = 4
    page_size: Annotated[int, Field(ge=1, le=5000)] = 200
    report_id: Annotated[int, Field(ge=1)] | None = None
    report_filter: str = "completion:timecompleted"
    report_columns: dict[str, str] = {}
    # The report shows times as text in its reader's time zone: set `timezone` to the token
    # user's, and list the formats the site's language writes dates in.
    report_date_formats: Annotated[list[str], Field(min_length=1)] = MOODLE_DATE_FORMATS
    report_overlap_hours: Annotated[float, Field(ge=0, le=24 * 31)] = 24
    certification_cmid: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _courses_and_fields(self) -> MoodleSourceConfig:
        if not (self.course_ids or self.course_shortnames or self.category_ids):
            raise ValueError("name the courses: course_ids, course_shortnames or category_ids")
        field = self.employee_id_field
        if field not in EMPLOYEE_ID_FIELDS and not field.startswith("profile:"):
            raise ValueError(
                f"employee_id_field {field!r}: use one of {', '.join(EMPLOYEE_ID_FIELDS)} "
                "or 'profile:<custom profile field shortname>'"
            )
        unknown = sorted(set(self.report_columns) - set(MOODLE_REPORT_COLUMNS))
        if unknown:
            raise ValueError(
                f"report_columns: {', '.join(unknown)} not among {', '.join(MOODLE_REPORT_COLUMNS)}"
            )
        return self

    @property
    def report_headers(self) -> dict[str, str]:
        """Report column headers by field: the defaults with the configured ones over them."""
        return {**MOODLE_REPORT_COLUMNS, **self.report_columns}


class CanvasSourceConfig(LmsSourceOptions):
    """A Canvas LMS read through its REST API with a Bearer token."""

    kind: Literal["canvas"]
    course_ids: Annotated[list[int | str], Field(min_length=1)]
    per_page: Annotated[int, Field(ge=1, le=100)] = 100
    namespace: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")] = "org.onemind"
    rate_limit_floor: Annotated[float, Field(ge=0)] = 200
    rate_refill_per_second: Annotated[float, Field(gt=0)] = 10


SourceConfig = Annotated[
    TabularSourceConfig
    | XapiFileSourceConfig
    | XapiSourceConfig
    | MoodleSourceConfig
    | CanvasSourceConfig,
    Field(discriminator="kind"),
]


class CertificatesConfig(Strict):
    """The issuer of Open Badges 3.0 credentials; without this section none are issued."""

    issuer_id: Annotated[str, Field(pattern=r"^https?://")]
    issuer_name: str
    issuer_url: str | None = None
    issuer_email: str | None = None
    algorithm: Literal["RS256", "EdDSA"] = "RS256"
    key_passphrase: Secret
    verify_url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    revocation_list_url: Annotated[str, Field(pattern=r"^https?://")] | None = None

    def base(self) -> str:
        return self.issuer_id.rstrip("/")

    def revocation_list(self) -> str:
        return self.revocation_list_url or f"{self.base()}/revocations.json"

    def verify_link(self, credential_id: str) -> str:
        return f"{(self.verify_url or self.base() + '/credentials').rstrip('/')}/{credential_id}"


def valid_cron(value: str) -> str:
    """A 5-field crontab expression, e.g. '0 2 * * *' (weekdays as in crontab: 0 is Sunday)."""
    from onemind.sync.cron import crontab_trigger

    try:
        crontab_trigger(value, "UTC")
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a 5-field cron expression ({exc})") from None
    return value


class SmtpConfig(Strict):
    """The mail server reports are sent through; the password is an `env:`/`enc:` reference."""

    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    starttls: bool = True
    username: str | None = None
    password: Secret | None = None
    sender: str
    timeout: Annotated[float, Field(gt=0)] = 30

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> SmtpConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both username and password, or neither")
        return self


class SchedulerConfig(Strict):
    """How `onemind serve` runs: cron schedules' time zone, misfires, workers, lock expiry."""

    timezone: Annotated[str, AfterValidator(_known_zone)] | None = None
    misfire_grace_seconds: Annotated[int, Field(ge=1)] = 6 * 3600
    workers: Annotated[int, Field(ge=1, le=32)] = 4
    lock_ttl_seconds: Annotated[int, Field(ge=10)] = 900


class ReportsConfig(Strict):
    """The hub summary for academy staff, and when a failing source is flagged."""

    hub_to: list[str] = []
    hub_schedule: str | None = None
    flag_failing_after: Annotated[int, Field(ge=1)] = 3

    @field_validator("hub_schedule")
    @classmethod
    def _hub_cron(cls, value: str | None) -> str | None:
        return None if value is None else valid_cron(value)


class Settings(Strict):
    """The whole configuration file."""

    store: StoreConfig = StoreConfig()
    timezone: str = "UTC"
    agencies: list[AgencyConfig] = []
    presets: dict[str, PresetConfig] = {}
    sources: list[SourceConfig] = []
    certificates: CertificatesConfig | None = None
    smtp: SmtpConfig | None = None
    scheduler: SchedulerConfig = SchedulerConfig()
    reports: ReportsConfig = ReportsConfig()
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
                    raise ValueError(f"sources[{index}]: {exc}") from None
            resolved.append(source)
        return {**data, "sources": resolved}

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


__all__ = [
    "PROGRAMS",
    "AgencyConfig",
    "CanvasSourceConfig",
    "MoodleSourceConfig",
    "PresetConfig",
    "ReportsConfig",
    "SchedulerConfig",
    "Secret",
    "Settings",
    "SmtpConfig",
    "SourceConfig",
    "StoreConfig",
]
