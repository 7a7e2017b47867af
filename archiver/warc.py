"""WARC 1.1 output: spooled payloads with streaming digests, and a rotating, crash-safe sink.

We write the gzip members ourselves (one per record, Annex D) so that already-compressed
media is stored at level 0: warcio's writer always deflates at level 9, which is far too slow
for a 1 GB video. Everything else (record layout, digests, revisits, naming) follows
WARC 1.1; see docs/warc-and-replay.md §1.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import itertools
import os
import re
import socket
import tempfile
import threading
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from archiver.errors import StorageError
from archiver.models import RecordRef

__all__ = ["Payload", "WarcSink", "record_digest", "warc_date", "clean_target_uri", "http_header",
           "compression_level", "REVISIT_PROFILE", "WARC_FIELDS", "recover_open_files",
           "unrecorded_closed_files", "check_prefix"]

WARC_VERSION = b"WARC/1.1"
CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
HTTP_RESPONSE = "application/http; msgtype=response"
HTTP_REQUEST = "application/http; msgtype=request"
WARC_FIELDS = "application/warc-fields"
OPEN_SUFFIX = ".open"

DEFAULT_LEVEL = 6
FAST_LEVEL = 1  # unknown binary (application/octet-stream): cheap, still shrinks what it can
STORED_LEVEL = 0
TRUNCATED_VALUES = ("length", "time", "disconnect", "unspecified")

# Bodies that deflate cannot shrink: storing them saves nearly all the CPU.
_STORED_TYPES = frozenset({
    "image/jpeg", "image/jpg", "image/png", "image/gif", "image/webp", "image/avif", "image/heic",
    "application/zip", "application/gzip", "application/x-gzip", "application/x-bzip2",
    "application/x-xz", "application/zstd", "application/x-7z-compressed", "application/vnd.rar",
    "font/woff", "font/woff2", "application/font-woff",
})
_STORED_PREFIXES = ("video/", "audio/")
_OUT_BUFFER = 1 << 20
_CHUNK = 1 << 20
# Digests and spooling of one body run side by side (see Payload._flush).
_WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="payload")
# Characters RFC 3986 never allows in a URI; escaped so a WARC-Target-URI stays one valid token.
_URI_UNSAFE = re.compile(r'[\x00-\x20\x7f"<>\\^`{|}]|[^\x00-\x7f]')
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A WARC file name prefix: a plain name, so files land in warcs/ and nowhere else.
_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_prefix(prefix: str) -> str:
    """`prefix` if it can start a WARC file name in warcs/ (letters, digits, `.`, `_`, `-`, not
    first `.` or `-`, at most 100), else ValueError: no `/`, `..`, glob or control characters."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ValueError(f"bad WARC file prefix {prefix!r}: use letters, digits, '.', '_' and '-' "
                         "(not first), at most 100")
    return prefix


def record_digest(data: bytes) -> str:
    """`sha1:BASE32` of `data`, the de-facto WARC digest form (Heritrix, warcio, pywb)."""
    return _sha1_label(hashlib.sha1(data))


def _sha1_label(h: "hashlib._Hash") -> str:
    return "sha1:" + base64.b32encode(h.digest()).decode("ascii")


def warc_date(date: datetime | None = None) -> str:
    """WARC-Date with microseconds, UTC; a naive datetime is taken to be UTC already."""
    if date is None:
        date = datetime.now(timezone.utc)
    elif date.tzinfo is None:
        date = date.replace(tzinfo=timezone.utc)
    else:
        date = date.astimezone(timezone.utc)
    return date.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def clean_target_uri(url: str) -> str:
    """Percent-escape what a URI may not contain (spaces, controls, non-ASCII, `<>`), nothing else."""
    if not url:
        raise ValueError("a WARC-Target-URI cannot be empty")
    return _URI_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), url)


def http_header(head: bytes, name: str) -> str | None:
    """First value of header `name` in an HTTP head (status line skipped), or None."""
    want = name.lower()
    for line in head.decode("latin-1").split("\n")[1:]:
        line = line.rstrip("\r")
        if not line:
            break
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == want:
            return value.strip()
    return None


