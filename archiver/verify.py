"""`archiver verify`: re-read an archive and report every byte that no longer vouches for itself.

Evidence is only worth something if it can be shown to be unchanged. Each layer that can vouch
for the bytes is checked: the file's sha256 recorded when it was closed (`warc_files`), every gzip
member's CRC-32 and length, every record's framing and `WARC-Block-Digest` / `WARC-Payload-Digest`,
and the index's pointers into the files (`records`) and media hashes (`media`). Together they find
a single flipped byte anywhere in a closed file, and say which member it damaged.

Why not warcio's ArchiveIterator: it stops at the first bad CRC without saying where, and it does
not expose where each gzip member starts, which is what the index's offsets name. So the gzip
layer is read here as raw deflate, with each member's header and trailer parsed by hand: that gives
exact member boundaries even when a CRC fails, and lets us resynchronise on the next member after
damage. Records are checked as they inflate, so a 1 GB record never sits in memory.

Payload digests of `Transfer-Encoding: chunked` responses: WARC 1.1 digests the de-chunked entity,
warcio (webrecorder/warcio#74) the raw chunked bytes. Other tools' files may use either, so both
are accepted and a note says which one matched (docs/warc-and-replay.md §1.3). A revisit carries
its original's payload digest, which is never recomputed from the revisit's header-only block.

Nothing here writes to the archive: the index is opened read-only (no migration, no WAL switch).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import sqlite3
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from archiver.errors import StorageError, UsageError
from archiver.index import IndexReader
from archiver.warc import OPEN_SUFFIX, clean_target_uri

__all__ = ["Problem", "Report", "verify_archive", "verify_file", "warc_paths"]

_GZIP_MAGIC = b"\x1f\x8b\x08"
_CHUNK = 1 << 20  # bytes read from disk at a time
_OUT = 1 << 20  # most bytes inflated per zlib call: bounds memory for huge stored members
_HEAD_MAX = 1 << 20  # a WARC or HTTP header block longer than this is not one
_LINE_MAX = 1 << 16  # longest chunk-size / trailer line accepted when de-chunking
_CRLF2 = b"\r\n\r\n"

# Labels seen in the wild (`sha1`, `SHA-1`, `sha256`...) to hashlib names.
_ALGORITHMS = {"sha1": "sha1", "sha256": "sha256", "sha512": "sha512", "sha384": "sha384",
               "sha224": "sha224", "md5": "md5"}

ERROR = "error"
NOTE = "note"


@dataclass(frozen=True)
class Problem:
    """One finding: `file`, byte `offset` (of the gzip member, or of the record in an uncompressed
    WARC; None when it is about the whole file) and what is wrong. Notes (`level == "note"`) say
    something worth knowing that is not damage, such as which chunked-digest convention matched;
    only errors make an archive fail verification."""

    file: str
    offset: int | None
    message: str
    level: str = ERROR

    def __str__(self) -> str:
        where = self.file if self.offset is None else f"{self.file}:{self.offset}"
        return f"{where}: note: {self.message}" if self.level == NOTE else f"{where}: {self.message}"

    def as_dict(self) -> dict:
        return {"file": self.file, "offset": self.offset, "level": self.level, "message": self.message}


@dataclass
class Report:
    """Everything `verify_archive` found, and how much it read to find it."""

    files: int = 0
    records: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, finding: Problem) -> None:
        (self.notes if finding.level == NOTE else self.problems).append(finding)

    def summary(self) -> str:
        text = f"{self.files} file(s), {self.records} record(s) checked: {len(self.problems)} problem(s)"
        return text + (f", {len(self.notes)} note(s)" if self.notes else "")


# --------------------------------------------------------------------------- digests


def _parse_digest(label: str) -> tuple[str, bytes, str] | str:
    """(hashlib name, expected bytes, encoding) of a labelled digest, or why it cannot be checked.

    WARC leaves the encoding open; sha1 base32 is the convention, hex and base64 occur too.
    """
    algo, sep, value = label.strip().partition(":")
    name = _ALGORITHMS.get(algo.strip().lower().replace("-", ""))
    if not sep or name is None:
        return f"unknown digest algorithm in {label.strip()!r}"
    size = hashlib.new(name).digest_size
    value = value.strip()
    if len(value) == 2 * size:
        try:
            return name, bytes.fromhex(value), "hex"
        except ValueError:
            pass
    try:
        raw = base64.b32decode(value.upper() + "=" * (-len(value) % 8))
        if len(raw) == size:
            return name, raw, "base32"
    except (binascii.Error, ValueError):
        pass
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        if len(raw) == size:
            return name, raw, "base64"
    except (binascii.Error, ValueError):
        pass
    return f"malformed digest value {label.strip()!r}"


def _label(name: str, digest: bytes, encoding: str) -> str:
    """A computed digest written the way the record wrote its own, so the two compare by eye."""
    if encoding == "hex":
        value = digest.hex()
    elif encoding == "base64":
        value = base64.b64encode(digest).decode("ascii")
    else:
        value = base64.b32encode(digest).decode("ascii")
    return f"{name}:{value}"


class _Dechunker:
    """Undoes `Transfer-Encoding: chunked` as bytes stream past; `ok` turns False on bad framing."""

    def __init__(self, out: Callable[[bytes], None]):
        self._out = out
        self._state = "size"
        self._line = bytearray()
        self._left = 0
        self.ok = True
        self.done = False
        self.chunks = 0  # chunk-size lines read: 0 when `ok` fell at once (the body was never chunked)

    def feed(self, data: bytes) -> None:
        i, n = 0, len(data)
        while i < n and self.ok and not self.done:
            if self._state == "data":
                take = min(self._left, n - i)
                self._out(data[i:i + take])
                i += take
                self._left -= take
                if not self._left:
                    self._state = "crlf"
                continue
            j = data.find(b"\n", i)
            if j < 0:
                self._line += data[i:]
                i = n
                if len(self._line) > _LINE_MAX:
                    self.ok = False
                continue
            self._line += data[i:j]
            i = j + 1
            line = bytes(self._line).rstrip(b"\r")
            self._line.clear()
            self._line_done(line)

    def _line_done(self, line: bytes) -> None:
        if self._state == "size":
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self.ok = False
                return
            if size < 0:
                self.ok = False
            elif size == 0:
                self.chunks += 1
                self._state = "trailer"
            else:
                self.chunks += 1
                self._left, self._state = size, "data"
        elif self._state == "crlf":
            if line:
                self.ok = False
            self._state = "size"
        elif not line:  # trailer section ends with an empty line
            self.done = True


class _Block:
    """One record's block as it streams past: block digest, payload digest(s), payload sha256.

    For `application/http` records the payload is the entity after the HTTP header block (and
    after undoing chunked transfer coding); for other records it is the whole block.

    Readers other than verify (archiver.warcread) may ask for more: `keep` is asked, once the HTTP
    status and Content-Type are known (at once for non-HTTP blocks), how many payload bytes to
    keep in memory (0: none; `kept` ends None when the payload is longer); `digest_payload`
    computes a sha1 payload digest when the record carries none (ARC records).
    """

    def __init__(self, rtype: str, fields: dict[str, str], want_sha256: bool, *,
                 keep: Callable[[int | None, str | None], int] | None = None, digest_payload: bool = False):
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.convention: str | None = None  # "spec", "warcio" or "stored", for chunked payloads
        self.http_status: int | None = None
        self.http_content_type: str | None = None  # first Content-Type of the HTTP head
        self.http_content_encoding: str | None = None
        self.sha256: str | None = None
        self.kept: bytes | None = None  # the payload (de-chunked), when `keep` asked for it
        self.computed_digest: str | None = None  # `sha1:BASE32` of the payload, with digest_payload
        self._keep = keep
        self._keep_max = 0
        self._kept_raw: bytearray | None = None  # body bytes as stored
        self._kept_entity: bytearray | None = None  # and de-chunked, when chunked
        self._block = self._digest(fields, "warc-block-digest", "WARC-Block-Digest")
        self._block_h = hashlib.new(self._block[0]) if self._block else None
        ctype = fields.get("content-type", "").split(";", 1)[0].strip().lower()
        self._http = ctype == "application/http"
        self._payload = (None if rtype == "revisit"
                         else self._digest(fields, "warc-payload-digest", "WARC-Payload-Digest"))
        # payload == block (non-HTTP records) with the same algorithm: one hash serves both
        self._reuse = bool(not self._http and self._payload and self._block
                           and self._payload[0] == self._block[0])
        self._raw_h = hashlib.new(self._payload[0]) if self._payload and not self._reuse else None
        self._sha256 = hashlib.sha256() if want_sha256 and rtype != "revisit" else None
        self._in_head = self._http
        self._head = bytearray()
        self._skip_body = False
        self._dechunk: _Dechunker | None = None
        self._entity_h = None
        self._computed_raw = hashlib.sha1() if digest_payload and not self._payload else None
        self._computed_entity = None
        if keep is not None and not self._http and rtype != "revisit":
            self._start_keeping(None, ctype or None)

    def _digest(self, fields: dict[str, str], key: str, name: str) -> tuple[str, bytes, str, str] | None:
        label = fields.get(key)
        if label is None:
            return None
        parsed = _parse_digest(label)
        if isinstance(parsed, str):
            (self.notes if parsed.startswith("unknown") else self.problems).append(
                f"{name} not checked: {parsed}")
            return None
        return (*parsed, label.strip())

    def update(self, data: bytes) -> None:
        if self._block_h is not None:
            self._block_h.update(data)
        if self._in_head:
            data = self._take_head(data)
            if not data:
                return
        if self._skip_body:
            return
        if self._raw_h is not None:
            self._raw_h.update(data)
        if self._computed_raw is not None:
            self._computed_raw.update(data)
        if self._kept_raw is not None:
            self._keep_bytes(self._kept_raw, data)
        if self._dechunk is not None:
            self._dechunk.feed(data)
        elif self._sha256 is not None:
            self._sha256.update(data)

    def _take_head(self, data: bytes) -> bytes:
        """Collect the HTTP header block; return the body bytes that followed it in `data`."""
        before = len(self._head)
        self._head += data
        ends = [i + k for i, k in ((self._head.find(b"\r\n\r\n", max(0, before - 3)), 4),
                                   (self._head.find(b"\n\n", max(0, before - 1)), 2)) if i >= 0]
        if not ends:
            if len(self._head) > _HEAD_MAX:
                self.problems.append(f"HTTP header block not terminated within {_HEAD_MAX} bytes; "
                                     "payload not checked")
                self._in_head, self._skip_body, self._payload = False, True, None
                self._head.clear()
            return b""
        end = min(ends)
        rest = bytes(self._head[end:])
        del self._head[end:]
        self._in_head = False
        self._parse_head(bytes(self._head))
        return rest

    def _parse_head(self, head: bytes) -> None:
        lines = head.split(b"\n")
        parts = lines[0].split()
        if len(parts) > 1 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
            self.http_status = int(parts[1])
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            key = name.strip().lower()
            if sep and key == b"transfer-encoding":
                codings = [c.strip() for c in value.lower().split(b",")]
                if codings and codings[-1] == b"chunked":
                    self._entity_h = hashlib.new(self._payload[0]) if self._payload else None
                    self._computed_entity = hashlib.sha1() if self._computed_raw is not None else None
                    self._dechunk = _Dechunker(self._entity)
            elif sep and key == b"content-type" and self.http_content_type is None:
                self.http_content_type = value.strip().decode("latin-1")
            elif sep and key == b"content-encoding" and self.http_content_encoding is None:
                self.http_content_encoding = value.strip().decode("latin-1")
        if self._keep is not None and parts[:1] and parts[0].startswith(b"HTTP/"):
            self._start_keeping(self.http_status, self.http_content_type)

    def _start_keeping(self, status: int | None, content_type: str | None) -> None:
        self._keep_max = self._keep(status, content_type)
        if self._keep_max > 0:
            self._kept_raw = bytearray()

    def _keep_bytes(self, buf: bytearray, data: bytes) -> None:
        if len(buf) + len(data) > self._keep_max:
            self._kept_raw = self._kept_entity = None  # too long: nothing is kept
            self._keep_max = -1
        else:
            buf += data

    def _entity(self, data: bytes) -> None:
        if self._entity_h is not None:
            self._entity_h.update(data)
        if self._sha256 is not None:
            self._sha256.update(data)
        if self._computed_entity is not None:
            self._computed_entity.update(data)
        if self._kept_raw is not None:
            if self._kept_entity is None:
                self._kept_entity = bytearray()
            self._keep_bytes(self._kept_entity, data)

    def finish(self) -> None:
        """Compare what was hashed with what the record says; fills `problems` and `convention`."""
        block_digest = self._block_h.digest() if self._block_h is not None else None
        if self._block is not None:
            name, want, enc, label = self._block
            if block_digest != want:
                self.problems.append(f"WARC-Block-Digest mismatch: header says {label}, "
                                     f"block hashes to {_label(name, block_digest, enc)}")
        if self._payload is not None:
            name, want, enc, label = self._payload
            if self._in_head:  # the block ended inside the HTTP header: the payload is empty
                self._parse_head(bytes(self._head))
            raw = block_digest if self._reuse else self._raw_h.digest()
            if self._dechunk is None:
                if raw != want:
                    self.problems.append(f"WARC-Payload-Digest mismatch: header says {label}, "
                                         f"payload hashes to {_label(name, raw, enc)}")
            else:
                entity = self._entity_h.digest() if self._dechunk.ok else None
                if entity == want:
                    self.convention = "spec"
                elif raw == want:
                    # not one chunk-size line: the header says chunked but the body was stored de-chunked
                    self.convention = "warcio" if self._dechunk.chunks else "stored"
                else:
                    got = (f"de-chunked entity hashes to {_label(name, entity, enc)}" if entity is not None
                           else "chunk framing is broken, so the de-chunked entity cannot be hashed")
                    self.problems.append(
                        f"WARC-Payload-Digest mismatch (chunked): header says {label}; {got}, "
                        f"raw chunked bytes hash to {_label(name, raw, enc)}")
        if self._sha256 is not None and (self._dechunk is None or self._dechunk.ok) and not self._skip_body:
            self.sha256 = self._sha256.hexdigest()
        # de-chunked only if it was chunked: not one chunk-size line means stored de-chunked (pywb)
        dechunked = self._dechunk is not None and self._dechunk.ok and self._dechunk.chunks > 0
        if self._computed_raw is not None and not self._skip_body:
            h = self._computed_entity if dechunked else self._computed_raw
            self.computed_digest = _label("sha1", h.digest(), "base32")
        if self._kept_raw is not None and not self._skip_body:
            self.kept = bytes(self._kept_entity or b"") if dechunked else bytes(self._kept_raw)


# --------------------------------------------------------------------------- records


@dataclass
class _Rec:
    """What the index cross-checks need to know about one record read from a file."""

    offset: int  # of its gzip member (or of the record, uncompressed WARC)
    rtype: str
    record_id: str | None
    uri: str | None
    payload_digest: str | None  # as the header says
    truncated: str | None
    length: int | None = None  # of its gzip member (of the record itself in an uncompressed file)
    complete: bool = False
    http_status: int | None = None
    sha256: str | None = None  # of the payload, when asked for
    # What an index needs besides (archiver.warcread): the header's date and Content-Type, the
    # HTTP Content-Type, where the record's bytes start and end in its member's inflated stream
    # (its file, uncompressed), whether its gzip member's CRC and length held, and whether its
    # record id was made up (ARC records have none).
    date: str | None = None
    content_type: str | None = None
    http_content_type: str | None = None
    inner: int = 0
    inner_end: int | None = None
    intact: bool = True
    synthetic_id: bool = False

    @property
    def name(self) -> str:
        return f"{self.rtype} record {self.uri or self.record_id or '(no id)'}"


class _Records:
    """Push parser for a stream of WARC records: framing, mandatory fields, digests.

    Fed inflated bytes; in gzip mode the driver brackets each member with begin_member() and
    end_member(), and a record may not run past its member (Annex D, and the index needs it).
    In plain mode a framing error makes it scan ahead for the next `WARC/` line.
    """

    def __init__(self, emit: Callable[[int | None, str, str], None], gz: bool,
                 want_sha256: Callable[[_Rec], bool], *,
                 keep: Callable[[_Rec, int | None, str | None], int] | None = None,
                 on_record: Callable[[_Rec, _Block], None] | None = None):
        self._emit = emit
        self._gz = gz
        self._want_sha256 = want_sha256
        self._keep = keep  # see _Block; `on_record` sees each complete record with its block
        self._on_record = on_record
        self._member_pos = 0  # inflated bytes fed before the current member
        self._start = 0  # inflated position of the current record's first byte
        self._last_block: _Block | None = None
        self.bracketed: list[int] = []  # [count, first offset] of WARC/1.1 `<uri>` targets
        # Plain mode: where to resume scanning after a record whose Content-Length was wrong (its
        # block start: a too-large length swallows the next record's start); the driver seeks.
        self.rewind: int | None = None
        self.records: list[_Rec] = []
        self.conventions: dict[str, list[int]] = {}  # convention -> [count, first offset]
        self.shared_members = 0  # members holding more than one record
        self._pos = 0  # inflated bytes fed so far (file offset in plain mode)
        self._where = 0  # location reported for the current record
        self._state = "head"
        self._head = bytearray()
        self._rec: _Rec | None = None
        self._block: _Block | None = None
        self._length = 0
        self._left = 0
        self._trail = bytearray()
        self._scan_tail = b""
        self._member_first = 0  # index into records of the current member's first record

    # ---- driver interface

    def begin_member(self, offset: int) -> None:
        self._where = offset
        self._member_first = len(self.records)
        self._member_pos = self._pos

    @staticmethod
    def starts_record(data: bytes) -> bool:
        """Whether inflated bytes at a member's start look like one of this parser's records."""
        return data.lstrip(b"\r\n").startswith(b"WARC/")

    def end_member(self, length: int, at_eof: bool) -> None:
        """The member ended cleanly: its records get their member length; a torn one is reported."""
        for rec in self.records[self._member_first:]:
            rec.length = length
        if len(self.records) - self._member_first > 1:
            self.shared_members += 1
        self._incomplete("file" if at_eof else "gzip member")
        self._reset()

    def end_stream(self) -> None:
        """End of an uncompressed file."""
        self._incomplete("file")
        self._reset()

    def abandon(self) -> None:
        """The member is unreadable: forget the record in progress, the caller reports why."""
        self._reset()

    def current(self) -> str:
        """The record being read, for messages about damage inside it."""
        return f" ({self._rec.name})" if self._rec is not None and self._state != "head" else ""

    # ---- parsing

    def feed(self, data: bytes) -> None:
        i, n = 0, len(data)
        while i < n:
            state = self._state
            if state == "block":
                take = min(self._left, n - i)
                self._block.update(data[i:i + take])
                i += take
                self._left -= take
                if not self._left:
                    self._end_block()
            elif state == "head":
                i = self._feed_head(data, i)
            elif state == "trail":
                take = min(4 - len(self._trail), n - i)
                self._trail += data[i:i + take]
                i += take
                if len(self._trail) == 4:
                    self._end_record(self._pos + i)
                    if self.rewind is not None:
                        self._pos = self.rewind
                        return
            else:  # "skip": rest of a damaged member, or scanning for the next record
                i = n if self._gz else self._scan(data, i)
        self._pos += n

    def _begin_head(self, data: bytes, i: int) -> int:
        """Where a record's header starts in data, from i: after the blank lines between records
        (harmless; an ARC record's closing newline too), noted as the record's start. len(data)
        when the header has not started yet."""
        n = len(data)
        while i < n and data[i] in b"\r\n":
            i += 1
        if i < n:
            if not self._gz:
                self._where = self._pos + i
            self._start = self._pos + i
        return i

    def _feed_head(self, data: bytes, i: int) -> int:
        n = len(data)
        if not self._head:
            i = self._begin_head(data, i)
            if i == n:
                return n
        stop = -1
        if self._head:  # the terminator may straddle two feeds
            m = min(3, len(self._head))
            k = (bytes(self._head[-m:]) + data[i:i + 3]).find(_CRLF2)
            if k >= 0:
                stop = i + k + 4 - m
        if stop < 0:
            end = data.find(_CRLF2, i)
            stop = end + 4 if end >= 0 else -1
        self._head += data[i:n if stop < 0 else stop]
        if (len(self._head) >= 5 or stop >= 0) and not self._head.startswith(b"WARC/"):
            self._error(f"not a WARC record: starts with {bytes(self._head[:16])!r}")
            self._head.clear()
            self._state = "skip"
            return n if self._gz else i
        if stop < 0:
            if len(self._head) > _HEAD_MAX:
                self._error(f"WARC header block not terminated within {_HEAD_MAX} bytes")
                self._head.clear()
                self._state = "skip"
            return n
        head = bytes(self._head[:-4])
        self._head.clear()
        self._start_record(head)
        return stop

    def _start_record(self, head: bytes) -> None:
        lines = head.decode("utf-8", "replace").split("\n")
        fields: dict[str, str] = {}
        last = None
        for line in lines[1:]:
            line = line.rstrip("\r")
            if line[:1] in (" ", "\t") and last:  # folded continuation line
                fields[last] += " " + line.strip()
                continue
            name, sep, value = line.partition(":")
            if not sep:
                self._error(f"malformed WARC header line {line[:60]!r}")
                continue
            last = name.strip().lower()
            fields.setdefault(last, value.strip())
        uri = fields.get("warc-target-uri")
        if uri is not None and len(uri) > 1 and uri[0] == "<" and uri[-1] == ">":
            uri = uri[1:-1].strip()  # WARC/1.0's `<uri>` grammar, as wget writes it
            if not lines[0].strip().startswith("WARC/1.0"):
                seen = self.bracketed or [0, self._where]
                seen[0] += 1
                self.bracketed = seen
        rec = _Rec(offset=self._where, rtype=fields.get("warc-type", "(no WARC-Type)"),
                   record_id=fields.get("warc-record-id"), uri=uri,
                   payload_digest=fields.get("warc-payload-digest"), truncated=fields.get("warc-truncated"),
                   date=fields.get("warc-date"), content_type=fields.get("content-type"),
                   inner=self._start - self._member_pos)
        self._rec = rec
        self.records.append(rec)
        for name in ("WARC-Record-ID", "WARC-Type", "WARC-Date"):
            if name.lower() not in fields:
                self._error(f"{rec.name}: mandatory field {name} missing")
        try:
            length = int(fields["content-length"])
            if length < 0:
                raise ValueError
        except (KeyError, ValueError):
            self._error(f"{rec.name}: no valid Content-Length ({fields.get('content-length')!r}); "
                        "cannot find where it ends")
            self._state = "skip"
            return
        self._open_block(length, lambda keep: _Block(rec.rtype, fields, self._want_sha256(rec), keep=keep))

    def _open_block(self, length: int, make: Callable) -> None:
        """Read the current record's block of `length` bytes next, into `make(keep)`."""
        rec = self._rec
        self._length = self._left = length
        self._block = make((lambda status, ctype: self._keep(rec, status, ctype)) if self._keep is not None else None)
        self._state = "block"
        if not length:
            self._end_block()

    def _close_block(self) -> tuple[_Block, _Rec]:
        """The block just read, finished, and its record with what the block told about it."""
        block, rec = self._block, self._rec
        block.finish()
        rec.http_status = block.http_status
        rec.http_content_type = block.http_content_type
        rec.sha256 = block.sha256
        return block, rec

    def _end_block(self) -> None:
        block, rec = self._close_block()
        for message in block.problems:
            self._error(f"{rec.name}: {message}")
        for message in block.notes:
            self._emit(self._where, f"{rec.name}: {message}", NOTE)
        if block.convention is not None:
            seen = self.conventions.setdefault(block.convention, [0, self._where])
            seen[0] += 1
        self._last_block = block
        self._block = None
        self._trail.clear()
        self._state = "trail"

    def _end_record(self, end: int) -> None:
        rec = self._rec
        block, self._last_block = self._last_block, None
        if bytes(self._trail) != _CRLF2:
            self._error(f"{rec.name}: block does not end where Content-Length ({self._length}) says: "
                        f"expected CRLF CRLF after it, found {bytes(self._trail)!r}")
            self._state = "skip"
            if not self._gz:  # look for the next record from the block's start (just before: `\nWARC/`)
                self.rewind = end - 4 - self._length - 1
            return
        rec.complete = True
        rec.inner_end = end - self._member_pos
        if not self._gz:
            rec.length = end - rec.offset
        self._state = "head"
        if self._on_record is not None and block is not None:
            self._on_record(rec, block)

    def _scan(self, data: bytes, i: int) -> int:
        """Plain mode: skip to the next line that starts a WARC record."""
        window = self._scan_tail + data[i:]
        k = window.find(b"\nWARC/")
        if k < 0:
            self._scan_tail = window[-5:]
            return len(data)
        start = i + k + 1 - len(self._scan_tail)
        self._scan_tail = b""
        self._state = "head"
        if start < i:  # the match began in the previous feed: re-create the bytes we dropped
            self._where = self._pos + start
            self._head += b"WARC/"[:i - start]
            return i
        return start

    # How problems name a record's length field and its header (the ARC reader names its own).
    _LENGTH_FIELD = "Content-Length {}"
    _HEADER = "a WARC header block"

    def _incomplete(self, container: str) -> None:
        rec = self._rec
        if self._state == "block":
            got = self._length - self._left
            self._error(f"{rec.name}: {self._LENGTH_FIELD.format(self._length)} runs past the end of the "
                        f"{container}: only {got} of its block bytes are there")
        elif self._state == "trail":
            self._error(f"{rec.name}: the {container} ends before the CRLF CRLF that closes the record")
        elif self._state == "head" and self._head:
            self._error(f"the {container} ends inside {self._HEADER} ({len(self._head)} bytes of it)")

    def _reset(self) -> None:
        self._state = "head"
        self._head.clear()
        self._trail.clear()
        self._block = None
        self._last_block = None
        self._rec = None
        self._scan_tail = b""

    def _error(self, message: str) -> None:
        self._emit(self._where, message, ERROR)


# --------------------------------------------------------------------------- files


class _Source:
    """Reads a file forward with cheap re-reads after damage, hashing each byte exactly once.

    The file's sha256 is taken on the way (no second pass over a 1 GB file); a backward seek
    (resynchronising after a corrupt member) never hashes a byte twice.
    """

    def __init__(self, path: Path, hash_file: bool):
        self._fh = open(path, "rb")  # noqa: SIM115 - closed by close(), the scan owns it
        self.size = os.fstat(self._fh.fileno()).st_size
        self.pos = 0
        self._buf = b""
        self._off = 0
        self._sha = hashlib.sha256() if hash_file else None
        self._hashed = 0

    def close(self) -> None:
        self._fh.close()

    def at_eof(self) -> bool:
        return self.pos >= self.size

    def read(self, n: int) -> bytes:
        if self._off >= len(self._buf):
            self._buf = self._raw(max(n, _CHUNK))
            self._off = 0
        out = self._buf[self._off:self._off + n]
        self._off += len(out)
        self.pos += len(out)
        return out

    def read_exact(self, n: int) -> bytes:
        out = self.read(n)
        while len(out) < n:
            more = self.read(n - len(out))
            if not more:
                break
            out += more
        return out

    def unread(self, n: int) -> None:
        """Step back over the last `n` bytes read (within the current buffer, else a seek)."""
        if n <= self._off:
            self._off -= n
            self.pos -= n
        else:
            self.seek(self.pos - n)

    def seek(self, pos: int) -> None:
        if pos == self.pos:
            return
        start = self.pos - self._off  # file offset of the buffer's first byte
        if start <= pos <= start + len(self._buf):
            self._off, self.pos = pos - start, pos
            return
        self._fh.seek(pos)
        self._buf, self._off, self.pos = b"", 0, pos

    def _raw(self, n: int) -> bytes:
        at = self._fh.tell()
        data = self._fh.read(n)
        if self._sha is not None and at <= self._hashed < at + len(data):
            self._sha.update(memoryview(data)[self._hashed - at:])
            self._hashed = at + len(data)
        return data

    def sha256(self) -> str | None:
        """sha256 of the whole file; reads whatever the checks did not need to reach."""
        if self._sha is None:
            return None
        self._fh.seek(self._hashed)
        while True:
            data = self._fh.read(_CHUNK)
            if not data:
                break
            self._sha.update(data)
            self._hashed += len(data)
        self._buf, self._off = b"", 0
        self._fh.seek(self.pos)
        return self._sha.hexdigest()


class _FileScan:
    """One pass over one WARC file: yields findings; afterwards holds what the index checks need."""

    def __init__(self, path: Path, *, hash_file: bool = False,
                 want_sha256: Callable[[_Rec], bool] | None = None,
                 keep: Callable[[_Rec, int | None, str | None], int] | None = None,
                 on_record: Callable[[_Rec, _Block], None] | None = None,
                 label: str | None = None, open_note: str = "its complete records are checked"):
        self.path = Path(path)
        self.label = label or str(path)
        self.hash_file = hash_file
        self.sha256: str | None = None
        self.size: int | None = None
        self.unreadable: set[int] = set()  # offsets of members that start there but cannot be read
        self.arc = False  # an ARC file (archiver.warcread.ArcRecords reads it)
        self.gzipped = False
        self.shared_at: list[int] = []  # offsets of gzip members holding more than one record
        self._open_note = open_note
        self._pending: list[Problem] = []
        self._want_sha256 = want_sha256 or (lambda rec: False)
        self._hooks = {"keep": keep, "on_record": on_record}
        self._parser = _Records(self._emit, gz=True, want_sha256=self._want_sha256, **self._hooks)
        self._src: _Source | None = None

    def _new_parser(self, gz: bool) -> _Records:
        if self.arc:
            from archiver.warcread import ArcRecords  # ARC support lives with the other readers

            return ArcRecords(self._emit, gz=gz, want_sha256=self._want_sha256, **self._hooks)
        return _Records(self._emit, gz=gz, want_sha256=self._want_sha256, **self._hooks)

    def _sniff_arc(self, first: bytes, gz: bool) -> bool:
        """ARC files open with a `filedesc://` version record (in the first member when gzipped)."""
        if gz:
            self._src.seek(0)
            if self._gzip_header() is not None:
                return False
            try:
                first = zlib.decompressobj(-15).decompress(self._src.read_exact(4096), 64)
            except zlib.error:
                return False
        return first.lstrip(b"\r\n").startswith(b"filedesc:")

    @property
    def records(self) -> list[_Rec]:
        return self._parser.records

    def _emit(self, offset: int | None, message: str, level: str = ERROR) -> None:
        self._pending.append(Problem(self.label, offset, message, level))

    def _drain(self) -> Iterator[Problem]:
        pending, self._pending = self._pending, []
        yield from pending

    def run(self) -> Iterator[Problem]:
        if self.path.name.endswith(OPEN_SUFFIX):
            self._emit(None, "not closed (.open): still being written by a capture, or left by one that "
                             f"crashed; {self._open_note}")
        try:
            self._src = src = _Source(self.path, self.hash_file)
        except OSError as e:
            self._emit(None, f"cannot read: {e.strerror or e}")
            yield from self._drain()
            return
        self.size = src.size
        try:
            first = src.read_exact(16)
            src.seek(0)
            if not first:
                self._emit(None, "empty file: no WARC records")
            elif first.startswith(_GZIP_MAGIC) or (not first.startswith(b"WARC/") and ".gz" in self.path.suffixes):
                self.gzipped = True
                self.arc = first.startswith(_GZIP_MAGIC) and self._sniff_arc(first, gz=True)
                src.seek(0)
                self._parser = self._new_parser(gz=True)
                yield from self._gzip()
            else:  # an uncompressed WARC (or garbage that is not even gzip)
                self.arc = self._sniff_arc(first, gz=False)
                self._parser = self._new_parser(gz=False)
                yield from self._plain()
            self.sha256 = src.sha256()
            self._notes()
        except OSError as e:
            self._emit(src.pos, f"read error, rest of the file not checked: {e.strerror or e}")
        except Exception as e:  # noqa: BLE001 - never a traceback for one bad file: say where we stopped
            self._emit(src.pos, f"could not finish checking this file ({type(e).__name__}: {e})")
        finally:
            src.close()
        yield from self._drain()

    def _notes(self) -> None:
        p = self._parser
        for convention, (count, first) in sorted(p.conventions.items()):
            if convention == "warcio":
                text = ("payload digest taken over the raw chunked bytes (warcio's convention, "
                        "webrecorder/warcio#74), not the de-chunked entity WARC 1.1 asks for; accepted")
            elif convention == "stored":
                text = ("headers say Transfer-Encoding: chunked, but the body is stored de-chunked (as "
                        "pywb's recorder does, webrecorder/pywb#584); payload digest of the stored body; accepted")
            else:
                text = "payload digest taken over the de-chunked entity (the WARC 1.1 convention)"
            self._emit(first, f"{count} chunked record(s): {text}; first one here", NOTE)
        if p.bracketed:
            self._emit(p.bracketed[1], f"{p.bracketed[0]} WARC/1.1 record(s) write WARC-Target-URI as <uri> "
                                       "(WARC/1.0's grammar); read without the brackets; first one here", NOTE)
        if p.shared_members:
            self._emit(None, f"{p.shared_members} gzip member(s) hold more than one record "
                             "(WARC Annex D wants one record per member)", NOTE)

    def _plain(self) -> Iterator[Problem]:
        src, parser = self._src, self._parser
        while True:
            data = src.read(_CHUNK)
            if not data:
                break
            parser.feed(data)
            if parser.rewind is not None:
                src.seek(parser.rewind)
                parser.rewind = None
            yield from self._drain()
        parser.end_stream()

    def _gzip(self) -> Iterator[Problem]:
        src = self._src
        pos = 0
        damaged: int | None = None  # start of the last member whose trailer did not match
        while pos < src.size:
            src.seek(pos)
            if src.read_exact(3) != _GZIP_MAGIC:
                nxt = self._next_member(pos if damaged is None else damaged + 1)
                if nxt is None or nxt > pos:
                    if nxt is None and not pos:
                        what = f"not a WARC file: none of its {src.size} byte(s) is a gzip member holding a record"
                    elif nxt is None:
                        what = f"{src.size - pos} byte(s) of trailing data that are not a gzip member"
                    else:
                        what = f"{nxt - pos} byte(s) that are not a gzip member, up to the next one at {nxt}"
                    self._emit(pos, what + (" (header damaged?)" if damaged is None and nxt is not None else ""))
                self.unreadable.add(pos)  # where a member should start: an index row here is not to blame
                damaged = None
                if nxt is None:
                    break
                pos = nxt
                continue
            end, intact = self._member(pos)
            yield from self._drain()
            if end == -1:  # the file ended inside it
                break
            if end is None:  # its extent is unknown: resynchronise on the next member
                pos = self._next_member(pos + 1) or src.size
                damaged = None
                continue
            damaged = None if intact else pos
            pos = end

    def _member(self, start: int) -> tuple[int | None, bool]:
        """Check the gzip member at `start`: (end offset, or None if unknown, -1 at EOF; intact)."""
        src, parser = self._src, self._parser
        src.seek(start)
        why = self._gzip_header()
        if why is not None:
            if why == "eof":
                self._emit(start, f"file ends inside a gzip member header ({src.size - start} byte(s))")
                self.unreadable.add(start)
                return -1, False
            self._emit(start, f"damaged gzip member header: {why}")
            self.unreadable.add(start)
            return None, False
        parser.begin_member(start)
        inflate = zlib.decompressobj(-15)
        crc = size = 0
        while not inflate.eof:
            data = src.read(_CHUNK)
            if not data:
                self._emit(start, f"file ends inside this gzip member, {src.pos - start} byte(s) into it; "
                                  f"the rest is missing{parser.current()}")
                self.unreadable.add(start)
                parser.abandon()
                return -1, False
            try:
                out = inflate.decompress(data, _OUT)
                while True:
                    if out:
                        crc = zlib.crc32(out, crc)
                        size += len(out)
                        parser.feed(out)
                    if inflate.eof or not inflate.unconsumed_tail:
                        break
                    out = inflate.decompress(inflate.unconsumed_tail, _OUT)
            except zlib.error as e:
                self._emit(start, f"gzip member corrupt, deflate data unreadable ({e}) after "
                                  f"{size} inflated byte(s){parser.current()}")
                self.unreadable.add(start)
                parser.abandon()
                return None, False
        src.unread(len(inflate.unused_data))
        trailer = src.read_exact(8)
        end = src.pos
        if len(trailer) < 8:
            self._emit(start, f"file ends inside this gzip member's 8-byte trailer{parser.current()}")
            self.unreadable.add(start)
            parser.abandon()
            return -1, False
        want_crc, want_size = struct.unpack("<II", trailer)
        intact = True
        first = parser._member_first
        if want_crc != crc:
            self._emit(start, f"gzip CRC-32 mismatch: trailer says {want_crc:08x}, "
                              f"the member's {size} inflated byte(s) give {crc:08x}")
            intact = False
        if want_size != size & 0xFFFFFFFF:
            self._emit(start, f"gzip length mismatch: trailer says {want_size} byte(s), member inflates to {size}")
            intact = False
        parser.end_member(end - start, at_eof=end >= src.size)
        for rec in parser.records[first:]:
            rec.intact = intact
        if len(parser.records) - first > 1:
            self.shared_at.append(start)
        return end, intact

    def _gzip_header(self) -> str | None:
        """Read one member header (RFC 1952); None when sound, else what is wrong ("eof" if cut)."""
        src = self._src
        head = src.read_exact(10)
        if len(head) < 10:
            return "eof"
        if head[:2] != b"\x1f\x8b":
            return f"no gzip magic (found {head[:2]!r})"
        if head[2] != 8:
            return f"compression method {head[2]} is not deflate"
        flags = head[3]
        if flags & 0xE0:
            return f"reserved flag bits set ({flags:#04x})"
        seen = bytearray(head)
        if flags & 4:  # FEXTRA
            xlen = src.read_exact(2)
            if len(xlen) < 2:
                return "eof"
            extra = src.read_exact(struct.unpack("<H", xlen)[0])
            seen += xlen + extra
        for flag in (8, 16):  # FNAME, FCOMMENT: zero-terminated
            if flags & flag:
                while True:
                    byte = src.read(1)
                    if not byte:
                        return "eof"
                    seen += byte
                    if byte == b"\0":
                        break
                    if len(seen) > _HEAD_MAX:
                        return "unterminated file name or comment"
        if flags & 2:  # FHCRC
            crc16 = src.read_exact(2)
            if len(crc16) < 2:
                return "eof"
            if struct.unpack("<H", crc16)[0] != zlib.crc32(seen) & 0xFFFF:
                return "header CRC-16 mismatch"
        if src.at_eof():
            return "eof"
        return None

    def _next_member(self, start: int) -> int | None:
        """Offset of the next gzip member at or after `start` that inflates to a WARC record."""
        src = self._src
        pos = start
        while pos < src.size:
            src.seek(pos)
            data = src.read_exact(_CHUNK + 2)
            i = data.find(_GZIP_MAGIC)
            while i >= 0:
                if self._starts_warc(pos + i):
                    return pos + i
                i = data.find(_GZIP_MAGIC, i + 1)
            if len(data) < 3:
                break
            pos += len(data) - 2
        return None

    def _starts_warc(self, offset: int) -> bool:
        """Whether a gzip member really starts at `offset`: its first inflated bytes read `WARC/`."""
        src = self._src
        src.seek(offset)
        if self._gzip_header() is not None:
            return False
        inflate = zlib.decompressobj(-15)
        try:
            out = inflate.decompress(src.read_exact(4096), 64)
        except zlib.error:
            return False
        return self._parser.starts_record(out)


def verify_file(path: Path | str) -> Iterator[Problem]:
    """Findings for one WARC file (`.warc.gz` or uncompressed), errors and notes, in file order.

    Stand-alone: checks what the file can vouch for by itself (gzip CRCs and lengths, record
    framing, block and payload digests); the index's cross-checks need `verify_archive`.
    """
    yield from _FileScan(Path(path)).run()


# --------------------------------------------------------------------------- the archive


def warc_paths(warc_dir: Path) -> list[Path]:
    """The WARC files of an archive folder, closed and `.open`, in name order (and the ARC files
    `archiver import` brought in)."""
    if not warc_dir.is_dir():
        return []
    suffixes = (".warc.gz", ".warc", ".warc.gz" + OPEN_SUFFIX, ".warc" + OPEN_SUFFIX, ".arc.gz", ".arc")
    return sorted(p for p in warc_dir.iterdir() if p.is_file() and p.name.endswith(suffixes))


class _ArchiveCheck:
    """verify_archive's state: the index view, what it expects, and what the files turned out to hold."""

    def __init__(self, archive_dir: Path, paths: list[Path], whole: bool, report: Report,
                 on_finding: Callable[[Problem], None] | None):
        self.warc_dir = archive_dir / "warcs"
        self.index_path = archive_dir / "index.sqlite3"
        self.paths = paths
        self.whole = whole
        self.report = report
        self.on_finding = on_finding
        self.index: IndexReader | None = None
        self.closed: dict[str, sqlite3.Row] = {}
        # What the media check needs: the media rows by URI, each post's evidence record ids,
        # and the payload digests of revisits among them (their originals' bytes are wanted too).
        self.media_rows: list[sqlite3.Row] = []
        self.media_uris: set[str] = set()
        self.evidence: dict[int, set[str]] = {}
        self.evidence_ids: set[str] = set()
        self.revisit_digests: set[str] = set()
        # ...and what the files turned out to hold: records by id and by URI, and the sha256 of
        # an original's payload by its payload digest.
        self.by_id: dict[str, tuple[_Rec, str]] = {}
        self.by_uri: dict[str, list[tuple[_Rec, str]]] = {}
        self.originals: dict[str, str] = {}

    def add(self, finding: Problem) -> None:
        self.report.add(finding)
        if self.on_finding is not None:
            self.on_finding(finding)

    def index_problem(self, message: str, file: str | None = None, offset: int | None = None) -> None:
        self.add(Problem(file or str(self.index_path), offset, message))

    def run(self) -> None:
        if self.index_path.exists():
            try:
                self.index = IndexReader(self.index_path)
                for line in self.index.integrity():
                    self.index_problem(f"index damaged: {line}")
                self.closed = self.index.closed_files()
                self.media_rows = self.index.captured_media()
                self.media_uris = {_uri(row["url"]) for row in self.media_rows}
                for row in self.index.media_evidence():
                    self.evidence.setdefault(row["post_pk"], set()).add(row["record_id"])
                    self.evidence_ids.add(row["record_id"])
                    if row["record_type"] == "revisit" and row["payload_digest"]:
                        self.revisit_digests.add(row["payload_digest"])
            except (sqlite3.Error, StorageError) as e:
                self.index_problem(f"index unreadable, its entries are not checked: {e}")
                self._drop_index()
        elif self.whole:
            self.index_problem("no index: the records, media and closed-file hashes cannot be cross-checked")
        try:
            self._files()
            if self.index is not None and self.whole:
                # Media need every file: a media row's sha256 is that of its latest capture, and
                # an older file may rightly hold other bytes for the same URL.
                self._media()
                self._missing()
        except sqlite3.Error as e:
            self.index_problem(f"index unreadable, checks stopped: {e}")
        finally:
            self._drop_index()

    def _drop_index(self) -> None:
        if self.index is not None:
            self.index.close()
            self.index = None

    def _in_archive(self, path: Path) -> bool:
        try:
            return path.resolve().parent == self.warc_dir.resolve()
        except OSError:
            return False

    def _files(self) -> None:
        for path in self.paths:
            name = path.name.removesuffix(OPEN_SUFFIX)
            ours = self.index is not None and self._in_archive(path)
            recorded = self.closed.get(name) if ours else None
            scan = _FileScan(path, hash_file=recorded is not None,
                             want_sha256=self._want_sha256 if ours and self.whole else None)
            for finding in scan.run():
                self.add(finding)
            self.report.files += 1
            self.report.records += len(scan.records)
            if not ours:
                continue
            label = str(path)
            is_open = path.name.endswith(OPEN_SUFFIX)
            if recorded is not None and not is_open:
                if scan.size is not None and scan.size != recorded["size"]:
                    self.add(Problem(label, None, f"size is {scan.size} byte(s), but the index recorded "
                                                  f"{recorded['size']} when the file was closed"))
                if scan.sha256 is not None and scan.sha256 != recorded["sha256"]:
                    self.add(Problem(label, None, f"sha256 is {scan.sha256}, but the index recorded "
                                                  f"{recorded['sha256']} when the file was closed: "
                                                  "it changed since"))
            elif recorded is not None:
                self.add(Problem(label, None, f"the index lists {name} as closed, yet it still has "
                                              "its .open name"))
            elif not is_open:
                self.add(Problem(label, None, "closed file missing from the index's warc_files table: "
                                              "its sha256 at close is unknown"))
            self._records(name, label, scan.records, scan.unreadable)
            for rec in scan.records:
                self._collect(rec, label)

    def _want_sha256(self, rec: _Rec) -> bool:
        # Any type that may hold the media bytes: a damaged WARC-Type must not hide the payload.
        if rec.rtype in _NOT_PAYLOAD_HOLDERS:
            return False
        return (rec.uri in self.media_uris or rec.record_id in self.evidence_ids
                or (rec.payload_digest or "").strip() in self.revisit_digests)

    def _collect(self, rec: _Rec, label: str) -> None:
        if rec.rtype in _NOT_PAYLOAD_HOLDERS and rec.rtype != "revisit":
            return
        if rec.rtype != "revisit" and rec.sha256 is not None and rec.payload_digest:
            self.originals.setdefault(rec.payload_digest.strip(), rec.sha256)
        if rec.record_id in self.evidence_ids:
            self.by_id.setdefault(rec.record_id, (rec, label))
        if rec.uri in self.media_uris:
            self.by_uri.setdefault(rec.uri, []).append((rec, label))

    def _records(self, name: str, label: str, records: list[_Rec], unreadable: set[int]) -> None:
        """Each index row for this file must name the record that starts its member.

        Rows pointing at a member already reported unreadable are not blamed: the index is right.
        """
        at: dict[int, _Rec] = {}
        by_id: dict[str, _Rec] = {}
        for rec in records:
            at.setdefault(rec.offset, rec)
            if rec.record_id:
                by_id.setdefault(rec.record_id, rec)
        for row in self.index.records_in(name):
            rid, offset = row["record_id"], row["warc_offset"]
            what = f"index row for {row['record_type']} record {rid} ({row['url'] or 'no URL'})"
            rec = at.get(offset)
            actual = by_id.get(rid)
            if rec is None and offset in unreadable:
                continue
            if rec is None:
                where = f"; that record is at offset {actual.offset}" if actual is not None else ""
                self.add(Problem(label, offset, f"{what}: no gzip member starts at this offset{where}"))
                continue
            wrong = []
            if rec.record_id != rid:
                where = f" (it is at offset {actual.offset})" if actual is not None else ""
                wrong.append(f"the member here holds {rec.record_id}{where}")
            else:
                if (rec.uri or "") != (row["url"] or ""):
                    wrong.append(f"WARC-Target-URI is {rec.uri!r}")
                if rec.rtype != row["record_type"]:
                    wrong.append(f"WARC-Type is {rec.rtype}")
                if row["payload_digest"] and (rec.payload_digest or "").strip() != row["payload_digest"]:
                    wrong.append(f"WARC-Payload-Digest is {rec.payload_digest}, index says {row['payload_digest']}")
            if rec.length is not None and rec.length != row["warc_length"]:
                wrong.append(f"the member is {rec.length} byte(s) long, index says {row['warc_length']}")
            if wrong:
                self.add(Problem(label, offset, f"{what}: " + "; ".join(wrong)))

    def _media(self) -> None:
        """Each captured media file's sha256 must be that of a payload stored for it: at its URL,
        or (redirects) in another of its post's records; for a revisit, its original's payload."""
        seen: set[tuple[str, int, str]] = set()
        for row in self.media_rows:
            uri, want = _uri(row["url"]), row["sha256"]
            if (uri, row["post_pk"], want) in seen:
                continue
            seen.add((uri, row["post_pk"], want))
            post = f"{row['platform']}/{row['post_id']}"
            at_uri = self.by_uri.get(uri, [])
            mine = {id(rec) for rec, _label in at_uri}
            others = sorted((self.by_id[i] for i in self.evidence.get(row["post_pk"], ()) if i in self.by_id),
                            key=lambda f: (f[1], f[0].offset))
            found = []  # (sha256 or None, record, file label), the media URL's own records last
            for rec, label in [f for f in others if id(f[0]) not in mine] + at_uri:
                digest = (rec.payload_digest or "").strip()
                found.append((self.originals.get(digest) if rec.rtype == "revisit" else rec.sha256, rec, label))
            if any(sha == want for sha, _rec, _label in found):
                continue
            # Blame only a record at the media URL that holds a whole 2xx payload (or a revisit of
            # one); the post's other records were only candidates for a redirect's target.
            blame = [f for f in found[len(found) - len(at_uri):] if f[0] is not None and (
                f[1].rtype == "revisit" or (f[1].complete and not f[1].truncated
                                            and 200 <= (f[1].http_status or 0) < 300))]
            if blame:  # the latest record holding the bytes themselves, else the latest revisit
                sha, rec, label = ([f for f in blame if f[1].rtype != "revisit"] or blame)[-1]
                self.add(Problem(label, rec.offset, f"{rec.name}: media sha256 in the index ({want}, "
                                 f"post {post}) differs from the stored payload's ({sha})"))
            else:
                self.index_problem(f"media {uri} of post {post} is marked captured (sha256 {want}), but no "
                                   "intact payload with that sha256 is in the WARC files")

    def _missing(self) -> None:
        """Files the index names that are not on disk (one that appeared since the listing, from a
        capture running meanwhile, is not missing)."""
        listed = {p.name.removesuffix(OPEN_SUFFIX) for p in self.paths}

        def gone(name: str) -> bool:
            return name not in listed and not any((self.warc_dir / n).exists() for n in (name, name + OPEN_SUFFIX))

        for name, row in sorted(self.closed.items()):
            if gone(name):
                self.add(Problem(str(self.warc_dir / name), None, f"missing: the index recorded it closed "
                                 f"({row['size']} bytes, sha256 {row['sha256']})"))
        for name, (count, first) in sorted(self.index.record_files().items()):
            if name not in self.closed and gone(name):
                self.add(Problem(str(self.warc_dir / name), first, f"missing: {count} index record(s) point into it"))


_NOT_PAYLOAD_HOLDERS = frozenset({"request", "revisit", "metadata", "warcinfo"})


def _uri(url: str) -> str:
    """Media URLs as WARC-Target-URI writes them, so the two compare."""
    try:
        return clean_target_uri(url)
    except ValueError:
        return url


def verify_archive(archive_dir: Path | str, files: Iterable[Path | str] | None = None, *,
                   on_finding: Callable[[Problem], None] | None = None) -> Report:
    """Verify an archive folder (every WARC file and every index entry), or only `files`.

    With `files`, those files are checked, and the index rows about them when they lie in
    `archive_dir/warcs`; media sha256s and missing files are not, as they need every file (a
    media row holds its latest capture's sha256; an older file may rightly hold other bytes).
    `on_finding` sees each problem or note as soon as it is found (the Report keeps them too),
    so a long run can print as it goes. Raises UsageError when there is nothing to verify.
    """
    archive_dir = Path(archive_dir)
    whole = files is None
    if whole:
        if not archive_dir.is_dir():
            raise UsageError(f"no archive at {archive_dir}")
        paths = warc_paths(archive_dir / "warcs")
        if not paths and not (archive_dir / "index.sqlite3").exists():
            raise UsageError(f"no archive at {archive_dir}: neither WARC files nor an index")
    else:
        paths = [Path(f) for f in files]
    report = Report()
    _ArchiveCheck(archive_dir, paths, whole, report, on_finding).run()
    return report
