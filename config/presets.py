"""Column-map presets for vendor exports read by the csv/xlsx source, and how one is applied.

A preset is plain data with the keys a csv/xlsx source accepts: `role`, `columns` (field →
header), `date_format`, `provider` and `count_only` (which rows count, by the value of one
column; the other rows are skipped, e.g. pending or rejected credentials). The source's own
settings win over the preset's; its `columns` are merged over the preset's column map.
Users define their own under `[presets.NAME]` in the configuration, with the same keys; a
user preset of the same name as a built-in one replaces it.
"""

from __future__ import annotations

from typing import Any

VECTOR_COUNTED_STATUSES = (
    "Active",
    "Valid",
    "Current",
    "Approved",
    "Completed",
    "Expiring",
    "Expiring Soon",
    "Expired",
)

BUILT_IN: dict[str, dict[str, Any]] = {
    # Vector Solutions / TargetSolutions credential export. The Credential names the course;
    # Start Date is when it was earned, Expiration Date when it lapses. Rows whose Status is
    # one of VECTOR_COUNTED_STATUSES count: an expired credential was valid until its
    # Expiration Date, which (not its status today) decides validity as of any date. Pending,
    # submitted, rejected, revoked or inactive credentials were never or are no longer earned
    # and are skipped. Credential Number, Days to Expiration and Notes are not needed.
    "vector-credentials": {
        "role": "completions",
        "columns": {
            "employee_id": "Employee ID",
            "course_id": "Credential",
            "course_title": "Credential",
            "completed_on": "Start Date",
            "expires_on": "Expiration Date",
        },
        "date_format": "%m/%d/%Y",
        "provider": "Vector Solutions",
        "count_only": {"column": "Status", "values": list(VECTOR_COUNTED_STATUSES)},
    },
    # A training-history export in the shape Acadis, PowerDMS and similar law-enforcement LMSs
    # produce: one row per completed class. Columns an export lacks (Email, Provider, Hours,
    # Expiration Date) are simply not read.
    "training-history": {
        "role": "completions",
        "columns": {
            "employee_id": "Employee ID",
            "email": "Email",
            "course_id": "Course ID",
            "course_title": "Course Title",
            "provider": "Provider",
            "hours": "Hours",
            "completed_on": "Completion Date",
            "expires_on": "Expiration Date",
        },
        "date_format": "%m/%d/%Y",
    },
    # The MHFA provider's certificate roster: every row is an issued certificate, identified
    # by email; the course type ("Mental Health First Aid for Public Safety", "Adult Mental
    # Health First Aid") names the course. Without an expiration date the 3-year term applies.
    "mhfa-roster": {
        "role": "completions",
        "columns": {
            "employee_id": "Employee ID",
            "email": "Email",
            "course_id": "Course Type",
            "course_title": "Course Type",
            "hours": "Hours",
            "completed_on": "Completion Date",
            "expires_on": "Expiration Date",
        },
        "date_format": "%m/%d/%Y",
        "provider": "National Council for Mental Wellbeing",
    },
}

PRESET_KEYS = ("role", "date_format", "provider", "count_only")


def apply_preset(source: dict[str, Any], preset: dict[str, Any]) -> dict[str, Any]:
    """The raw source settings with the preset's filled in where the source leaves them out."""
    merged = dict(source)
    columns = preset.get("columns") or {}
    own = source.get("columns") or {}
    if isinstance(columns, dict) and isinstance(own, dict):
        merged["columns"] = {**columns, **own}
    for key in PRESET_KEYS:
        if merged.get(key) is None and preset.get(key) is not None:
            merged[key] = preset[key]
    return merged
