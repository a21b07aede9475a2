"""The `[[sources]]` tables: one configured system each, told apart by `kind`."""

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self, Union, get_args
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, field_validator, model_validator

from onemind.config.base import SLUG, UTC_ZONE, Cron, Strict, Zone
from onemind.config.names import did_you_mean
from onemind.config.presets import BUILT_IN, apply_preset
from onemind.config.secrets import Secret

PERIOD_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def as_period(value: Any) -> Any:
    """'7d', '12h' or '90m' as a timedelta; 'never' and timedeltas pass through.

    Raises:
        ValueError: anything else.
    """
    if isinstance(value, timedelta) or value == "never":
        return value
    found = re.fullmatch(r"\s*([1-9][0-9]{0,5})\s*([dhm])\s*", str(value))
    if found is None:
        raise ValueError(f"{value!r} is not a period such as '7d', '12h' or '90m' (or 'never')")
    return timedelta(**{PERIOD_UNITS[found[2]]: int(found[1])})


Period = Annotated[timedelta | Literal["never"], BeforeValidator(as_period)]


class SourceBase(Strict):
    """What every source has. `connector` names the class that serves the kind (module:Class).

    `full_every`: read the source whole (and retract what it no longer holds) when its last
    successful full pass is older than this; unset, the connector's default (see `XapiConnector`).
    """

    connector: ClassVar[str]
    name: Annotated[str, Field(pattern=SLUG)]
    schedule: Cron = "0 2 * * *"
    agency: Annotated[str, Field(pattern=SLUG)] | None = None
    full_every: Period | None = None
    # a run that quarantines more than this share of the records it fetched fails
    quarantine_limit: Annotated[float, Field(ge=0, le=1)] = 0.5

    def clear_credentials_url(self) -> str | None:
        """The `http://` URL this source would send its credentials to unencrypted, if any."""
        return None


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
AGENCY_COLUMNS = (
    "id",
    "name",
    "program",
    "pledged_on",
    "deadline_months",
    "region",
    "report_to",
    "partnership_on",
    "partnership_evidence",
    "policy_on",
    "policy_evidence",
)
ATTESTATION_COLUMNS = ("agency", "kind", "attested_on", "evidence", "recorded_by")
ROLE_COLUMNS = {
    "roster": ROSTER_COLUMNS,
    "completions": COMPLETION_COLUMNS,
    "agencies": AGENCY_COLUMNS,
    "attestations": ATTESTATION_COLUMNS,
}
"""The fields each role of a CSV/XLSX source reads (header names default to these)."""


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
    def _columns_are_fields(self) -> Self:
        _check_columns(self.role, self.columns)
        return self


class TabularSourceConfig(SourceBase):
    connector = "onemind.connectors.tabular:TabularConnector"
    kind: Literal["csv", "xlsx"]
    role: Literal["roster", "completions", "agencies", "attestations"]
    path: Path
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
                f"unknown preset {name!r}{did_you_mean(name, BUILT_IN)} (built in: "
                f"{', '.join(sorted(BUILT_IN))}; "
                f"or define [presets.{name}])"
            )
        return _with_preset(data, name, BUILT_IN[name])

    @model_validator(mode="after")
    def _columns_are_fields(self) -> Self:
        _check_columns(self.role, self.columns)
        if self.role == "agencies" and self.agency is not None:
            raise ValueError("an agencies file lists agencies: it takes no agency = …")
        return self


def _check_columns(role: str, columns: dict[str, str]) -> None:
    known = ROLE_COLUMNS[role]
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


class StatementOptions(SourceBase):
    """How an xAPI source's statements are read (shared by LRS and file sources)."""

    verbs: list[str] = [
        "http://adlnet.gov/expapi/verbs/completed",
        "http://adlnet.gov/expapi/verbs/passed",
        "https://w3id.org/xapi/adl/verbs/satisfied",
    ]
    timezone: Zone = UTC_ZONE
    account_as: Literal["employee_id", "account"] = "employee_id"
    hours_extension: str | None = None


