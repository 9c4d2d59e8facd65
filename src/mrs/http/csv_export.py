"""CSV downloads that Excel opens correctly in Japanese: UTF-8 with a byte order mark,
and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from starlette.responses import Response

BOM = "\ufeff"


def _safe(value: object) -> object:
    # A name starting with = + - @ would be run as a formula by spreadsheets.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The rows as CSV text starting with the BOM (lines end CRLF, as RFC 4180 says)."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_safe(value) for value in row] for row in rows)
    return buffer.getvalue()


def csv_download(text: str, *, filename: str) -> Response:
    """A download: text/csv, saved as `filename` (a name made by the server, plain ASCII)."""
    return Response(
        content=text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
