"""WARC writer tests: real files in tmp_path, read back with warcio, no mocks."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import tracemalloc
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from warcread import assert_valid_headers, read_records, warcio_check
from archiver.models import RecordRef
from archiver.warc import (
    REVISIT_PROFILE,
    Payload,
    WarcSink,
    compression_level,
    record_digest,
)

ROOT = Path(__file__).resolve().parents[1]
SOFTWARE = "embed-archiver/test"
REQ = b"GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n"
NAME_RE = re.compile(r"^archiver-(\d{17})-(\d{5})-[A-Za-z0-9._-]+\.warc\.gz$")


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def http_head(status: str = "200 OK", ctype: str = "text/html", length: int | None = None,
              extra: str = "") -> bytes:
    cl = f"Content-Length: {length}\r\n" if length is not None else ""
    return f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n{cl}{extra}\r\n".encode()


def make_payload(body: bytes, head: bytes | None = None, **kw) -> Payload:
    p = Payload(head if head is not None else http_head(length=len(body)), **kw)
    for i in range(0, len(body), 4096):
        p.write(body[i:i + 4096])
    return p


def exchange(sink: WarcSink, url: str, body: bytes, *, status: int = 200, ctype: str = "text/html",
             **kw) -> tuple[RecordRef, RecordRef]:
    reason = "OK" if status == 200 else "Not Found"
    p = make_payload(body, http_head(f"{status} {reason}", ctype, len(body)))
    with p:
        return sink.write_exchange(url=url, request_head=REQ, response_head=p.head, payload=p,
                                   http_status=status, content_type=ctype, **kw)


def new_sink(tmp_path: Path, **kw) -> WarcSink:
    return WarcSink(tmp_path / "warcs", software=SOFTWARE, **kw)


def member(path: Path, ref: RecordRef) -> bytes:
    """Decompress exactly the gzip member a RecordRef points at; it must be whole and alone."""
    with open(path, "rb") as fh:
        fh.seek(ref.offset)
        raw = fh.read(ref.length)
    assert len(raw) == ref.length
    d = zlib.decompressobj(31)
    data = d.decompress(raw)
    assert d.eof and d.unused_data == b""
    return data


def parse_member(data: bytes):
    rec = next(iter(ArchiveIterator(io.BytesIO(data))))
    return rec, rec.content_stream().read()


def warc_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "warcs").glob("*.warc.gz"))


# ---- Payload -------------------------------------------------------------------------------


def test_payload_digests_read_and_chunks(tmp_path):
    body = os.urandom(300_000)
    head = http_head(length=len(body))
    with make_payload(body, head, spool_max=1000, tmpdir=str(tmp_path)) as p:
        assert p.length == len(body)
        assert p.payload_digest == sha1_b32(body)
        assert p.block_digest == sha1_b32(head + body)
        assert p.sha256 == hashlib.sha256(body).hexdigest()
        assert p.read(10) == body[:10]
        assert b"".join(p.chunks(7000)) == body
        assert p.read() == body
        p.write(b"tail")  # after reads, writes still append
        assert p.read() == body + b"tail"
        assert p.payload_digest == sha1_b32(body + b"tail")
        with pytest.raises(ValueError):
            p.set_head(b"HTTP/1.1 200 OK\r\n\r\n")
    assert p.closed
    with pytest.raises(ValueError):
        p.read()


def test_payload_set_head_before_write():
    p = Payload(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    new = http_head(length=3)
    p.set_head(new)
    p.write(b"abc")
    assert p.head == new
    assert p.block_digest == sha1_b32(new + b"abc")
    assert Payload().payload_digest == "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"
    assert record_digest(b"") == "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"


# ---- exchanges -------------------------------------------------------------------------------


def test_exchange_round_trip(tmp_path):
    body = b"<html><title>t</title>" + b"x" * 5000 + b"</html>"
    head = http_head(length=len(body))
    with new_sink(tmp_path, operator="Newsroom") as sink:
        with make_payload(body, head) as p:
            resp, req = sink.write_exchange(
                url="https://example.com/a?q=1", request_head=REQ, response_head=head, payload=p,
                http_status=200, content_type="text/html", ip="93.184.216.34")
        name = sink.current_name
        assert (tmp_path / "warcs" / (name + ".open")).exists()
        assert not (tmp_path / "warcs" / name).exists()
    path = tmp_path / "warcs" / name
    assert path.exists() and not Path(str(path) + ".open").exists()
    assert NAME_RE.match(name)

    recs = read_records(path)
    assert [r["type"] for r in recs] == ["warcinfo", "response", "request"]
    for r in recs:
        assert_valid_headers(r)
    info, response, request = recs
    assert info["h"].get_header("WARC-Filename") == name
    assert info["h"].get_header("Content-Type") == "application/warc-fields"
    fields = dict(line.split(": ", 1) for line in info["content"].decode().splitlines())
    assert fields["software"] == SOFTWARE
    assert fields["format"] == "WARC File Format 1.1"
    assert fields["operator"] == "Newsroom"
    assert "warc-1.1" in fields["conformsTo"] and fields["hostname"]

    rh = response["h"]
    assert rh.get_header("WARC-Target-URI") == "https://example.com/a?q=1"
    assert rh.get_header("Content-Type") == "application/http; msgtype=response"
    assert rh.get_header("WARC-IP-Address") == "93.184.216.34"
    assert rh.get_header("WARC-Payload-Digest") == sha1_b32(body)
    assert rh.get_header("WARC-Block-Digest") == sha1_b32(head + body)
    assert rh.get_header("WARC-Warcinfo-ID") == info["h"].get_header("WARC-Record-ID")
    assert response["content"] == body
    assert response["http"].get_statuscode() == "200"

    qh = request["h"]
    assert qh.get_header("Content-Type") == "application/http; msgtype=request"
    assert qh.get_header("WARC-Concurrent-To") == rh.get_header("WARC-Record-ID")
    assert qh.get_header("WARC-Date") == rh.get_header("WARC-Date")
    assert qh.get_header("WARC-Block-Digest") == sha1_b32(REQ)

    assert (resp.record_type, req.record_type) == ("response", "request")
    assert resp.record_id == rh.get_header("WARC-Record-ID") and req.record_id == qh.get_header("WARC-Record-ID")
    assert resp.date == rh.get_header("WARC-Date") == req.date
    assert resp.warc == name and resp.payload_digest == sha1_b32(body)
    assert (resp.http_status, resp.content_type, resp.truncated) == (200, "text/html", None)

    # the refs land exactly on whole gzip members
    assert (resp.offset, resp.length) == (response["offset"], response["length"])
    assert req.offset == resp.offset + resp.length
    assert req.offset + req.length == path.stat().st_size
    rec, content = parse_member(member(path, resp))
    assert rec.rec_headers.get_header("WARC-Record-ID") == resp.record_id and content == body
    rec, _ = parse_member(member(path, req))
    assert rec.rec_headers.get_header("WARC-Record-ID") == req.record_id

    check = warcio_check(path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("digest pass") == 3


def test_request_body_and_odd_url(tmp_path):
    with new_sink(tmp_path) as sink:
        with make_payload(b"{}", http_head(ctype="application/json", length=2)) as p:
            resp, req = sink.write_exchange(
                url="https://example.com/p a/é", request_head=b"POST /x HTTP/1.1\r\nHost: e\r\n\r\n",
                request_body=b"a=1", response_head=p.head, payload=p, http_status=200,
                content_type="application/json")
        name = sink.current_name
    assert resp.url == "https://example.com/p%20a/%C3%A9"
    recs = read_records(tmp_path / "warcs" / name)
    assert recs[2]["h"].get_header("WARC-Payload-Digest") == sha1_b32(b"a=1")
    assert recs[2]["content"] == b"a=1"
    assert warcio_check(tmp_path / "warcs" / name).returncode == 0


def test_head_mismatch_and_bad_truncated_are_refused(tmp_path):
    with new_sink(tmp_path) as sink, make_payload(b"abc") as p:
        with pytest.raises(ValueError):
            sink.write_exchange(url="http://e/", request_head=REQ, response_head=http_head(), payload=p,
                                http_status=200, content_type="text/html")
        with pytest.raises(ValueError):
            sink.write_exchange(url="http://e/", request_head=REQ, response_head=p.head, payload=p,
                                http_status=200, content_type="text/html", truncated="yes")
        assert sink.current_name is None  # nothing was opened
    assert not (tmp_path / "warcs").exists() or not any((tmp_path / "warcs").iterdir())


@pytest.mark.parametrize("ctype", ["video/mp4", "image/jpeg"])
def test_media_is_stored_uncompressed(tmp_path, ctype):
    body = bytes(2_000_000)  # zeros: deflate would shrink it ~1000x, so the size proves level 0
    with new_sink(tmp_path) as sink:
        resp, _ = exchange(sink, "https://video.example/v.mp4", body, ctype=ctype)
        name = sink.current_name
    path = tmp_path / "warcs" / name
    assert len(body) < path.stat().st_size < len(body) * 1.002 + 4096
    assert resp.length > len(body)
    _, content = parse_member(member(path, resp))
    assert content == body
    assert warcio_check(path).returncode == 0


def test_compression_levels():
    assert compression_level("text/html; charset=utf-8") == 6
    assert compression_level("Video/MP4") == 0
    assert compression_level("audio/mpeg") == 0
    assert compression_level("image/webp") == 0
    assert compression_level("application/zip") == 0
    assert compression_level("application/octet-stream") == 1
    assert compression_level("text/html", http_head(extra="Content-Encoding: gzip\r\n")) == 0
    assert compression_level("text/html", http_head(extra="Content-Encoding: identity\r\n")) == 6
    assert compression_level(None, http_head(ctype="image/png")) == 0


def test_compressible_text_is_deflated(tmp_path):
    body = b"<p>hello</p>" * 100_000
    with new_sink(tmp_path) as sink:
        exchange(sink, "https://example.com/", body)
        name = sink.current_name
    assert (tmp_path / "warcs" / name).stat().st_size < len(body) / 20


# ---- revisits -----------------------------------------------------------------------------


def test_same_payload_twice_becomes_revisit(tmp_path):
    body = os.urandom(10_000)
    with new_sink(tmp_path) as sink:
        first, _ = exchange(sink, "https://cdn.example/img.jpg", body, ctype="image/jpeg")
        second, req2 = exchange(sink, "https://cdn.example/img.jpg?copy=2", body, ctype="image/jpeg",
                                ip="10.0.0.1")
        third, _ = exchange(sink, "https://cdn.example/img.jpg?copy=3", body, ctype="image/jpeg")
        name = sink.current_name
    assert first.record_type == "response"
    assert second.record_type == third.record_type == "revisit"
    assert second.payload_digest == first.payload_digest == sha1_b32(body)
    assert second.truncated is None and second.http_status == 200

    path = tmp_path / "warcs" / name
    recs = read_records(path)
    assert [r["type"] for r in recs] == ["warcinfo", "response", "request", "revisit", "request",
                                         "revisit", "request"]
    for r in recs:
        assert_valid_headers(r)
    rev, rev_req = recs[3], recs[4]
    h = rev["h"]
    head = http_head(ctype="image/jpeg", length=len(body))
    assert h.get_header("WARC-Profile") == REVISIT_PROFILE
    assert h.get_header("WARC-Refers-To") == first.record_id
    assert h.get_header("WARC-Refers-To-Target-URI") == "https://cdn.example/img.jpg"
    assert h.get_header("WARC-Refers-To-Date") == first.date
    assert h.get_header("WARC-Payload-Digest") == sha1_b32(body)
    assert h.get_header("WARC-Truncated") == "length"
    assert h.get_header("WARC-Target-URI") == "https://cdn.example/img.jpg?copy=2"
    assert h.get_header("WARC-IP-Address") == "10.0.0.1"
    assert h.get_header("Content-Type") == "application/http; msgtype=response"
    assert int(h.get_header("Content-Length")) == len(head)
    assert h.get_header("WARC-Block-Digest") == sha1_b32(head)
    assert rev["content"] == b"" and rev["http"].get_statuscode() == "200"
    assert rev_req["h"].get_header("WARC-Concurrent-To") == second.record_id
    # both revisits point at the original, never at each other
    assert recs[5]["h"].get_header("WARC-Refers-To") == first.record_id
    _, content = parse_member(member(path, second))
    assert content == b""
    assert warcio_check(path).returncode == 0


def test_lookup_digest_from_earlier_run(tmp_path):
    body = b"same bytes as last week"
    earlier = RecordRef(url="https://old.example/x.js", warc="archiver-old.warc.gz", offset=0, length=1,
                        record_type="response", record_id="<urn:uuid:00000000-0000-4000-8000-000000000001>",
                        date="2026-01-01T00:00:00.000000Z", payload_digest=sha1_b32(body), http_status=200)
    asked: list[str] = []

    def lookup(digest: str) -> RecordRef | None:
        asked.append(digest)
        return earlier if digest == earlier.payload_digest else None

    with new_sink(tmp_path, lookup_digest=lookup) as sink:
        ref, _ = exchange(sink, "https://new.example/x.js", body, ctype="text/javascript")
        other, _ = exchange(sink, "https://new.example/y.js", b"new bytes", ctype="text/javascript")
        undeduped, _ = exchange(sink, "https://new.example/z.js", body, ctype="text/javascript", dedup=False)
        name = sink.current_name
    assert asked == [sha1_b32(body), sha1_b32(b"new bytes")]  # dedup=False never asks
    assert ref.record_type == "revisit" and other.record_type == "response"
    assert undeduped.record_type == "response"
    h = read_records(tmp_path / "warcs" / name)[1]["h"]
    assert h.get_header("WARC-Refers-To") == earlier.record_id
    assert h.get_header("WARC-Refers-To-Target-URI") == earlier.url
    assert h.get_header("WARC-Refers-To-Date") == earlier.date


def test_lookup_results_that_are_not_complete_responses_are_ignored(tmp_path):
    body = b"payload"
    bad = RecordRef(url="https://old/", warc="w", offset=0, length=1, record_type="revisit",
                    record_id="<urn:uuid:00000000-0000-4000-8000-000000000002>", date="2026-01-01T00:00:00Z",
                    payload_digest=sha1_b32(body))
    with new_sink(tmp_path, lookup_digest=lambda d: bad) as sink:
        ref, _ = exchange(sink, "https://new/", body)
    assert ref.record_type == "response"


@pytest.mark.parametrize("case", ["truncated", "404", "empty", "dedup-off"])
def test_never_revisited(tmp_path, case):
    body = b"" if case == "empty" else b"partial body"
    kw: dict = {}
    if case == "truncated":
        kw["truncated"] = "length"
    if case == "404":
        kw["status"] = 404
    if case == "dedup-off":
        kw["dedup"] = False
    with new_sink(tmp_path, lookup_digest=lambda d: None) as sink:
        a, _ = exchange(sink, "https://e/1", body, **kw)
        b, _ = exchange(sink, "https://e/2", body, **kw)
        # and a truncated / non-200 capture is never the original of a later complete one
        c, _ = exchange(sink, "https://e/3", body) if case in ("truncated", "404") else (None, None)
        name = sink.current_name
    assert a.record_type == b.record_type == "response"
    if c is not None:
        assert c.record_type == "response"
    recs = read_records(tmp_path / "warcs" / name)
    if case == "truncated":
        assert recs[1]["h"].get_header("WARC-Truncated") == "length"
        assert a.truncated == "length"
    for r in recs:
        assert_valid_headers(r)


# ---- rotation --------------------------------------------------------------------------------


def test_rotation(tmp_path):
    closed: list[tuple[str, int, str]] = []
    refs: list[RecordRef] = []
    warcs = tmp_path / "warcs"
    with new_sink(tmp_path, max_size=6000, on_close=lambda *a: closed.append(a)) as sink:
        for i in range(12):
            resp, req = exchange(sink, f"https://e/{i}", os.urandom(1500))
            refs += [resp, req]
            assert resp.warc == req.warc  # an exchange never straddles two files
            opened = sorted(p.name for p in warcs.glob("*.open"))
            assert opened == ([sink.current_name + ".open"] if sink.current_name else [])
        sink.write_metadata("https://e/0", [("note", "last")])
    assert not list(warcs.glob("*.open"))
    files = warc_files(tmp_path)
    assert len(files) >= 3
    serials = [int(NAME_RE.match(p.name).group(2)) for p in files]
    assert serials == list(range(len(files)))
    assert [c[0] for c in closed] == [p.name for p in files]
    for (cname, size, sha), path in zip(closed, files):
        data = path.read_bytes()
        assert size == len(data) and sha == hashlib.sha256(data).hexdigest()
        recs = read_records(path)
        assert recs[0]["type"] == "warcinfo"
        assert recs[0]["h"].get_header("WARC-Filename") == cname
        assert all(r["type"] != "warcinfo" for r in recs[1:])
        assert warcio_check(path).returncode == 0
    for path in files[:-1]:
        assert path.stat().st_size >= 6000
    for ref in refs:
        rec, _ = parse_member(member(warcs / ref.warc, ref))
        assert rec.rec_headers.get_header("WARC-Record-ID") == ref.record_id


def test_close_without_records_creates_nothing(tmp_path):
    closed = []
    sink = new_sink(tmp_path, on_close=lambda *a: closed.append(a))
    sink.flush()
    sink.close()
    sink.close()
    assert closed == [] and warc_files(tmp_path) == []
    with pytest.raises(ValueError):
        exchange(sink, "https://e/", b"x")


# ---- memory, failures, threads ---------------------------------------------------------------


def test_large_payload_bounded_memory(tmp_path):
    size, block = 50 * 2**20, os.urandom(64 * 1024)
    tracemalloc.start()
    try:
        with new_sink(tmp_path) as sink:
            with Payload(http_head(ctype="video/mp4", length=size), tmpdir=str(tmp_path)) as p:
                for _ in range(size // len(block)):
                    p.write(block)
                resp, _ = sink.write_exchange(url="https://video.example/big.mp4", request_head=REQ,
                                              response_head=p.head, payload=p, http_status=200,
                                              content_type="video/mp4")
            name = sink.current_name
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, peak
    expected = hashlib.sha1()
    for _ in range(size // len(block)):
        expected.update(block)
    assert resp.payload_digest == "sha1:" + base64.b32encode(expected.digest()).decode()
    got, n = hashlib.sha1(), 0
    with open(tmp_path / "warcs" / name, "rb") as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_type == "response":
                stream = rec.content_stream()
                while chunk := stream.read(1 << 20):
                    got.update(chunk)
                    n += len(chunk)
    assert n == size and got.digest() == expected.digest()


_DISK_FULL = textwrap.dedent("""
    import json, os, resource, signal, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from archiver.errors import StorageError
    from archiver.warc import Payload, WarcSink
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]), resource.RLIM_INFINITY))
    closed, refs, error = [], [], None
    sink = WarcSink(Path(sys.argv[2]), software="t", on_close=lambda *a: closed.append(a))
    try:
        for i in range(100):
            body = os.urandom(40_000)
            head = b"HTTP/1.1 200 OK\\r\\nContent-Type: video/mp4\\r\\nContent-Length: 40000\\r\\n\\r\\n"
            with Payload(head) as p:
                p.write(body)
                resp, req = sink.write_exchange(url=f"https://e/{i}", request_head=b"GET / HTTP/1.1\\r\\n\\r\\n",
                                                response_head=head, payload=p, http_status=200,
                                                content_type="video/mp4")
            refs.append([resp.offset, resp.length, req.offset, req.length])
    except StorageError as e:
        error = str(e)
    sink.close()
    print(json.dumps({"error": error, "refs": refs, "closed": closed}))
