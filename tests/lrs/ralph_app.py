"""Ralph's LRS app with its filesystem backend made usable for our tests.

This module runs inside the separate Ralph venv (see ``tests/lrs_server.py``), never in
the project's venv: ``uvicorn ralph_app:app --app-dir tests/lrs``. It patches
``FSLRSBackend`` (ralph-malph 5.1.0) *before* ``ralph.api`` is imported, because that
import instantiates the backend named by ``RALPH_RUNSERVER_BACKEND``.

Three defects are fixed; every other deviation from xAPI is left as Ralph has it.
"""

from __future__ import annotations

import email_validator
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

# (1) The fs backend writes every request's statements to the same file
# (``fs_lrs.jsonl``) with the inherited CREATE mode, which refuses an existing file:
# the second POST/PUT fails with 500. APPEND opens the file in "ab" mode.
FSLRSBackend.default_operation_type = BaseOperationType.APPEND

# (2) The statements router turns the ``verb`` and ``activity`` query parameters into
# ``ralph.models.xapi.base.common.IRI`` (a pydantic RootModel) which never compares
# equal to the ``str`` ids in the stored statements, so these filters matched nothing.
# Original signatures (both staticmethods, called as ``self._add_filter_by_...``):
#   _add_filter_by_verb(filters: list, verb_id: Optional[str]) -> None
#   _add_filter_by_activity(filters: list, object_id: Optional[str],
#                           related: Optional[bool]) -> None
_add_filter_by_verb = FSLRSBackend._add_filter_by_verb
_add_filter_by_activity = FSLRSBackend._add_filter_by_activity


def _as_str(value: object) -> str | None:
    return None if value is None else str(value)


def _add_filter_by_verb_str(filters: list, verb_id: object) -> None:
    _add_filter_by_verb(filters, _as_str(verb_id))


def _add_filter_by_activity_str(filters: list, object_id: object, related: object) -> None:
    _add_filter_by_activity(filters, _as_str(object_id), related)


FSLRSBackend._add_filter_by_verb = staticmethod(_add_filter_by_verb_str)
FSLRSBackend._add_filter_by_activity = staticmethod(_add_filter_by_activity_str)

# (3) Every ``mailto:`` IRI (actor, authority, the users in RALPH_AUTH_FILE) goes through
# ``email_validator.validate_email`` with its default deliverability check: a DNS MX
# lookup (15 s timeout) that rejects example.com/.org (null MX) and, where DNS only
# knows the package registries, every domain. Syntax is still checked; TEST_ENVIRONMENT
# also admits ``*.test`` addresses. ``validate_email`` reads these globals per call.
email_validator.CHECK_DELIVERABILITY = False
email_validator.TEST_ENVIRONMENT = True

from ralph.api import app  # noqa: E402  (must come after the patches above)

__all__ = ["app"]