def compression_level(content_type: str | None, response_head: bytes = b"") -> int:
    """zlib level for a record: stored when the body is already compressed, 6 otherwise."""
    encoding = http_header(response_head, "Content-Encoding") if response_head else None
    if encoding and encoding.lower() != "identity":
        return STORED_LEVEL
    if content_type is None and response_head:
        content_type = http_header(response_head, "Content-Type")
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in _STORED_TYPES or mime.startswith(_STORED_PREFIXES):
        return STORED_LEVEL
    if mime == "application/octet-stream":
        return FAST_LEVEL
    return DEFAULT_LEVEL


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _as_record_id(value: str) -> str:
    value = value.strip()
    return value if value.startswith("<") else f"<{value}>"


class Payload:
    """A response body spooled to disk as it streams in, digested on the way.

    Memory stays flat however large the body is; `head` (status line + header block as stored)
    is folded into the block digest so the sink never has to re-read anything. Write the entity
    body de-chunked (and drop `Transfer-Encoding: chunked` from the head with set_head()): the
    payload digest is taken over the bytes written, and WARC 1.1 wants it without chunk framing,
    which is also what makes identical bodies dedup.
    """

    def __init__(self, head: bytes = b"", spool_max: int = 1 << 20, tmpdir: str | None = None):
        self._file = tempfile.SpooledTemporaryFile(max_size=spool_max, dir=tmpdir)
        self._head = bytes(head)
        self._block = hashlib.sha1(self._head)
        self._sha1 = hashlib.sha1()
        self._sha256 = hashlib.sha256()
        self._length = 0
        self._pending = bytearray()
        self._at_end = True
        self._broken: str | None = None

    @property
    def head(self) -> bytes:
        return self._head

    def set_head(self, head: bytes) -> None:
        """Replace the stored HTTP head; only before the first body byte, as it seeds the block digest."""
        if self._length:
            raise ValueError("Payload.set_head() after body bytes were written")
        self._head = bytes(head)
        self._block = hashlib.sha1(self._head)

    def finalize_head(self, head: bytes) -> None:
        """Replace the head after the body, re-digesting the block from the spool.

        For chunked responses, whose stored Content-Length is only known at the end.
        """
        self._head = bytes(head)
        block = hashlib.sha1(self._head)
        for data in self.chunks():
            block.update(data)
        self._block = block

    def write(self, chunk: bytes) -> None:
        """Append body bytes; gathered into ~1 MiB blocks so per-call costs vanish on fast links."""
        self._usable()
        self._pending += chunk
        if len(self._pending) >= _CHUNK:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        data = bytes(self._pending)
        self._pending.clear()
        # hashlib drops the GIL on large buffers: digest and spool side by side on two cores.
        jobs = [_WORKERS.submit(self._sha256.update, data), _WORKERS.submit(self._spool, data)]
        self._sha1.update(data)
        self._block.update(data)
        for job in jobs:
            job.result()
        self._length += len(data)

    def _spool(self, data: bytes) -> None:
        try:
            if not self._at_end:
                self._file.seek(0, os.SEEK_END)
                self._at_end = True
            self._file.write(data)
        except OSError as e:
            self._broken = f"cannot spool response body: {e}"
            raise StorageError(self._broken) from e

    @property
    def length(self) -> int:
        return self._length + len(self._pending)

    @property
    def payload_digest(self) -> str:
        self._flush()
        return _sha1_label(self._sha1)

    @property
    def block_digest(self) -> str:
        self._flush()
        return _sha1_label(self._block)

    @property
    def sha256(self) -> str:
        self._flush()
        return self._sha256.hexdigest()

    def read(self, limit: int | None = None) -> bytes:
        """The first `limit` body bytes (all if None), for parsing HTML/JSON."""
        self._usable()
        self._flush()
        self._file.seek(0)
        self._at_end = False
        return self._file.read(-1 if limit is None else limit)

    def chunks(self, size: int = _CHUNK) -> Iterator[bytes]:
        """The body from the start, `size` bytes at a time."""
        self._usable()
        self._flush()
        self._file.seek(0)
        self._at_end = False
        while True:
            data = self._file.read(size)
            if not data:
                return
            yield data

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Payload:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _usable(self) -> None:
        if self._file.closed:
            raise ValueError("Payload is closed")
        if self._broken:
            raise StorageError(self._broken)


