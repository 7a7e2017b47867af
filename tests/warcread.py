"""Reading archives back in tests: every record fully read, `warcio check`, WARC 1.1 header rules,
the index read-only."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

DATE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
ID_RE = re.compile(r"^<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}>$")


def read_records(path: Path) -> list[dict]:
    """Every record, fully read (so warcio's framing checks run), as plain dicts."""
    out = []
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for rec in it:
            content = rec.content_stream().read()
            out.append({
                "type": rec.rec_type,
                "headers": list(rec.rec_headers.headers),
                "h": rec.rec_headers,
                "version": rec.rec_headers.protocol,
                "http": rec.http_headers,
                "content": content,
                "offset": it.get_record_offset(),
                "length": it.get_record_length(),
            })
    return out


def warcio_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import sys; from warcio.cli import main; main(sys.argv[1:])",
         "check", "-v", str(path)],
        capture_output=True, text=True)


def assert_valid_headers(rec: dict) -> None:
    """The WARC 1.1 header rules warcio check does not look at (jwarc-style)."""
    h, rtype = rec["h"], rec["type"]
    assert rec["version"] == "WARC/1.1"
    counts = Counter(name.lower() for name, _ in rec["headers"])
    repeated = [n for n, c in counts.items() if c > 1 and n != "warc-concurrent-to"]
    assert not repeated, repeated
    for field in ("WARC-Record-ID", "Content-Length", "WARC-Date", "WARC-Type"):
        assert h.get_header(field), field
    assert ID_RE.match(h.get_header("WARC-Record-ID"))
    assert DATE_RE.match(h.get_header("WARC-Date"))
    uri = h.get_header("WARC-Target-URI")
    if rtype == "warcinfo":
        assert uri is None
    elif rtype in ("response", "request", "revisit", "resource"):
        assert uri and not uri.startswith("<") and not re.search(r"\s", uri)
    if rtype != "warcinfo":
        assert h.get_header("WARC-Filename") is None
    if rtype != "revisit":
        assert h.get_header("WARC-Refers-To-Target-URI") is None
        assert h.get_header("WARC-Refers-To-Date") is None
        assert h.get_header("WARC-Profile") is None
    if rtype in ("warcinfo", "response", "resource", "request"):
        assert h.get_header("WARC-Refers-To") is None
    if rtype == "revisit":
        assert h.get_header("WARC-Profile") and h.get_header("WARC-Payload-Digest")
    for name in ("WARC-Concurrent-To", "WARC-Refers-To", "WARC-Warcinfo-ID"):
        for n, v in rec["headers"]:
            if n == name:
                assert ID_RE.match(v), (n, v)
    if int(h.get_header("Content-Length")):
        assert h.get_header("Content-Type")


def index_rows(archive: Path, sql: str, *params) -> list[tuple]:
    """Rows of a query on the archive's index, opened read-only."""
    conn = sqlite3.connect((archive / "index.sqlite3").resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
