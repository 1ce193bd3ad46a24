"""Refuse text no view can use, once, before any view: a 400 instead of a 500 later.

A NUL cannot be stored in or compared with PostgreSQL text, and a lone surrogate has no UTF-8
form, so either one in a path, a query string, a header or a form field used to surface as a
500 wherever the value reached the database or an encoder. This middleware checks those
places as the client sent them:

- WSGI hands Django the percent-decoded path as latin-1-decoded bytes (`PATH_INFO`); Django
  re-decodes it as UTF-8 and percent-encodes again the bytes that are not UTF-8 (see
  `path_problem`). So `%00` is a NUL here, and `%ED%A0%80` (an encoded lone surrogate) or
  `%FF` show as bytes that are not UTF-8.
- The query string and urlencoded form bodies arrive percent-encoded; Django decodes them with
  `errors="replace"`, which hides invalid bytes, so they are percent-decoded and checked here.
- Header values and multipart form fields are checked as text (NUL, lone surrogates).

JSON bodies are not this layer's business: `scanners.strict_json` reads them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from scanners.strict_json import bad_text

logger = logging.getLogger(__name__)
Handler = Callable[[HttpRequest], HttpResponse]
_NOT_UTF8 = "bytes that are not UTF-8 (an encoded lone surrogate, or binary)"
_FORM = "application/x-www-form-urlencoded"
_REPERCENTED = re.compile(r"%[89a-f][0-9a-f]", re.IGNORECASE)


def bytes_problem(raw: bytes) -> str | None:
    """Why `raw` is not usable text (a NUL, not UTF-8), or None."""
    if b"\x00" in raw:
        return "a NUL character"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return _NOT_UTF8
    return None


def _wire_problem(value: str) -> str | None:
    """A WSGI string is the wire's bytes decoded as latin-1: check those bytes. A string that
    is not latin-1 was decoded already (ASGI, the test client): check it as text."""
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        return bad_text(value)
    return bytes_problem(raw)


def _encoded_problem(value: bytes) -> str | None:
    """A percent-encoded query string or urlencoded form body."""
    return bytes_problem(unquote_to_bytes(value.replace(b"+", b" ")))


def path_problem(path_info: str) -> str | None:
    """Django decodes the WSGI path's bytes as UTF-8 after percent-encoding again each byte
    that is not UTF-8 (`repercent_broken_unicode`), in META and in the environ alike: so a
    `%` followed by a non-ASCII byte's hex in the decoded path is such a byte (no route of
    this site holds a literal `%`)."""
    if found := bad_text(path_info):
        return found
    if _REPERCENTED.search(path_info):
        return _NOT_UTF8
    return None


def _query_problem(value: str) -> str | None:
    """The query string: percent-encoded wire bytes (or, if not latin-1, decoded text)."""
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        if found := bad_text(value):
            return found
        raw = value.encode("utf-8")
    return _encoded_problem(raw)


def problems(request: HttpRequest) -> Iterator[tuple[str, str]]:
    """(where, what) for each unusable part of the request, in the order checked."""
    meta = request.META
    if found := path_problem(request.path_info):
        yield "the path", found
    if found := _query_problem(meta.get("QUERY_STRING", "")):
        yield "the query string", found
    for key, value in meta.items():
        header = key.startswith("HTTP_") or key in {"CONTENT_TYPE", "CONTENT_LENGTH"}
        if header and isinstance(value, str) and (found := _wire_problem(value)):
            yield f"the {key.removeprefix('HTTP_').replace('_', '-').title()} header", found
    yield from _form_problems(request)


def _form_problems(request: HttpRequest) -> Iterator[tuple[str, str]]:
    if request.method != "POST":
        return
    if request.content_type == _FORM:
        if found := _encoded_problem(request.body):
            yield "a form field", found
    elif request.content_type == "multipart/form-data":
        for key, values in request.POST.lists():
            for text in (key, *values):
                if found := bad_text(text):
                    yield "a form field", found
                    return


def refusal(request: HttpRequest, where: str, what: str) -> HttpResponse:
    """The 400: JSON `{code, message, details}` from the JSON API (/api/v1/), plain text
    elsewhere, the /api/ reference page included."""
    message = f"{where} contains {what}: send UTF-8 text without NUL characters"
    if request.path_info.startswith("/api/v1/"):
        details = {"where": where, "problem": what}
        return JsonResponse(
            {"code": "bad_request", "message": message, "details": details}, status=400
        )
    return HttpResponseBadRequest(f"Bad request: {message}.\n", content_type="text/plain")


class BadInputMiddleware:
    """Answer 400 to a request whose path, query, headers or form hold unusable text."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Check, then pass on (or refuse without reaching any view)."""
        found = next(problems(request), None)
        if found is None:
            return self.get_response(request)
        where, what = found
        logger.info("bad input refused: %s contains %s", where, what)
        return refusal(request, where, what)
