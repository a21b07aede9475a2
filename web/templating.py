"""Pages from Jinja2 templates (autoescaped): templates are given data, they never query."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from onemind.reports.content import percent
from onemind.reports.render import MARKS
from onemind.web.access import csrf_token

_ENV = Environment(
    loader=PackageLoader("onemind.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


def _day(value: date | None) -> str:
    return value.isoformat() if value else "—"


_ENV.filters["pct"] = _pct
_ENV.filters["day"] = _day
_ENV.globals["marks"] = MARKS
_ENV.globals["pct"] = percent


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """The template filled with `context`, the signed-in user and the form token."""
    page = _ENV.get_template(name).render(
        request=request,
        me=getattr(request.state, "principal", None),
        csrf=csrf_token(request),
        partial=request.headers.get("hx-request") == "true",
        **(context or {}),
    )
    return HTMLResponse(page, status)
