"""Rendering page panels that the page cache shares between users."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest, QueryDict
from django.template.loader import get_template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince


@dataclass(frozen=True, slots=True)
class QueryOnly:
    """What a shared panel may read of the request: its query string (for table links)."""

    GET: QueryDict


def render_panel(request: HttpRequest, template_name: str, context: dict[str, Any]) -> SafeString:
    """Render a template (or `page.html#partial`) as a panel that may be shared.

    No context processors run and the request is reduced to its query string, so a panel
    cannot hold the user, the CSRF token or messages; what else differs between users must be
    in the panel's cache key (see dashboard/views/pagecache.py).
    """
    html = get_template(template_name).render({**context, "request": QueryOnly(request.GET)})
    return SafeString(html)  # a template's autoescaped output  # nosec B703


_AGO = re.compile(r'<time datetime="([^"<>]+)" data-ago>[^<]*</time>')


def with_current_ages(html: str, now: datetime | None = None) -> SafeString:
    """Rewrite the "… ago" of every `<time datetime="…" data-ago>` for now.

    A cached panel keeps its relative times right however long it is kept: they are the only
    part of it that changes with the clock rather than with the data.
    """
    moment = now or timezone.now()

    def age(match: re.Match[str]) -> str:
        when = datetime.fromisoformat(match.group(1))
        return format_html(
            '<time datetime="{}" data-ago>{} ago</time>', match.group(1), timesince(when, moment)
        )

    return SafeString(_AGO.sub(age, html))  # escaped panel, ages by format_html  # nosec B703
