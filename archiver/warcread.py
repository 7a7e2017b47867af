"""Reading any tool's WARC (and ARC) files into index rows, on top of `archiver.verify`'s reader.

`archiver.verify` already reads WARC files the careful way: gzip members parsed by hand (exact
member offsets even past damage), records framed by Content-Length, every problem reported with
its file and offset, never an exception. `archiver import` and `archiver reindex` need the same
reading plus what an index row holds, so this module drives that reader (`_FileScan`) and turns
what it saw into `RecordRef`s instead of writing a second one. What is added here:

* ARC files (Internet Archive ARC v1 and v2, plain or gzipped per record): `ArcRecords` is a
  record parser with the same driver interface as verify's WARC parser, so the gzip layer,
  resynchronisation and reporting are shared. ARC records carry no record id: `arc_record_id`
  synthesises a stable one (a name-based UUID of the header line and the block's sha1), so a
  later `reindex` gives the same ids.
* `scan`: one pass over one file, giving its records with everything an index row needs, the
  problems and notes (as `verify_file` words them), the file's size and sha256, and, for
  callers that ask (`keep`/`on_record`), payloads of chosen records.
* `reframe`: a copy of a file that is not one gzip member per record (uncompressed, a whole-file
  gzip, damaged) holding its readable records one per member, record bytes unchanged: otherwise
  no index offset can address one record of it.
"""

from __future__ import annotations

import hashlib
import re
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from archiver.models import RecordRef
from archiver.verify import _HEAD_MAX, ERROR, NOTE, Problem, _Block, _FileScan, _Rec, _Records
from archiver.warc import OPEN_SUFFIX

__all__ = ["ArcRecords", "Scan", "arc_record_id", "needs_reframing", "record_ref", "reframe", "scan",
           "stored_name", "unindexable"]

# Namespace of the synthesised ARC record ids (uuid5): fixed forever, or ids change on reindex.
ARC_ID_NAMESPACE = uuid.UUID("6f1c1c7e-3f4a-5b0e-9a43-6d1d2c0e4a11")
_ARC_START = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*:\S*(?: |$)")
_READ = 1 << 20


def arc_record_id(header_line: bytes, block_sha1: str, occurrence: int = 1) -> str:
    """`<urn:uuid:...>` (version 5) of an ARC record's header line and block sha1.

    Content-based, so the same record gets the same id wherever it is stored (a re-framed copy,
    a renamed file, a rebuilt index); `occurrence` tells apart byte-identical records of one file.
    """
    name = header_line.decode("latin-1") + " " + block_sha1 + ("" if occurrence == 1 else f" #{occurrence}")
    return f"<urn:uuid:{uuid.uuid5(ARC_ID_NAMESPACE, name)}>"


def _arc_date(value: str) -> str | None:
    """ARC's 14-digit (sometimes 12- or 17-digit) GMT date as WARC-Date's ISO form."""
    digits = value[:14]
    for fmt in ("%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y%m%d"):
        try:
            return datetime.strptime(digits, fmt).strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            continue
    return None


def _arc_header(line: bytes) -> tuple[list[str], int, str] | str:
    """(fields, block length, ISO date) of an ARC header line, or why it is not one.

    v1: `URL IP-address Archive-date Content-type Archive-length`; v2 adds result code,
    checksum, location, offset and file name before the length. The length is always last.
    """
    fields = line.decode("latin-1").split(" ")
    if len(fields) < 5:
        return f"not an ARC record header (expected 5 or 10 space-separated fields): {line[:60]!r}"
    if not fields[-1].isdigit():
        return f"ARC header's last field (the length) is not a number: {line[:60]!r}"
    date = _arc_date(fields[2]) if fields[2].isdigit() else None
    if date is None:
        return f"ARC header's third field is not a date: {line[:60]!r}"
    return fields, int(fields[-1]), date


