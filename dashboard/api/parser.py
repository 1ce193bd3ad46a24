"""The API reads JSON bodies with the project's one strict reader (scanners.strict_json)."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from ninja.parser import Parser

from scanners import strict_json


class StrictParser(Parser):
    """ninja's parser, minus what `json.loads` lets through: NaN, duplicate keys, deep
    nesting, NUL and lone surrogates. ninja turns the `JSONInputError` into an HttpError(400)
    whose cause `errors.install` reads back into a clear answer."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        """The body as JSON, or `strict_json.JSONInputError`."""
        return cast(dict[str, Any], strict_json.loads(request.body))
