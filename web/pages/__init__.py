"""The HTML pages, one router per area."""

from __future__ import annotations

from onemind.web.pages import (
    agencies,
    attestations,
    auth,
    certificates,
    hub,
    mapping,
    runs,
    users,
)

ROUTERS = [
    auth.router,
    hub.router,
    agencies.router,
    attestations.router,
    runs.router,
    mapping.router,
    certificates.router,
    users.router,
]