class _WarcFile:
    """One `.warc.gz.open` file: buffered raw writes, a running sha256, and rollback to a mark."""

    def __init__(self, directory: Path, name: str):
        self.name = name
        self.path = directory / name
        self.open_path = directory / (name + OPEN_SUFFIX)
        if self.path.exists():
            raise FileExistsError(f"{self.path} already exists")
        self.fd = os.open(self.open_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
        self.pos = 0
        self.sha256 = hashlib.sha256()
        self.warcinfo_id: str | None = None
        self._buf = bytearray()

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.sha256.update(data)
        self.pos += len(data)
        self._buf += data
        if len(self._buf) >= _OUT_BUFFER:
            self.drain()

    def drain(self) -> None:
        with memoryview(self._buf) as view:
            done = 0
            while done < len(view):
                done += os.write(self.fd, view[done:])
        self._buf.clear()

    def mark(self) -> tuple[int, "hashlib._Hash"]:
        assert not self._buf, "a mark must sit on a record boundary"
        return self.pos, self.sha256.copy()

    def rollback(self, mark: tuple[int, "hashlib._Hash"]) -> None:
        """Cut the file back to `mark` so no torn record is ever left at its end."""
        self._buf.clear()
        os.ftruncate(self.fd, mark[0])
        os.lseek(self.fd, mark[0], os.SEEK_SET)
        self.pos, self.sha256 = mark[0], mark[1].copy()

    def sync(self) -> None:
        self.drain()
        os.fsync(self.fd)

    def finish(self) -> None:
        """fsync, close, rename `.open` away, fsync the folder: the name only appears when complete."""
        self.sync()
        os.close(self.fd)
        self.fd = -1
        os.rename(self.open_path, self.path)
        fsync_dir(self.path.parent)

    def abandon(self) -> None:
        """Stop using a file we could not repair; it keeps its `.open` name so nobody indexes it."""
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in `path` durable (best effort on file systems that refuse)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _header_block(fields: list[tuple[str, str]]) -> bytes:
    lines = [WARC_VERSION]
    for name, value in fields:
        value = str(value)
        if any(c in value for c in "\r\n\x00"):
            raise ValueError(f"{name} value contains a line break: {value!r}")
        lines.append(f"{name}: {value}".encode("utf-8"))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _write_member(out: _WarcFile, fields: list[tuple[str, str]], block: Iterable[bytes],
                      block_length: int, level: int) -> tuple[int, int]:
    """Write one record as its own gzip member; returns (offset, length) of the member.

    `fields` must not contain Content-Length: it is added from `block_length`, and the block
    actually streamed is checked against it so a record can never lie about its size.
    """
    header = _header_block(fields + [("Content-Length", str(block_length))])
    start = out.pos
    z = _StoredMember() if level == 0 else zlib.compressobj(level, zlib.DEFLATED, 31)
    out.write(z.compress(header))
    seen = 0
    for part in block:
        seen += len(part)
        out.write(z.compress(part))
    if seen != block_length:
        raise ValueError(f"record block is {seen} bytes, Content-Length says {block_length}")
    out.write(z.compress(b"\r\n\r\n"))
    out.write(z.flush())
    return start, out.pos - start


class _StoredMember:
    """A gzip member of stored deflate blocks, zlib's compressobj interface at memcpy speed.

    zlib at level 0 still runs its deflate machinery (about 400 MB/s here); already-compressed
    media gains nothing from it, and a gzip member may use any level, including none.
    """

    _GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    _MAX = 0xFFFF

    def __init__(self) -> None:
        self._crc = 0
        self._size = 0
        self._started = False

    def compress(self, data: bytes) -> bytes:
        parts = []
        if not self._started:
            parts.append(self._GZIP_HEADER)
            self._started = True
        view = memoryview(data)
        self._crc = zlib.crc32(view, self._crc)
        self._size += len(view)
        for i in range(0, len(view), self._MAX):
            piece = view[i:i + self._MAX]
            n = len(piece)
            parts.append(bytes((0, n & 0xFF, n >> 8, ~n & 0xFF, (~n >> 8) & 0xFF)))
            parts.append(piece)
        return b"".join(parts)

    def flush(self) -> bytes:
        head = b"" if self._started else self._GZIP_HEADER
        return (head + b"\x01\x00\x00\xff\xff" + (self._crc & 0xFFFFFFFF).to_bytes(4, "little")
                + (self._size & 0xFFFFFFFF).to_bytes(4, "little"))


_Closed = Optional[tuple[str, int, str]]


class WarcSink:
    """Owns `warcs/` for one process: rotating `.warc.gz` files, dedup by payload digest.

    Thread-safe: each record (or request/response pair) is written under one lock, so records
    of different threads never interleave. Callbacks (`lookup_digest`, `on_close`) run outside
    the lock, so they may take the index's own lock without deadlocking against `flush()`.
    """

    def __init__(self, warc_dir: Path, *, prefix: str = "archiver", max_size: int = 10**9,
                 software: str, operator: str | None = None,
                 lookup_digest: Callable[[str], RecordRef | None] | None = None,
                 on_close: Callable[[str, int, str], None] | None = None):
        check_prefix(prefix)
        self.warc_dir = Path(warc_dir)
        self.prefix = prefix
        self.max_size = max_size
        self.software = software
        self.operator = operator
        self.lookup_digest = lookup_digest
        self.on_close = on_close
        self.hostname = socket.gethostname() or "localhost"
        self._name_host = re.sub(r"[^A-Za-z0-9.-]+", "_", self.hostname)
        self._serial = 0
        self._file: _WarcFile | None = None
        self._seen: dict[str, RecordRef] = {}  # payload digest -> complete 200 response we wrote
        self._lock = threading.Lock()
        self._closed = False

    # ---- public API -------------------------------------------------------------------

    @property
    def current_name(self) -> str | None:
        """Final name (no `.open`) of the file being written, or None between files."""
        f = self._file
        return f.name if f else None

    def write_exchange(self, *, url: str, request_head: bytes, response_head: bytes, payload: Payload,
                       http_status: int | None, content_type: str | None, ip: str | None = None,
                       truncated: str | None = None, date: datetime | None = None, dedup: bool = True,
                       request_body: bytes = b"") -> tuple[RecordRef, RecordRef]:
        """Write response (or revisit) then request; returns (response_or_revisit_ref, request_ref).

        Both land in the same file, adjacent, or neither does.
        """
        if payload.head != response_head:
            raise ValueError("payload.head differs from response_head; use Payload.set_head() first")
        if truncated is not None and truncated not in TRUNCATED_VALUES:
            raise ValueError(f"WARC-Truncated must be one of {TRUNCATED_VALUES}, not {truncated!r}")
        uri = clean_target_uri(url)
        wdate = warc_date(date)
        digest = payload.payload_digest
        reusable = http_status == 200 and payload.length > 0 and not truncated
        original = self._find_original(digest) if dedup and reusable else None
        level = compression_level(content_type, response_head)
        common = [("WARC-Date", wdate), ("WARC-Target-URI", uri)]
        if ip:
            common.append(("WARC-IP-Address", ip))

        with self._lock:
            if dedup and reusable and original is None:
                original = self._seen.get(digest)  # another thread may have stored it meanwhile
            f, mark = self._begin()
            try:
                resp_id = _record_id()
                if original is not None:
                    fields = [("WARC-Type", "revisit"), ("WARC-Record-ID", resp_id), *common,
                              *self._info(f),
                              ("WARC-Profile", REVISIT_PROFILE),
                              ("WARC-Refers-To", original.record_id),
                              ("WARC-Refers-To-Target-URI", original.url),
                              ("WARC-Refers-To-Date", original.date),
                              ("WARC-Truncated", "length"),
                              ("Content-Type", HTTP_RESPONSE),
                              ("WARC-Block-Digest", record_digest(response_head)),
                              ("WARC-Payload-Digest", digest)]
                    r_off, r_len = _write_member(f, fields, [response_head], len(response_head),
                                                     DEFAULT_LEVEL)
                else:
                    fields = [("WARC-Type", "response"), ("WARC-Record-ID", resp_id), *common,
                              *self._info(f)]
                    if truncated:
                        fields.append(("WARC-Truncated", truncated))
                    fields += [("Content-Type", HTTP_RESPONSE),
                               ("WARC-Block-Digest", payload.block_digest),
                               ("WARC-Payload-Digest", digest)]
                    block = itertools.chain([response_head], payload.chunks())
                    r_off, r_len = _write_member(f, fields, block, len(response_head) + payload.length,
                                                     level)
                req_id = _record_id()
                req_block = request_head + request_body
                fields = [("WARC-Type", "request"), ("WARC-Record-ID", req_id), *common, *self._info(f),
                          ("WARC-Concurrent-To", resp_id), ("Content-Type", HTTP_REQUEST),
                          ("WARC-Block-Digest", record_digest(req_block))]
                if request_body:
                    fields.append(("WARC-Payload-Digest", record_digest(request_body)))
                q_off, q_len = _write_member(f, fields, [req_block], len(req_block), DEFAULT_LEVEL)
                f.drain()  # the record reaches the OS before its RecordRef exists; fsync is flush()'s job
            except BaseException as e:
                self._fail(f, mark, e)
                raise  # _fail raises StorageError for OS errors; anything else propagates as is

            resp_ref = RecordRef(url=uri, warc=f.name, offset=r_off, length=r_len,
                                 record_type="revisit" if original is not None else "response",
                                 record_id=resp_id, date=wdate, payload_digest=digest,
                                 http_status=http_status, content_type=content_type,
                                 truncated=None if original is not None else truncated)
            req_ref = RecordRef(url=uri, warc=f.name, offset=q_off, length=q_len, record_type="request",
                                record_id=req_id, date=wdate,
                                payload_digest=record_digest(request_body) if request_body else None)
            if original is None and reusable:
                self._seen.setdefault(digest, resp_ref)
            closed = self._rotate_if_full()
        self._notify(closed)
        return resp_ref, req_ref

    def write_resource(self, url: str, body: bytes, content_type: str, *, concurrent_to: str | None = None,
                       date: datetime | None = None) -> RecordRef:
        """A derived file (rendered post page, screenshot) at a urn: or http URI."""
        uri = clean_target_uri(url)
        wdate = warc_date(date)
        digest = record_digest(body)
        fields = [("WARC-Date", wdate), ("WARC-Target-URI", uri)]
        if concurrent_to:
            fields.append(("WARC-Concurrent-To", _as_record_id(concurrent_to)))
        fields += [("Content-Type", content_type), ("WARC-Block-Digest", digest),
                   ("WARC-Payload-Digest", digest)]
        return self._write_single("resource", uri, wdate, fields, body, compression_level(content_type),
                                  payload_digest=digest, content_type=content_type)

    def write_metadata(self, url: str | None, fields: list[tuple[str, str]], *,
                       concurrent_to: str | None = None, refers_to: str | None = None) -> RecordRef:
        """`application/warc-fields` only: indexers skip it, so it can never hijack replay of `url`."""
        lines = []
        for name, value in fields:
            if not _FIELD_NAME.fullmatch(name):
                raise ValueError(f"bad warc-fields name: {name!r}")
            value = str(value)
            if any(c in value for c in "\r\n\x00"):
                raise ValueError(f"warc-fields value for {name} contains a line break")
            lines.append(f"{name}: {value}\r\n")
        body = "".join(lines).encode("utf-8")
        uri = clean_target_uri(url) if url else None
        wdate = warc_date()
        head = [("WARC-Date", wdate)]
        if uri:
            head.append(("WARC-Target-URI", uri))
        if concurrent_to:
            head.append(("WARC-Concurrent-To", _as_record_id(concurrent_to)))
        if refers_to:
            head.append(("WARC-Refers-To", _as_record_id(refers_to)))
        head += [("Content-Type", WARC_FIELDS), ("WARC-Block-Digest", record_digest(body))]
        return self._write_single("metadata", uri or "", wdate, head, body, DEFAULT_LEVEL,
                                  payload_digest=None, content_type=WARC_FIELDS)

    def flush(self) -> None:
        """Make every returned record durable (fsync); call before the index commits rows for it."""
        with self._lock:
            f = self._file
            if f is None:
                return
            try:
                f.sync()
            except OSError as e:
                raise StorageError(f"cannot flush {f.open_path}: {e.strerror or e}") from e

    def close(self) -> None:
        """Finish the current file (rename, on_close); later writes are refused."""
        with self._lock:
            self._closed = True
            closed = self._close_file()
        self._notify(closed)

    def __enter__(self) -> WarcSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- internals (called with the lock held unless noted) -------------------------------

    def _find_original(self, digest: str) -> RecordRef | None:
        """Earlier complete 200 response with this payload: ours first, then the index (no lock)."""
        ref = self._seen.get(digest)
        if ref is None and self.lookup_digest is not None:
            found = self.lookup_digest(digest)
            if (found is not None and found.record_type == "response" and not found.truncated
                    and found.payload_digest in (None, digest)):
                ref = found
        return ref

    @staticmethod
    def _info(f: _WarcFile) -> list[tuple[str, str]]:
        return [("WARC-Warcinfo-ID", f.warcinfo_id)] if f.warcinfo_id else []

    def _write_single(self, rtype: str, uri: str, wdate: str, fields: list[tuple[str, str]], body: bytes,
                      level: int, *, payload_digest: str | None, content_type: str) -> RecordRef:
        rid = _record_id()
        with self._lock:
            f, mark = self._begin()
            try:
                all_fields = [("WARC-Type", rtype), ("WARC-Record-ID", rid), *fields, *self._info(f)]
                off, length = _write_member(f, all_fields, [body], len(body), level)
                f.drain()  # the record reaches the OS before its RecordRef exists; fsync is flush()'s job
            except BaseException as e:
                self._fail(f, mark, e)
                raise
            ref = RecordRef(url=uri, warc=f.name, offset=off, length=length, record_type=rtype,
                            record_id=rid, date=wdate, payload_digest=payload_digest,
                            content_type=content_type)
            closed = self._rotate_if_full()
        self._notify(closed)
        return ref

    def _begin(self) -> tuple[_WarcFile, tuple]:
        if self._closed:
            raise ValueError("WarcSink is closed")
        if self._file is None:
            self._open_file()
        assert self._file is not None
        return self._file, self._file.mark()

    def _fail(self, f: _WarcFile, mark: tuple, error: BaseException) -> None:
        try:
            f.rollback(mark)
        except OSError as e2:
            f.abandon()
            self._file = None
            raise StorageError(
                f"cannot write to {f.open_path} ({_why(error)}) nor cut it back to {mark[0]} bytes "
                f"({_why(e2)}); it may end with a torn record and is left with its .open name") from error
        if isinstance(error, OSError):
            raise StorageError(
                f"cannot write WARC record to {f.open_path}: {_why(error)}; "
                f"record discarded, file cut back to {mark[0]} bytes") from error

    def _open_file(self) -> None:
        try:
            self.warc_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"cannot create {self.warc_dir}: {_why(e)}") from e
        now = datetime.now(timezone.utc)
        stamp = now.strftime("%Y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}"
        name = f"{self.prefix}-{stamp}-{self._serial:05d}-{self._name_host}.warc.gz"
        self._serial += 1
        try:
            f = _WarcFile(self.warc_dir, name)
        except OSError as e:
            raise StorageError(f"cannot create WARC file {name} in {self.warc_dir}: {_why(e)}") from e
        lines = [("software", self.software), ("format", "WARC File Format 1.1"),
                 ("conformsTo", CONFORMS_TO), ("hostname", self.hostname)]
        if self.operator:
            lines.append(("operator", self.operator))
        body = "".join(f"{k}: {v}\r\n" for k, v in lines).encode("utf-8")
        info_id = _record_id()
        fields = [("WARC-Type", "warcinfo"), ("WARC-Record-ID", info_id), ("WARC-Date", warc_date(now)),
                  ("WARC-Filename", name), ("Content-Type", WARC_FIELDS),
                  ("WARC-Block-Digest", record_digest(body))]
        try:
            _write_member(f, fields, [body], len(body), DEFAULT_LEVEL)
            f.drain()
        except OSError as e:
            f.abandon()
            try:
                os.unlink(f.open_path)
            except OSError:
                pass
            raise StorageError(f"cannot start WARC file {f.open_path}: {_why(e)}") from e
        f.warcinfo_id = info_id
        self._file = f

    def _rotate_if_full(self) -> _Closed:
        f = self._file
        if f is not None and f.pos >= self.max_size:
            return self._close_file()
        return None

    def _close_file(self) -> _Closed:
        f = self._file
        if f is None:
            return None
        self._file = None
        try:
            f.finish()
        except OSError as e:
            f.abandon()
            raise StorageError(f"cannot finish {f.open_path}: {_why(e)}; left with its .open name") from e
        return f.name, f.pos, f.sha256.hexdigest()

    def _notify(self, closed: _Closed) -> None:
        """Runs without the lock: on_close usually writes to the index."""
        if closed is not None and self.on_close is not None:
            self.on_close(*closed)


def _why(e: BaseException) -> str:
    if isinstance(e, OSError) and e.errno is not None:
        return f"{errno.errorcode.get(e.errno, e.errno)}: {e.strerror}"
    return f"{type(e).__name__}: {e}"


# ---- crash recovery ------------------------------------------------------------------------


def recover_open_files(warc_dir: Path) -> list[tuple[str, int, str]]:
    """Finish the `.open` files a writer left when it died (kill -9, power loss); call under the
    archive lock, so no live writer owns them.

    Each file keeps its complete gzip members (one record each) and loses a torn tail, is fsynced
    and renamed to its final name; `(name, size, sha256)` is returned for each, so the caller
    records it like any closed file. A file without one complete member is removed. Nothing the
    index points at is lost: records are fsynced (`WarcSink.flush`) before their rows commit.
    """
    warc_dir = Path(warc_dir)
    out: list[tuple[str, int, str]] = []
    try:
        leftovers = sorted(warc_dir.glob("*" + OPEN_SUFFIX))
    except OSError:
        return out
    for open_path in leftovers:
        final = open_path.with_name(open_path.name[: -len(OPEN_SUFFIX)])
        if final.exists():
            continue  # never overwrite a closed file; verify reports the stray .open
        try:
            keep = _complete_members_end(open_path)
            if keep == 0:
                os.unlink(open_path)
                continue
            digest = hashlib.sha256()
            with open(open_path, "r+b") as fh:
                fh.truncate(keep)
                fh.flush()
                os.fsync(fh.fileno())
                fh.seek(0)
                for block in iter(lambda: fh.read(_CHUNK), b""):
                    digest.update(block)
            os.rename(open_path, final)
        except OSError as e:
            raise StorageError(f"cannot recover {open_path}: {_why(e)}") from e
        out.append((final.name, keep, digest.hexdigest()))
    if out:
        fsync_dir(warc_dir)
    return out


def unrecorded_closed_files(warc_dir: Path, prefix: str, recorded: set[str]) -> list[tuple[str, int, str]]:
    """`(name, size, sha256)` of this archive's closed files (named `<prefix>-*.warc.gz`) that
    are not in `recorded`: a writer killed between renaming a file and recording it leaves one."""
    out = []
    for path in sorted(Path(warc_dir).glob(f"{prefix}-*.warc.gz")):
        if path.name in recorded:
            continue
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(_CHUNK), b""):
                    digest.update(block)
            size = path.stat().st_size
        except OSError as e:
            raise StorageError(f"cannot read {path}: {_why(e)}") from e
        out.append((path.name, size, digest.hexdigest()))
    return out


def _complete_members_end(path: Path) -> int:
    """Offset just past the last complete gzip member of a run of members from offset 0."""
    good_end = 0
    offset = 0  # file offset of the next byte fed to the decompressor
    d = zlib.decompressobj(31)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            data = chunk
            while data:
                try:
                    d.decompress(data, _CHUNK)  # output discarded, bounded per call
                except zlib.error:
                    return good_end  # garbage after the last good member (a torn write)
                if d.eof:
                    rest = d.unused_data
                    offset += len(data) - len(rest)
                    good_end = offset
                    data = rest
                    d = zlib.decompressobj(31)
                else:
                    tail = d.unconsumed_tail
                    offset += len(data) - len(tail)
                    data = tail
    return good_end
