"""A Moodle site over Web Services: course completions pulled two ways, certifications pushed.

Per-user route (works on every site): for each configured course, the people Moodle tracks
for completion, a page at a time, and one completion-status call per person, a few at once.
Moodle has no "changed since", so every run re-reads the courses; records are keyed on course
and username, so a re-read changes nothing. The cursor names the courses finished in the
current pass, so a rerun after a failure starts at the course that failed.

Report route (when `report_id` is set): a staff-built custom report on course participants
with a "time completed" column and filter; the filter is set from the newest completion seen
(less an overlap), so a quiet night costs a handful of calls. Its rows come in no known order,
so it checkpoints once, at the end.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import requests

from onemind.config.model import MoodleSourceConfig
from onemind.connectors.accounts import account
from onemind.connectors.base import CheckResult, Connector, Pushes, run_checks
from onemind.connectors.http import HttpClient
from onemind.connectors.moodle_push import FUNCTIONS as PUSH_FUNCTIONS
from onemind.connectors.moodle_push import Certification
from onemind.connectors.moodle_report import (
    Course,
    Learner,
    MoodleReportCursor,
    MoodleStatusCursor,
    ReportReader,
    course_from,
    filter_values,
    later,
    text_or_none,
)
from onemind.connectors.moodle_ws import Fault, MoodleWs
from onemind.connectors.paging import CountedPage, OffsetPaginator, PageNumberPaginator
from onemind.domain.records import (
    Checkpoint,
    CompletionRecord,
    CredentialNotice,
    PullItem,
    Rejected,
    Skipped,
)
from onemind.errors import ConfigurationError, SourceError

log = logging.getLogger(__name__)

AGGREGATION_ANY = 2
REPORT_FULL_EVERY = timedelta(days=7)
# A course that answers these for one person answers them for all: it is passed over.
COURSE_FAULTS = ("nocriteriaset", "completionnotenabled")
PERSON_FAULTS = ("usernotenroled", "suspended", "userdeleted", "usernotconfirmed", "invaliduser")
TRACKED = "moodle/course:isincompletionreports"
NOT_ENROLLED = (
    "Moodle no longer reports this person's completion (usernotenroled: their enrolment is "
    "suspended or ended); what was stored before is kept"
)
USER_FIELDS = "id,username,firstname,lastname,email,idnumber,institution,department,customfields"


class MoodleConnector(Connector, Pushes):
    """Reads course completions; marks a certification activity complete for a person."""

    def __init__(
        self,
        config: MoodleSourceConfig,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.zone = config.timezone
        http = HttpClient.for_source(
            config, session or requests.Session(), sleep, endpoint=config.base_url
        )
        self.ws = MoodleWs(config.name, config.base_url, config.token.get(), http)
        self.certification = Certification(config, self.ws)

    def check(self) -> CheckResult:
        return run_checks(
            ("web service functions", self._offers_functions),
            ("courses and people", self._courses_and_people),
        )

    def _offers_functions(self) -> str:
        info = self.ws.call("core_webservice_get_site_info")
        offered = {f.get("name") for f in (info or {}).get("functions", [])}
        missing = [f for f in self.functions() if f not in offered]
        if missing:
            raise ConfigurationError(
                f"source {self.name!r}: the token's external service lacks "
                f"{', '.join(missing)}; add them in Moodle (Site administration > Server > "
                "Web services > External services)"
            )
        return f"the token's service offers the {len(self.functions())} functions this source calls"

    def _courses_and_people(self) -> str:
        courses = self.courses()
        hidden = None if self.config.report_id else self._hidden_usernames(courses)
        if hidden:
            raise ConfigurationError(hidden)
        return f"{len(courses)} course(s) found"

    def _hidden_usernames(self, courses: list[Course]) -> str | None:
        """What is missing when Moodle lists people without usernames (it shows them only
        with moodle/user:viewalldetails), judged on the first person of the first course."""
        for course in courses[:1]:
            people = next(self._tracked_people(course, size=1), [])
            if people and "username" not in people[0]:
                return (
                    f"source {self.name!r}: Moodle hides usernames and ID numbers of course "
                    f"{course.id}'s people from the token's user: give it "
                    "moodle/user:viewalldetails"
                )
        return None

    def functions(self) -> list[str]:
        """The Web Service functions this source's settings call."""
        needed = ["core_webservice_get_site_info", "core_course_get_courses_by_field"]
        if self.config.report_id:
            needed += ["core_reportbuilder_set_filters", "core_reportbuilder_retrieve_report"]
        else:
            needed += [
                "core_enrol_get_enrolled_users",
                "core_completion_get_course_completion_status",
            ]
        if self.config.certification_cmid:
            needed += PUSH_FUNCTIONS
        return needed

    def courses(self) -> list[Course]:
        """The configured courses, by id, shortname and category, in id order.

        Raises:
            ConfigurationError: a configured id or shortname is not on the site.
        """
        found: dict[int, Course] = {}
        lookups: list[tuple[str, Any]] = []
        if self.config.course_ids:
            lookups.append(("ids", ",".join(map(str, self.config.course_ids))))
        lookups += [("shortname", s) for s in self.config.course_shortnames]
        lookups += [("category", c) for c in self.config.category_ids]
        for field, value in lookups:
            body = self.ws.call("core_course_get_courses_by_field", field=field, value=value)
            for raw in (body or {}).get("courses", []):
                found[int(raw["id"])] = course_from(raw)
        unknown = [str(i) for i in self.config.course_ids if i not in found]
        shortnames = {c.shortname for c in found.values()}
        unknown += [s for s in self.config.course_shortnames if s not in shortnames]
        if unknown:
            raise ConfigurationError(
                f"source {self.name!r}: no course {', '.join(unknown)} on the site, or the "
                "token's user cannot see it"
            )
        return [found[i] for i in sorted(found)]

    def full_pass_every(self, cursor: dict[str, Any] | None) -> timedelta | None:
        """How often the sync runner should read the source whole when its `full_every` is not
        set: weekly for the report route, whose filter on the completion time never sees a
        completion recorded later with an earlier date; never for the per-user route, which
        reads every course whole on every pass anyway."""
        return REPORT_FULL_EVERY if self.config.report_id else None

    def pull(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        if self.config.report_id:
            yield from self._pull_report(cursor)
        else:
            yield from self._pull_by_user(cursor)

    def _pull_by_user(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        """Course after course; the cursor records the courses done in this pass."""
        done = list((MoodleStatusCursor.from_json(self.name, cursor) or MoodleStatusCursor()).done)
        for course in self.courses():
            if course.id in done:
                continue
            if not course.completion_enabled:
                log.warning("course %s (%s) does not track completion", course.id, course.shortname)
                continue
            yield from self._course_completions(course)
            done.append(course.id)
            yield Checkpoint(MoodleStatusCursor(tuple(done)).to_json())
        yield Checkpoint(MoodleStatusCursor().to_json())

    def _course_completions(self, course: Course) -> Iterator[PullItem]:
        """The course's completions; a course Moodle reports no completion for is passed over
        with a warning, so one course never stops the source."""
        pool = ThreadPoolExecutor(self.config.concurrency, thread_name_prefix=self.name)
        try:
            for people in self._tracked_people(course):
                statuses = list(pool.map(lambda person: self._status(course, person), people))
                for person, status in zip(people, statuses, strict=True):
                    if isinstance(status, Fault) and status.code in COURSE_FAULTS:
                        yield _untracked(course, status)
                        return
                    item = self._status_record(course, person, status)
                    if item is not None:
                        yield item
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _tracked_people(
        self, course: Course, size: int | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of the people whose completion the course tracks, up to an empty page: Moodle
        leaves out of a page the people it will not show, so a short page is not the last."""
        pages = OffsetPaginator(self.name, size or self.config.page_size)
        while not pages.finished:
            options = {"withcapability": TRACKED, "userfields": USER_FIELDS}
            options |= {"limitfrom": pages.current, "limitnumber": pages.size}
            people = self.ws.call(
                "core_enrol_get_enrolled_users",
                subject=f"course {course.id}",
                courseid=course.id,
                options=[{"name": k, "value": v} for k, v in options.items()],
            )
            if not isinstance(people, list):
                raise SourceError(f"source {self.name!r}: enrolled users of {course.id} not a list")
            pages.advance(CountedPage(tuple(p.get("id") for p in people)))
            if people:
                yield people

    def _status(self, course: Course, person: dict[str, Any]) -> Any:
        return self.ws.call(
            "core_completion_get_course_completion_status",
            subject=f"course {course.id} ({course.shortname})",
            tolerate=PERSON_FAULTS + COURSE_FAULTS,
            courseid=course.id,
            userid=person["id"],
        )

    def _status_record(
        self, course: Course, person: dict[str, Any], body: Any
    ) -> CompletionRecord | Rejected | Skipped | None:
        """A completion when the course is complete: dated by its criteria's completion times."""
        location = f"course {course.id} user {person.get('id')}"
        if isinstance(body, Fault):
            if body.code == "usernotenroled":
                return Skipped(location, NOT_ENROLLED)
            return Rejected(location, f"Moodle refused the status ({body.code}): {body.message}")
        status = (body or {}).get("completionstatus") or {}
        if not status.get("completed"):
            return None
        times = [
            int(c["timecompleted"])
            for c in status.get("completions", [])
            if c.get("complete") and c.get("timecompleted")
        ]
        if not times:
            return Rejected(location, "complete, but no criterion carries a completion time")
        # All criteria required: complete when the last was met; any one: when the first was.
        stamp = min(times) if status.get("aggregation") == AGGREGATION_ANY else max(times)
        completed = datetime.fromtimestamp(stamp, tz=self.zone)
        learner = self._learner(person)
        if learner.employee_id is None and learner.email is None:
            return Rejected(location, self._unidentified(), {"userid": learner.userid})
        return self._record(course, learner, completed, location)

    def _unidentified(self) -> str:
        field = self.config.employee_id_field
        return (
            f"complete, but Moodle showed neither {field} nor email for the person: give the "
            "token's user moodle/user:viewalldetails, or add the fields to the site's "
            "showuseridentity"
        )

    def _record(
        self, course: Course, learner: Learner, completed: datetime, location: str
    ) -> CompletionRecord:
        """Keyed on course and username, which both routes know, so switching doubles nothing;
        on the Moodle user id when Moodle hides usernames (without moodle/user:viewalldetails)."""
        who = learner.username or f"id{learner.userid}"
        return CompletionRecord(
            external_id=f"moodle:{course.id}:{who}",
            location=location,
            course_key=f"moodle:{course.id}",
            course_title=course.fullname,
            completed_on=completed.date(),
            employee_id=learner.employee_id,
            email=learner.email,
            agency=self.config.agency,
            account=self._account(learner),
            payload={
                "courseid": course.id,
                "shortname": course.shortname,
                "course_idnumber": course.idnumber,
                "userid": learner.userid,
                "username": learner.username,
                "employee_id": learner.employee_id,
                "institution": learner.institution,
                "timecompleted": completed.isoformat(),
            },
        )

    def _account(self, learner: Learner) -> str | None:
        return None if learner.userid is None else account(self.config.base_url, learner.userid)

    def _learner(self, person: dict[str, Any]) -> Learner:
        field = self.config.employee_id_field
        value = person.get(field)
        if field.startswith("profile:"):
            shortname = field.removeprefix("profile:")
            fields = person.get("customfields") or []
            value = next((f.get("value") for f in fields if f.get("shortname") == shortname), None)
        return Learner(
            username=text_or_none(person.get("username")),
            email=text_or_none(person.get("email")),
            employee_id=text_or_none(value),
            userid=int(person["id"]),
            institution=text_or_none(person.get("institution")),
        )

    def _pull_report(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        """Rows completed since the cursor (less the overlap); one checkpoint at the end."""
        resume = MoodleReportCursor.from_json(self.name, cursor) or MoodleReportCursor()
        newest = resume.completed_through
        by_shortname = {c.shortname: c for c in self.courses()}
        self._set_report_filter(newest)
        report = ReportReader(self.config, self.zone)
        for number, cells, headers in self._report_rows():
            report.read_headers(headers)
            item = report.row(cells, number, by_shortname)
            if isinstance(item, tuple):
                course, learner, completed = item
                location = f"report {self.config.report_id} row {number}"
                yield self._record(course, learner, completed, location)
                newest = later(newest, completed)
            elif item is not None:
                yield item
        yield Checkpoint(MoodleReportCursor(newest).to_json())

    def _report_rows(self) -> Iterator[tuple[int, list[Any], list[Any]]]:
        """(row number, cells, headers) of every row, page after page, up to the reported
        total or an empty page."""
        pages = PageNumberPaginator(self.name, self.config.page_size)
        while not pages.finished:
            page = pages.current
            body = self.ws.call(
                "core_reportbuilder_retrieve_report",
                subject=f"report {self.config.report_id}",
                reportid=self.config.report_id,
                page=page,
                perpage=pages.size,
            )
            data = (body or {}).get("data") or {}
            rows = data.get("rows") or []
            total = data.get("totalrowcount")
            keys = tuple(json.dumps(row, sort_keys=True) for row in rows)
            pages.advance(CountedPage(keys, None if total is None else int(total)))
            for number, row in enumerate(rows, start=page * pages.size + 1):
                yield number, row.get("columns") or [], data.get("headers") or []

    def _set_report_filter(self, newest: str | None) -> None:
        overlap = timedelta(hours=self.config.report_overlap_hours)
        self.ws.call(
            "core_reportbuilder_set_filters",
            subject=f"report {self.config.report_id}",
            reportid=self.config.report_id,
            values=json.dumps(filter_values(self.config.report_filter, newest, overlap)),
        )

    def push(self, notice: CredentialNotice) -> str:
        """Complete the certification activity for the person (Moodle then issues its badge)."""
        return self.certification.issue(notice)

    def revoke(self, notice: CredentialNotice) -> str:
        """Set the certification activity back to incomplete, unless another of the person's
        credentials still stands."""
        return self.certification.withdraw(notice)


def _untracked(course: Course, fault: Fault) -> Skipped:
    return Skipped(
        f"course {course.id} ({course.shortname})",
        f"passed over: Moodle reports no completion for it ({fault.code}: {fault.message}); "
        "give the course completion criteria",
    )
