"""The one streaming CSV helper every export uses: views give a filename and rows, nothing more.

Memory stays flat whatever the row count: rows come from a generator (querysets read with
`.iterator()`), and lines leave in chunks of about 64 KiB. Cells are UTF-8, times ISO 8601 UTC,
and text that a spreadsheet would run as a formula is neutralised.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime

from django.http import StreamingHttpResponse

CHUNK_BYTES = 64 * 1024
# A spreadsheet treats a cell starting with these as a formula (or, for tab and CR, may
# strip them and then see one): team and repository names are user data.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose `write` hands the line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def cell(value: object) -> str:
    """One value as CSV text: empty for None, ISO times, neutralised formulas."""
    if type(value) is str:  # the common case first: most cells are text
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else f"{value:.2f}".rstrip("0")
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """The header and every row as UTF-8 CSV, in chunks of about CHUNK_BYTES."""
    writer = csv.writer(_Echo())
    buffer: list[str] = [writer.writerow([cell(name) for name in header])]
    size = 0
    for row in rows:
        line = writer.writerow([cell(value) for value in row])
        buffer.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """The whole file `csv_response` would stream, in memory: for attachments (small files)."""
    return b"".join(csv_lines(header, rows))


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> StreamingHttpResponse:
    """A streaming CSV download named `filename`."""
    response = StreamingHttpResponse(
        csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in filename)
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    response["Cache-Control"] = "private, no-store"
    return response