""")


def run_disk_full(tmp_path: Path, limit: int) -> dict:
    out = subprocess.run([sys.executable, "-c", _DISK_FULL, str(ROOT), str(tmp_path / "warcs"), str(limit)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_disk_full_leaves_only_complete_records(tmp_path):
    limit = 300_000
    result = run_disk_full(tmp_path, limit)
    assert result["error"] and "EFBIG" in result["error"]
    refs = result["refs"]
    assert 3 <= len(refs) < 8
    files = warc_files(tmp_path)
    assert len(files) == 1 and not list((tmp_path / "warcs").glob("*.open"))
    path = files[0]
    size = path.stat().st_size
    assert size <= limit
    assert size == refs[-1][2] + refs[-1][3]  # ends right after the last returned request
    recs = read_records(path)  # reads to the end without error
    assert [r["type"] for r in recs] == ["warcinfo"] + ["response", "request"] * len(refs)
    assert warcio_check(path).returncode == 0
    name, csize, sha = result["closed"][0]
    assert (name, csize, sha) == (path.name, size, hashlib.sha256(path.read_bytes()).hexdigest())


def test_disk_full_before_warcinfo_leaves_no_file(tmp_path):
    result = run_disk_full(tmp_path, 100)
    assert result["error"] and result["refs"] == [] and result["closed"] == []
    assert not (tmp_path / "warcs").exists() or not any((tmp_path / "warcs").iterdir())


class _DroppedConnection(Payload):
    """A payload whose body read fails halfway, after part of the record reached the file."""

    def __init__(self, *args, sizes: list[int], **kw):
        super().__init__(*args, **kw)
        self.sizes = sizes
        self.open_path: Path | None = None

    def chunks(self, size: int = 1 << 20):
        yield next(super().chunks(1_500_000))
        self.sizes.append(self.open_path.stat().st_size)
        raise RuntimeError("socket went away")


def test_failure_mid_record_rolls_back(tmp_path):
    sizes: list[int] = []
    body = os.urandom(3_000_000)
    with new_sink(tmp_path) as sink:
        good, good_req = exchange(sink, "https://e/ok", b"first")
        end = good_req.offset + good_req.length
        broken = _DroppedConnection(http_head(ctype="video/mp4", length=len(body)), sizes=sizes)
        broken.write(body)
        broken.open_path = tmp_path / "warcs" / (sink.current_name + ".open")
        with pytest.raises(RuntimeError), broken:
            sink.write_exchange(url="https://e/bad", request_head=REQ, response_head=broken.head,
                                payload=broken, http_status=200, content_type="video/mp4")
        assert sizes and sizes[0] > end + 1_000_000  # torn bytes did reach the file...
        assert broken.open_path.stat().st_size == end  # ...and were cut away
        after, _ = exchange(sink, "https://e/after", b"third")
        assert after.offset == end
        name = sink.current_name
    recs = read_records(tmp_path / "warcs" / name)
    uris = [r["h"].get_header("WARC-Target-URI") for r in recs if r["type"] == "response"]
    assert uris == ["https://e/ok", "https://e/after"]
    assert warcio_check(tmp_path / "warcs" / name).returncode == 0


def test_threads_share_a_sink(tmp_path):
    refs: list[RecordRef] = []
    lock = threading.Lock()
    with new_sink(tmp_path, max_size=200_000) as sink:
        def work(t: int) -> None:
            for i in range(15):
                pair = exchange(sink, f"https://e/{t}/{i}", os.urandom(5000 + i))
                sink.write_metadata(f"https://e/{t}/{i}", [("via", "x")], concurrent_to=pair[0].record_id)
                with lock:
                    refs.extend(pair)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    for path in warc_files(tmp_path):
        assert warcio_check(path).returncode == 0
    for ref in refs:
        rec, _ = parse_member(member(tmp_path / "warcs" / ref.warc, ref))
        assert rec.rec_headers.get_header("WARC-Record-ID") == ref.record_id
    assert len(refs) == 120


# ---- resource / metadata ---------------------------------------------------------------------


def test_metadata_and_resource(tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(500)
    with new_sink(tmp_path) as sink:
        resp, _ = exchange(sink, "https://news.example/story", b"<html>story</html>")
        res = sink.write_resource("urn:view:https://news.example/story", png, "image/png",
                                  concurrent_to=resp.record_id)
        meta = sink.write_metadata("https://news.example/story", [("tweet-id", "20"), ("via", "https://x/")],
                                   refers_to=resp.record_id, concurrent_to=resp.record_id.strip("<>"))
        bare = sink.write_metadata(None, [("note", "no target")])
        with pytest.raises(ValueError):
            sink.write_metadata("https://e/", [("text", "two\nlines")])
        with pytest.raises(ValueError):
            sink.write_metadata("https://e/", [("bad name", "v")])
        name = sink.current_name
    path = tmp_path / "warcs" / name
    recs = {r["h"].get_header("WARC-Record-ID"): r for r in read_records(path)}
    for r in recs.values():
        assert_valid_headers(r)

    r = recs[res.record_id]
    assert r["type"] == "resource" and res.record_type == "resource"
    assert r["h"].get_header("WARC-Target-URI") == "urn:view:https://news.example/story"
    assert r["h"].get_header("Content-Type") == "image/png"
    assert r["h"].get_header("WARC-Concurrent-To") == resp.record_id
    assert r["h"].get_header("WARC-Payload-Digest") == sha1_b32(png) == res.payload_digest
    assert r["content"] == png

    m = recs[meta.record_id]
    assert m["type"] == "metadata" and meta.record_type == "metadata"
    assert m["h"].get_header("Content-Type") == "application/warc-fields"
    assert m["h"].get_header("WARC-Refers-To") == resp.record_id
    assert m["h"].get_header("WARC-Concurrent-To") == resp.record_id
    assert m["content"] == b"tweet-id: 20\r\nvia: https://x/\r\n"
    assert recs[bare.record_id]["h"].get_header("WARC-Target-URI") is None
    for ref in (res, meta, bare):
        assert member(path, ref).startswith(b"WARC/1.1\r\n")
    assert warcio_check(path).returncode == 0