class XapiFileSourceConfig(StatementOptions):
    connector = "onemind.connectors.xapi_file:XapiFileConnector"
    kind: Literal["xapi-file"]
    path: Path


class XapiSourceConfig(StatementOptions):
    """A conformant LRS (xAPI 1.0.3 / 2.0) read incrementally over HTTP."""

    connector = "onemind.connectors.xapi:XapiConnector"
    kind: Literal["xapi"]
    endpoint: Annotated[str, Field(pattern=r"^https?://")]
    username: str
    password: Secret
    version: Literal["1.0.3", "2.0.0"] = "1.0.3"
    page_size: Annotated[int, Field(ge=1, le=5000)] = 500
    overlap_minutes: Annotated[float, Field(ge=0, le=60 * 24 * 31)] = 5
    # which statement field the LRS compares `since`/`until` with; "auto": found at a sync
    since_field: Literal["stored", "timestamp", "auto"] = "auto"
    connect_timeout: Annotated[float, Field(gt=0)] = 10
    read_timeout: Annotated[float, Field(gt=0)] = 60
    max_retries: Annotated[int, Field(ge=0, le=10)] = 5
    account_home_page: str | None = None
    achievement_base: str = "https://onemind.example/achievements/"

    @field_validator("endpoint")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    def clear_credentials_url(self) -> str | None:
        return _clear(self.endpoint)


class LmsSourceOptions(SourceBase):
    """What the LMS sources read over a REST API with a token have in common."""

    base_url: Annotated[str, Field(pattern=r"^https?://")]
    token: Secret
    timezone: Zone = UTC_ZONE
    connect_timeout: Annotated[float, Field(gt=0)] = 10
    read_timeout: Annotated[float, Field(gt=0)] = 60
    max_retries: Annotated[int, Field(ge=0, le=10)] = 5

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def clear_credentials_url(self) -> str | None:
        return _clear(self.base_url)


def _clear(url: str) -> str | None:
    """The origin of an `http://` URL (without any user:password@ in it), else None."""
    if not url.startswith("http://"):
        return None
    return "http://" + urlsplit(url).netloc.rpartition("@")[2]


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

    connector = "onemind.connectors.moodle:MoodleConnector"
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
    def _courses_and_fields(self) -> Self:
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

    connector = "onemind.connectors.canvas:CanvasConnector"
    kind: Literal["canvas"]
    course_ids: Annotated[list[int | str], Field(min_length=1)]
    per_page: Annotated[int, Field(ge=1, le=100)] = 100
    namespace: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")] = "org.onemind"
    rate_limit_floor: Annotated[float, Field(ge=0)] = 200
    rate_refill_per_second: Annotated[float, Field(gt=0)] = 10
    # A Complete/Incomplete assignment graded `complete` while the person holds a credential:
    # what learners and instructors see (custom data is for machines).
    certification_course_id: Annotated[int, Field(ge=1)] | None = None
    certification_assignment_id: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _assignment_in_a_course(self) -> Self:
        if (self.certification_course_id is None) != (self.certification_assignment_id is None):
            raise ValueError("set certification_course_id and certification_assignment_id together")
        return self

    @property
    def certification_assignment(self) -> tuple[int, int] | None:
        """(course id, assignment id) of the assignment credentials are graded in, if any."""
        if self.certification_course_id is None or self.certification_assignment_id is None:
            return None
        return self.certification_course_id, self.certification_assignment_id


SOURCE_CONFIGS: tuple[type[SourceBase], ...] = (
    TabularSourceConfig,
    XapiFileSourceConfig,
    XapiSourceConfig,
    MoodleSourceConfig,
    CanvasSourceConfig,
)
"""Every source kind: register a new connector here, beside its configuration class."""

SOURCE_KINDS = frozenset(
    kind for config in SOURCE_CONFIGS for kind in get_args(config.model_fields["kind"].annotation)
)

SourceConfig = Annotated[Union[SOURCE_CONFIGS], Field(discriminator="kind")]  # noqa: UP007