class _ArcBlock(_Block):
    """verify's block reader plus the sha1 of the whole block (an ARC record id is made of it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.block_sha1 = hashlib.sha1()

    def update(self, data: bytes) -> None:
        self.block_sha1.update(data)
        super().update(data)


class ArcRecords(_Records):
    """Push parser for ARC records: a header line, `length` block bytes, a newline.

    It is driven exactly like verify's `_Records` (fed inflated bytes, members bracketed), so
    gzipped ARC files get the same member checks, resynchronisation and reporting. The version
    block (`filedesc://`) becomes a `warcinfo`; an http(s) record a `response` whose block is the
    HTTP response; anything else (`dns:`, `ftp:`) a `resource` of the header's content type.
    """

    _LENGTH_FIELD = "its length field ({})"
    _HEADER = "an ARC header line"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._block_start = 0
        self._header = b""
        self._ids: dict[str, int] = {}
        self._line = bytearray()  # plain mode, skipping: the line being scanned
        self._line_start = 0

    @staticmethod
    def starts_record(data: bytes) -> bool:
        return bool(_ARC_START.match(data.lstrip(b"\r\n")))

    def _feed_head(self, data: bytes, i: int) -> int:
        n = len(data)
        if not self._head:
            i = self._begin_head(data, i)
            if i == n:
                return n
        j = data.find(b"\n", i)
        self._head += data[i:n if j < 0 else j]
        if j < 0:
            if len(self._head) > _HEAD_MAX:
                self._error(f"ARC header line not terminated within {_HEAD_MAX} bytes")
                self._head.clear()
                self._state = "skip"
            return n
        line = bytes(self._head).rstrip(b"\r")
        self._head.clear()
        self._block_start = self._pos + j + 1
        self._start_arc(line)
        return j + 1

    def _start_arc(self, line: bytes) -> None:
        parsed = _arc_header(line)
        if isinstance(parsed, str):
            self._error(parsed)
            self._state = "skip"
            self._line_start = self._block_start  # plain mode: the next line may be a header
            return
        fields, length, date = parsed
        url, mime = fields[0], fields[3]
        scheme = url.split(":", 1)[0].lower()
        if scheme == "filedesc":
            rtype, ctype = "warcinfo", mime
        elif scheme in ("http", "https"):
            rtype, ctype = "response", "application/http; msgtype=response"
        else:
            rtype, ctype = "resource", mime
        rec = _Rec(offset=self._where, rtype=rtype, record_id=None, uri=url, payload_digest=None, truncated=None,
                   date=date, content_type=mime if rtype != "response" else ctype,
                   inner=self._start - self._member_pos, synthetic_id=True)
        self._rec = rec
        self._header = line
        self.records.append(rec)
        self._open_block(length, lambda keep: _ArcBlock(rtype, {"content-type": ctype}, self._want_sha256(rec),
                                                        keep=keep, digest_payload=rtype != "warcinfo"))

    def _end_block(self) -> None:
        """The record ends with its block (the newline after it is optional, skipped as a blank line)."""
        block, rec = self._close_block()
        rec.payload_digest = block.computed_digest
        for message in block.problems + block.notes:
            self._emit(self._where, f"{rec.name}: {message}", NOTE)
        base = arc_record_id(self._header, block.block_sha1.hexdigest())
        seen = self._ids[base] = self._ids.get(base, 0) + 1
        rec.record_id = base if seen == 1 else arc_record_id(self._header, block.block_sha1.hexdigest(), seen)
        end = self._block_start + self._length
        rec.complete = True
        rec.inner_end = end - self._member_pos
        if not self._gz:
            rec.length = end - rec.offset
        self._block = None
        self._state = "head"
        if self._on_record is not None:
            self._on_record(rec, block)

    def _scan(self, data: bytes, i: int) -> int:
        """Plain mode, after damage: skip to the next line that reads as an ARC header."""
        n = len(data)
        while i < n:
            j = data.find(b"\n", i)
            if j < 0:
                if len(self._line) <= _HEAD_MAX:
                    self._line += data[i:]
                return n
            self._line += data[i:j]
            line, start = bytes(self._line).rstrip(b"\r"), self._line_start
            self._line.clear()
            self._line_start = self._pos + j + 1
            i = j + 1
            if start and not isinstance(_arc_header(line), str):
                self._where = self._start = start
                self._block_start = self._pos + i
                self._start_arc(line)
                return i
        return n

    def _reset(self) -> None:
        super()._reset()
        self._line.clear()
        # in plain mode a skip starts mid-line: only a line after a newline can be a header
        self._line_start = 0


@dataclass
class Scan:
    """One file as read: its records, what was wrong with it, and its size and sha256."""

    path: Path
    label: str  # how problems name the file
    records: list[_Rec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    size: int | None = None
    sha256: str | None = None  # of the whole file
    arc: bool = False
    gzipped: bool = False
    shared_at: list[int] = field(default_factory=list)  # gzip members holding more than one record

    @property
    def format(self) -> str:
        """`warc.gz`, `warc`, `arc.gz` or `arc`: what the bytes are, whatever the name said."""
        return ("arc" if self.arc else "warc") + (".gz" if self.gzipped else "")

    def add(self, offset: int | None, message: str, level: str = ERROR) -> None:
        finding = Problem(self.label, offset, message, level)
        (self.notes if level == NOTE else self.problems).append(finding)


def scan(path: Path | str, *, label: str | None = None,
         keep: Callable[[_Rec, int | None, str | None], int] | None = None,
         on_record: Callable[[_Rec, _Block], None] | None = None,
         on_finding: Callable[[Problem], None] | None = None,
         open_note: str = "its complete records are read") -> Scan:
    """Read one WARC or ARC file through; never raises for what is in the file.

    `keep(rec, http_status, content_type)` says how many payload bytes of a record to hold for
    `on_record(rec, block)` (`block.kept`), which sees each complete record as it is read.
    """
    path = Path(path)
    out = Scan(path=path, label=label or str(path))
    reader = _FileScan(path, hash_file=True, keep=keep, on_record=on_record, label=out.label, open_note=open_note)
    for finding in reader.run():
        (out.notes if finding.level == NOTE else out.problems).append(finding)
        if on_finding is not None:
            on_finding(finding)
    out.records = reader.records
    out.size, out.sha256 = reader.size, reader.sha256
    out.arc, out.gzipped, out.shared_at = reader.arc, reader.gzipped, list(reader.shared_at)
    synthesised = sum(1 for rec in out.records if rec.synthetic_id and rec.complete)
    if synthesised:
        note = (f"{synthesised} ARC record(s) carry no record id: each was given a stable one, "
                "<urn:uuid:...> version 5 of its ARC header line and its block's sha1")
        out.add(None, note, NOTE)
        if on_finding is not None:
            on_finding(out.notes[-1])
    return out


def unindexable(rec: _Rec) -> str | None:
    """Why a record read from a file cannot have an index row, or None when it can."""
    if not rec.complete:
        return "its framing is broken"  # the scan said how
    if not rec.intact:
        return "its gzip member is damaged (CRC-32 or length), so its bytes cannot be trusted"
    if rec.rtype == "(no WARC-Type)":
        return "it has no WARC-Type"
    if not rec.record_id:
        return "it has no WARC-Record-ID"
    return None


def record_ref(rec: _Rec, warc: str) -> RecordRef:
    """The index row for a record read from file `warc` (its name inside DIR/warcs/, no `.open`).

    Values are what the record says, as `WarcSink` would have returned them for its own records:
    the target URI (WARC/1.0 `<uri>` brackets dropped), the WARC-Date and WARC-Payload-Digest as
    written, the HTTP status and Content-Type of an HTTP record (the WARC Content-Type otherwise),
    and the member's offset and length (the record's own in an uncompressed file). A revisit's
    `WARC-Truncated: length` is its profile's abbreviation, not a cut capture: NULL, as for ours.
    """
    http = (rec.content_type or "").split(";", 1)[0].strip().lower() == "application/http"
    return RecordRef(
        url=rec.uri or "", warc=warc, offset=rec.offset, length=rec.length or 0, record_type=rec.rtype,
        record_id=rec.record_id or "", date=rec.date or "",
        payload_digest=(rec.payload_digest or "").strip() or None,
        http_status=rec.http_status, content_type=rec.http_content_type if http else rec.content_type,
        truncated=None if rec.rtype == "revisit" else (rec.truncated or "").strip() or None,
    )


def stored_name(source: Path, fmt: str) -> str:
    """A safe file name for a copy of `source` in DIR/warcs/: `imported-<stem>.<fmt>`.

    Only the last path component is used, every character outside [A-Za-z0-9._-] becomes `_`,
    and the suffix comes from what the bytes are (`fmt`), never from the name given.
    """
    stem = source.name.removesuffix(OPEN_SUFFIX)
    while True:
        lower = stem.lower()
        for suffix in (".gz", ".warc", ".arc"):
            if lower.endswith(suffix):
                stem = stem[: -len(suffix)]
                break
        else:
            break
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")[:100] or "file"
    return f"imported-{stem}.{fmt}"


def needs_reframing(found: Scan) -> bool:
    """Whether a copy of the file would not be one clean gzip member per record.

    Byte-for-byte copies are kept for files that already are: gzipped per record, and nothing but
    complete, intact records in them (their member lengths add up to the file's size). Anything
    else (uncompressed, whole-file gzip, damage, garbage) is re-framed by `reframe`.
    """
    good = [r for r in found.records if r.complete and r.intact]
    return (not found.gzipped or bool(found.shared_at)
            or sum(r.length or 0 for r in good) != found.size or len(good) != len(found.records))


def reframe(found: Scan, out: BinaryIO) -> int:
    """Write the file's complete, intact records to `out`, each its own gzip member; return how many.

    A record alone in its member is copied member and all; records sharing one (a whole-file
    gzip) are cut from the inflated stream at the extents the scan found, and records of an
    uncompressed file from the file, then deflated one by one (an ARC record with the newline
    that separates ARC records). Record bytes are never changed, so their digests still hold.
    """
    records = [r for r in found.records if r.complete and r.intact]
    by_member: dict[int, list[_Rec]] = {}
    for rec in records:
        by_member.setdefault(rec.offset, []).append(rec)
    tail = b"\n" if found.arc else b""
    with open(found.path, "rb") as src:
        for offset in sorted(by_member):
            group = sorted(by_member[offset], key=lambda r: r.inner)
            if not found.gzipped:
                rec = group[0]
                deflate = zlib.compressobj(6, zlib.DEFLATED, 31)
                for data in _range(src, rec.offset, rec.length or 0):
                    out.write(deflate.compress(data))
                out.write(deflate.compress(tail) + deflate.flush())
            elif len(group) == 1:
                for data in _range(src, offset, group[0].length or 0):
                    out.write(data)
            else:
                _split_member(src, out, offset, group, tail)
    return len(records)


def _range(src: BinaryIO, offset: int, length: int) -> Iterator[bytes]:
    src.seek(offset)
    while length > 0:
        data = src.read(min(_READ, length))
        if not data:
            raise OSError(f"file ended at {src.tell()} while copying")
        yield data
        length -= len(data)


def _inflated(src: BinaryIO, offset: int) -> Iterator[bytes]:
    """The inflated bytes of the gzip member at `offset`, at most _READ at a time."""
    src.seek(offset)
    inflate = zlib.decompressobj(31)
    while not inflate.eof:
        data = inflate.unconsumed_tail or src.read(_READ)
        if not data:
            return
        out = inflate.decompress(data, _READ)
        if out:
            yield out


def _split_member(src: BinaryIO, out: BinaryIO, offset: int, group: list[_Rec], tail: bytes) -> None:
    """Inflate the member at `offset` once, writing each record's byte range as a new member."""
    todo = list(group)  # sorted by position; records never overlap
    deflate = None
    pos = 0  # inflated position of `chunk`'s first byte
    for chunk in _inflated(src, offset):
        while todo:
            rec = todo[0]
            lo, hi = rec.inner - pos, rec.inner_end - pos
            if lo >= len(chunk):
                break
            if deflate is None:
                deflate = zlib.compressobj(6, zlib.DEFLATED, 31)
            out.write(deflate.compress(chunk[max(lo, 0):min(hi, len(chunk))]))
            if hi > len(chunk):
                break
            out.write(deflate.compress(tail) + deflate.flush())
            deflate = None
            todo.pop(0)
        pos += len(chunk)
        if not todo:
            return
    raise OSError(f"the gzip member at {offset} ended before the records the scan found in it")
