"""Export the index as one row per post, for researchers' notebooks and spreadsheets.

Rows come from `Index.iter_posts` (ordered by first capture); the columns are
`archiver.index.EXPORT_FIELDS`:

    platform, id, url, status, status_reason, author_handle, author_name, text, created_at,
    articles, media, records, captured_at, last_checked

`platform` is lowercase (`twitter` for X) and `id` is always a string: tweet ids overflow the
float64 that spreadsheets and JavaScript read numbers as.
"""

from __future__ import annotations

import csv
import json
from typing import Any, Iterable, TextIO

from archiver.index import EXPORT_FIELDS, Index

__all__ = ["EXPORT_FIELDS", "export_jsonl", "export_csv", "csv_row"]


def export_jsonl(index: Index, out: TextIO, **filters: Any) -> int:
    """Write one JSON object per line (UTF-8 text kept as is); return the row count.

    Lists stay structured: `articles` is a list of URLs, `media` a list of
    `{url, kind, sha256, captured}`, `records` a list of `{url, warc, offset, length}`.
    `filters` go to `Index.iter_posts` (changed_since, status, platform).
    """
    count = 0
    for row in index.iter_posts(**filters):
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def export_csv(index: Index, out: TextIO, **filters: Any) -> int:
    """Write a header and one CSV row per post; return the row count (header excluded).

    Same columns as JSONL. Empty values (None) are empty cells. List columns are flattened:

    - `articles`: URLs joined with `;`
    - `media`: one `url|kind|sha256|captured` item per file, joined with `;`;
      `captured` is `1` or `0`, a missing sha256 is empty
    - `records`: one `url|warc|offset|length` item per record, joined with `;`

    A literal `;` or `|` inside an item field (only URLs can hold them) is written as `%3B` /
    `%7C`, which addresses the same resource, so splitting on `;` then `|` is always safe.
    Open `out` with `newline=""`, as the csv module requires.
    """
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    count = 0
    for row in index.iter_posts(**filters):
        writer.writerow(csv_row(row))
        count += 1
    return count


def csv_row(row: dict) -> dict[str, str]:
    """Flatten one export row to CSV cells (format in `export_csv`)."""
    flat = {k: _cell(row.get(k)) for k in EXPORT_FIELDS}
    flat["articles"] = _join([_item(url) for url in row.get("articles") or []])
    flat["media"] = _join(
        _item(m["url"], m["kind"], m.get("sha256"), "1" if m.get("captured") else "0")
        for m in row.get("media") or []
    )
    flat["records"] = _join(
        _item(r["url"], r["warc"], r["offset"], r["length"]) for r in row.get("records") or []
    )
    return flat


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _escape(value: Any) -> str:
    return _cell(value).replace(";", "%3B").replace("|", "%7C")


def _item(*fields: Any) -> str:
    return "|".join(_escape(f) for f in fields)


def _join(items: Iterable[str]) -> str:
    return ";".join(items)
