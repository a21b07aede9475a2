"""The store's tables, one module per area, all declared on one `Base` (importing this
package declares every table: the metadata migrations and `create_all` see is complete).
Every domain row keeps the raw record it came from (provenance)."""

from __future__ import annotations

from onemind.store.models.agencies import Agency, AgencyStatusChange, Attestation
from onemind.store.models.base import NAMING, Base, Id
from onemind.store.models.coverage import (
    SHARE_INDEXES,
    SHARES,
    CoverageBasis,
    CoverageCounts,
    CoverageDirtyAgency,
    CoverageDirtyPerson,
    CoverageLatest,
    CoverageLatestDate,
    CoveragePerson,
    CoverageSnapshot,
    CoverageTodo,
    share_key,
)
from onemind.store.models.credentials import Credential, CredentialPush, SigningKey
from onemind.store.models.mapping import Category, Course, CourseTitle, MappingRule
from onemind.store.models.people import Employment, Person, PersonIdentifier
from onemind.store.models.records import (
    BULK_TABLES,
    Completion,
    QuarantinedRecord,
    RawBatch,
    RawRecord,
    Voiding,
    declared_on,
)
from onemind.store.models.reports import ReportArchive, ReportClaim
from onemind.store.models.sources import DeferredIndex, Source, SyncLock, SyncRun, apscheduler_jobs
from onemind.store.models.web import ApiToken, AuditEntry, LoginAttempt, User, WebSecret

__all__ = [
    "BULK_TABLES",
    "NAMING",
    "SHARES",
    "SHARE_INDEXES",
    "Agency",
    "AgencyStatusChange",
    "ApiToken",
    "Attestation",
    "AuditEntry",
    "Base",
    "Category",
    "Completion",
    "Course",
    "CourseTitle",
    "CoverageBasis",
    "CoverageCounts",
    "CoverageDirtyAgency",
    "CoverageDirtyPerson",
    "CoverageLatest",
    "CoverageLatestDate",
    "CoveragePerson",
    "CoverageSnapshot",
    "CoverageTodo",
    "Credential",
    "CredentialPush",
    "DeferredIndex",
    "Employment",
    "Id",
    "LoginAttempt",
    "MappingRule",
    "Person",
    "PersonIdentifier",
    "QuarantinedRecord",
    "RawBatch",
    "RawRecord",
    "ReportArchive",
    "ReportClaim",
    "SigningKey",
    "Source",
    "SyncLock",
    "SyncRun",
    "User",
    "Voiding",
    "WebSecret",
    "apscheduler_jobs",
    "declared_on",
    "share_key",
]
