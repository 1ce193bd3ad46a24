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
        stamp = match.group(1)
        when = datetime.fromisoformat(stamp)
        # "… ago" counts whole minutes at most: within one elapsed minute it reads the same.
        minutes = int((moment - when).total_seconds() // 60)
        return _age(stamp, minutes, when, moment)

    return SafeString(_AGO.sub(age, html))  # escaped panel, ages by format_html  # nosec B703


def _age(stamp: str, minutes: int, when: datetime, moment: datetime) -> str:
    """The `<time>` element of `stamp` `minutes` after it, each rendered once per process
    (a busy page repeats the same times within the minute: Django's timesince is the costly
    part of serving a cached page)."""
    key = (stamp, minutes)
    found = _AGES.get(key)
    if found is None:
        found = format_html(
            '<time datetime="{}" data-ago>{} ago</time>', stamp, timesince(when, moment)
        )
        if len(_AGES) >= _AGES_MAX:
            _AGES.clear()
        _AGES[key] = found
    return found


_AGES: dict[tuple[str, int], str] = {}
_AGES_MAX = 4096
