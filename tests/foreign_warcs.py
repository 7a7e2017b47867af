"""A corpus of small WARC and ARC files as other tools write them, and damaged ones, built by the tests.

Each builder writes one file and returns a `Foreign`: what reading it must give (the records an
import indexes, in file order) and what must be said about it (problems and notes, each with the
offset it must be reported at). Files are written with raw bytes where the layout matters (wget's
`<uri>`, Heritrix's chunked digests, damage), with warcio's writer where any conformant writer does.

Styles, from the tools' own output conventions (docs/warc-and-replay.md §1, §5):

* wget 1.21: WARC/1.0, `WARC-Target-URI: <http://...>`, request before response, seconds-only
  dates, a `warcinfo` with wget-arguments, a `metadata` record, its own `resource` records
  (arguments, log) at `metadata://gnu.org/software/wget/warc/...`; the page gzip-encoded.
* Heritrix 3: WARC/1.0, `dns:` response records, chunked bodies stored raw with the raw-chunked
  payload digest (the non-spec convention, heritrix3#769), `metadata` outlinks, a revisit with
  the 1.0 identical-payload-digest profile and `WARC-Truncated: length`.
* warcprox 2: WARC/1.0 written by warcio, a revisit with WARC-Refers-To-Target-URI/-Date.
* browsertrix / pywb: WARC/1.1, the body stored de-chunked while the headers still say
  `Transfer-Encoding: chunked` (webrecorder/pywb#584), a `urn:pageinfo:` resource.
* ARC v1, plain and gzipped per record, with a `filedesc://` version block and a `dns:` record.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

TWEET_A = "1183419470331486208"  # cited by the wget page (a blockquote) and by the ARC page
TWEET_B = "1183000000000000001"  # cited by the wget page (a plain link) and the warcprox page
PAGE = "https://news.example/2019/10/14/isis-prisoners-escape"
ID_NS = uuid.UUID("0f0e0d0c-0b0a-4908-8706-050403020100")


def article_html(*tweets: tuple[str, str], title: str = "Prisoners escape") -> bytes:
    """A news page citing (handle, id) tweets: the first as an embed blockquote, the rest as links."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>",
             "<article><h1>Prisoners escape</h1><p>Officials said on Monday that several hundred...</p>"]
    for n, (handle, tid) in enumerate(tweets):
        url = f"https://twitter.com/{handle}/status/{tid}"
        if n == 0:
            parts.append(f'<blockquote class="twitter-tweet"><p lang="en">Breaking: families fled the camp.</p>'
                         f'&mdash; Reporter (@{handle}) <a href="{url}?ref_src=twsrc%5Etfw">October 13, 2019</a>'
                         '</blockquote><script async src="https://platform.twitter.com/widgets.js"></script>')
        else:
            parts.append(f'<p>As <a href="{url}">one witness put it</a>, the gates were open.</p>')
    parts.append("</article></body></html>")
    return "".join(parts).encode("utf-8")


def sha1_label(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def rid(name: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(ID_NS, name)}>"


def raw_record(version: str, fields: list[tuple[str, str]], block: bytes, *, content_length: int | None = None,
               digests: bool = True, payload: bytes | None = None) -> bytes:
    """One record's bytes, fields in the order given; digests of `block` (and `payload`) added."""
    fields = list(fields)
    if digests:
        fields.append(("WARC-Block-Digest", sha1_label(block)))
        if payload is not None:
            fields.append(("WARC-Payload-Digest", sha1_label(payload)))
    length = len(block) if content_length is None else content_length
    head = f"{version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + f"Content-Length: {length}\r\n\r\n"
    return head.encode("utf-8") + block + b"\r\n\r\n"


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def http_response(body: bytes, headers: list[tuple[str, str]], status: str = "200 OK",
                  version: str = "HTTP/1.1") -> tuple[bytes, bytes]:
    head = f"{version} {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("latin-1") + body, head.encode("latin-1")


def chunked(body: bytes, size: int = 100) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size))
    return out + b"0\r\n\r\n"


@dataclass
class Foreign:
    """One corpus file and what an import must make of it."""

    path: Path
    tool: str
    urls: list[str]  # WARC-Target-URIs (brackets dropped) of the records indexed, in file order
    types: list[str]  # and their types
    problems: list[tuple[int | None, str]] = field(default_factory=list)  # (offset, words of the message)
    notes: list[tuple[int | None, str]] = field(default_factory=list)
    reframed: bool = False  # stored re-framed, one gzip member per record
    pages: dict[str, list[str]] = field(default_factory=dict)  # page URL -> tweet ids it cites

    @property
    def clean(self) -> bool:
        return not self.problems


def _out(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def _members(records: list[bytes]) -> tuple[bytes, list[int]]:
    """Records gzipped one per member; their member offsets."""
    out, offsets = b"", []
    for rec in records:
        offsets.append(len(out))
        out += gz(rec)
    return out, offsets


# ----------------------------------------------------------------------------- tools


def wget(folder: Path) -> Foreign:
    """wget --warc-file: WARC/1.0, `<uri>` targets, gzip-encoded page, metadata and log records."""
    name = "news-wget.warc.gz"
    date = "2019-10-14T12:00:00Z"
    info = (b"software: Wget/1.21.3 (linux-gnu)\r\nformat: WARC File Format 1.0\r\n"
            b"conformsTo: http://bibnum.bnf.fr/WARC/WARC_ISO_28500_version1_latestdraft.pdf\r\n"
            b"robots: classic\r\nwget-arguments: \"--warc-file=news-wget\" \"" + PAGE.encode() + b"\"\r\n\r\n")
    html = article_html(("reporter", TWEET_A), ("witness", TWEET_B))
    body = gzip.compress(html, mtime=0)
    response, _ = http_response(body, [("Date", "Mon, 14 Oct 2019 12:00:00 GMT"), ("Content-Type", "text/html; charset=UTF-8"),
                                       ("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))])
    request = (b"GET /2019/10/14/isis-prisoners-escape HTTP/1.1\r\nUser-Agent: Wget/1.21.3\r\nAccept: */*\r\n"
               b"Accept-Encoding: identity\r\nHost: news.example\r\nConnection: Keep-Alive\r\n\r\n")
    log = b"--2019-10-14 12:00:00--  " + PAGE.encode() + b"\nResolving news.example... 93.184.216.34\n200 OK\n"
    args = b"\"--warc-file=news-wget\" \"" + PAGE.encode() + b"\""
    common = [("WARC-Warcinfo-ID", rid("wget-info")), ("WARC-Date", date)]
    records = [
        raw_record("WARC/1.0", [("WARC-Type", "warcinfo"), ("Content-Type", "application/warc-fields"),
                                ("WARC-Date", date), ("WARC-Record-ID", rid("wget-info")),
                                ("WARC-Filename", name)], info),
        raw_record("WARC/1.0", [("WARC-Type", "request"), ("WARC-Target-URI", f"<{PAGE}>"),
                                ("Content-Type", "application/http;msgtype=request"), *common,
                                ("WARC-Record-ID", rid("wget-req")), ("WARC-IP-Address", "93.184.216.34")],
                   request, payload=b""),
        raw_record("WARC/1.0", [("WARC-Type", "response"), ("WARC-Record-ID", rid("wget-resp")),
                                ("WARC-Warcinfo-ID", rid("wget-info")), ("WARC-Concurrent-To", rid("wget-req")),
                                ("WARC-Target-URI", f"<{PAGE}>"), ("WARC-Date", date),
                                ("WARC-IP-Address", "93.184.216.34"),
                                ("Content-Type", "application/http;msgtype=response")], response, payload=body),
        raw_record("WARC/1.0", [("WARC-Type", "metadata"), ("WARC-Record-ID", rid("wget-manifest")),
                                ("WARC-Warcinfo-ID", rid("wget-info")),
                                ("WARC-Target-URI", "<metadata://gnu.org/software/wget/warc/MANIFEST.txt>"),
                                ("WARC-Date", date), ("Content-Type", "application/warc-fields")],
                   f"warcinfo: {rid('wget-info')}\r\n".encode()),
        raw_record("WARC/1.0", [("WARC-Type", "resource"), ("WARC-Record-ID", rid("wget-args")),
                                ("WARC-Warcinfo-ID", rid("wget-info")), ("WARC-Concurrent-To", rid("wget-manifest")),
                                ("WARC-Target-URI", "<metadata://gnu.org/software/wget/warc/wget_arguments.txt>"),
                                ("WARC-Date", date), ("Content-Type", "text/plain")], args),
        raw_record("WARC/1.0", [("WARC-Type", "resource"), ("WARC-Record-ID", rid("wget-log")),
                                ("WARC-Warcinfo-ID", rid("wget-info")), ("WARC-Concurrent-To", rid("wget-manifest")),
                                ("WARC-Target-URI", "<metadata://gnu.org/software/wget/warc/wget.log>"),
                                ("WARC-Date", date), ("Content-Type", "text/plain")], log),
    ]
    data, _ = _members(records)
    path = _out(folder, name)
    path.write_bytes(data)
    return Foreign(path, "wget", urls=["", PAGE, PAGE, "metadata://gnu.org/software/wget/warc/MANIFEST.txt",
                                       "metadata://gnu.org/software/wget/warc/wget_arguments.txt",
                                       "metadata://gnu.org/software/wget/warc/wget.log"],
                   types=["warcinfo", "request", "response", "metadata", "resource", "resource"],
                   pages={PAGE: [TWEET_A, TWEET_B]})


def heritrix(folder: Path) -> Foreign:
    """Heritrix 3: dns: records, chunked bodies with raw-chunked (and one spec) payload digests,
    metadata outlinks, a WARC/1.0-profile revisit."""
    name = "WEB-20191014120000000-00000-4242~crawler~8443.warc.gz"
    date = "2019-10-14T12:00:00Z"
    info = (b"software: Heritrix/3.4.0-20200304 http://crawler.archive.org\r\nip: 10.0.0.5\r\nhostname: crawler\r\n"
            b"format: WARC File Format 1.0\r\n"
            b"conformsTo: http://bibnum.bnf.fr/WARC/WARC_ISO_28500_version1_latestdraft.pdf\r\n"
            b"isPartOf: WEB\r\noperator: Archivist\r\n\r\n")
    dns = b"20191014120000\nnews.example.\t300\tIN\tA\t93.184.216.34\n"
    page = "https://news.example/2019/10/14/heritrix-page"
    html = article_html(("reporter", TWEET_A), title="Heritrix page")
    raw_body = chunked(html)
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Transfer-Encoding", "chunked")]
    response, head = http_response(raw_body, headers)
    feed = "https://news.example/feed.txt"
    text = b"a plain text feed, chunked, " * 12
    feed_resp, _ = http_response(chunked(text, 64), [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")])
    request = b"GET /2019/10/14/heritrix-page HTTP/1.0\r\nUser-Agent: Mozilla/5.0 (compatible; heritrix/3.4.0)\r\n\r\n"
    outlinks = (b"via: https://news.example/\r\nhopsFromSeed: L\r\nsourceTag: seeds\r\nfetchTimeMs: 120\r\n"
                b"charsetForLinkExtraction: utf-8\r\noutlink: https://twitter.com/reporter/status/"
                + TWEET_A.encode() + b" L a/@href\r\n")
    records = [
        raw_record("WARC/1.0", [("WARC-Type", "warcinfo"), ("WARC-Date", date), ("WARC-Filename", name),
                                ("WARC-Record-ID", rid("h-info")), ("Content-Type", "application/warc-fields")], info),
        raw_record("WARC/1.0", [("WARC-Type", "response"), ("WARC-Target-URI", "dns:news.example"),
                                ("WARC-Date", date), ("WARC-Payload-Digest", sha1_label(dns)),
                                ("WARC-IP-Address", "10.0.0.1"), ("WARC-Record-ID", rid("h-dns")),
                                ("Content-Type", "text/dns")], dns),
        raw_record("WARC/1.0", [("WARC-Type", "response"), ("WARC-Target-URI", page), ("WARC-Date", date),
                                ("WARC-Payload-Digest", sha1_label(raw_body)),  # the raw chunked bytes
                                ("WARC-IP-Address", "93.184.216.34"), ("WARC-Record-ID", rid("h-resp")),
                                ("Content-Type", "application/http; msgtype=response")], response),
        raw_record("WARC/1.0", [("WARC-Type", "request"), ("WARC-Target-URI", page), ("WARC-Date", date),
                                ("WARC-Concurrent-To", rid("h-resp")), ("WARC-Record-ID", rid("h-req")),
                                ("Content-Type", "application/http; msgtype=request")], request),
        raw_record("WARC/1.0", [("WARC-Type", "metadata"), ("WARC-Target-URI", page), ("WARC-Date", date),
                                ("WARC-Concurrent-To", rid("h-resp")), ("WARC-Record-ID", rid("h-meta")),
                                ("Content-Type", "application/warc-fields")], outlinks),
        raw_record("WARC/1.0", [("WARC-Type", "response"), ("WARC-Target-URI", feed), ("WARC-Date", date),
                                ("WARC-Record-ID", rid("h-feed")),
                                ("Content-Type", "application/http; msgtype=response")],
                   feed_resp, payload=text),  # this one digests the de-chunked entity (the spec's way)
        raw_record("WARC/1.0", [("WARC-Type", "revisit"), ("WARC-Target-URI", page),
                                ("WARC-Date", "2019-10-15T12:00:00Z"),
                                ("WARC-Profile", "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"),
                                ("WARC-Truncated", "length"), ("WARC-Payload-Digest", sha1_label(raw_body)),
                                ("WARC-Record-ID", rid("h-revisit")),
                                ("Content-Type", "application/http; msgtype=response")], head),
    ]
    data, offsets = _members(records)
    path = _out(folder, name)
    path.write_bytes(data)
    return Foreign(path, "heritrix", urls=["", "dns:news.example", page, page, page, feed, page],
                   types=["warcinfo", "response", "response", "request", "metadata", "response", "revisit"],
                   notes=[(offsets[2], "warcio's convention"), (offsets[5], "the WARC 1.1 convention")],
                   pages={page: [TWEET_A]})


def _warcio(path: Path, version: str, build, gzip_members: bool = True) -> None:
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gzip_members, warc_version=version)
        build(writer)


def warcprox(folder: Path) -> Foreign:
    """warcprox: WARC/1.0 through warcio, a page, its request, and a dedup revisit of it."""
    path = _out(folder, "warcprox-20191014120000000-00000-6f2a.warc.gz")
    page = "https://news.example/2019/10/14/proxied"
    html = article_html(("witness", TWEET_B), title="Proxied")

    def build(writer: WARCWriter) -> None:
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "warcprox 2.4.31",
                                                                      "format": "WARC File Format 1.0"}))
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(html)))],
                                protocol="HTTP/1.1")
        resp = writer.create_warc_record(page, "response", payload=io.BytesIO(html), http_headers=http)
        writer.write_record(resp)
        req = writer.create_warc_record(page, "request", payload=io.BytesIO(b""),
                                        http_headers=StatusAndHeaders("GET /2019/10/14/proxied HTTP/1.1",
                                                                      [("Host", "news.example")], is_http_request=True))
        req.rec_headers.add_header("WARC-Concurrent-To", resp.rec_headers.get_header("WARC-Record-ID"))
        writer.write_record(req)
        digest = resp.rec_headers.get_header("WARC-Payload-Digest")
        writer.write_record(writer.create_revisit_record(
            page + "?again", digest, page, resp.rec_headers.get_header("WARC-Date"), http_headers=http))

    _warcio(path, "1.0", build)
    return Foreign(path, "warcprox", urls=["", page, page, page + "?again"],
                   types=["warcinfo", "response", "request", "revisit"], pages={page: [TWEET_B]})


def browsertrix(folder: Path) -> Foreign:
    """browsertrix / pywb: WARC/1.1, body stored de-chunked under `Transfer-Encoding: chunked`,
    a `urn:pageinfo:` resource."""
    path = _out(folder, "rec-20191014120000000-crawl-1.warc.gz")
    page = "https://news.example/2019/10/14/browsed"
    html = article_html(("reporter", TWEET_A), title="Browsed")

    def build(writer: WARCWriter) -> None:
        writer.write_record(writer.create_warcinfo_record(path.name, {
            "software": "Browsertrix-Crawler 1.0.4 (with warcio.js 2.2.1)", "format": "WARC File Format 1.1"}))
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                           ("Transfer-Encoding", "chunked")], protocol="HTTP/1.1")
        resp = writer.create_warc_record(page, "response", payload=io.BytesIO(html), http_headers=http)
        writer.write_record(resp)
        info = json.dumps({"pageid": "p1", "url": page, "urls": {page: {"status": 200, "mime": "text/html"}}}).encode()
        res = writer.create_warc_record("urn:pageinfo:" + page, "resource", payload=io.BytesIO(info),
                                        warc_content_type="application/json")
        writer.write_record(res)

    _warcio(path, "1.1", build)
    return Foreign(path, "browsertrix", urls=["", page, "urn:pageinfo:" + page],
                   types=["warcinfo", "response", "resource"],
                   notes=[(None, "stored de-chunked")], pages={page: [TWEET_A]})


def _arc_record(url: str, ip: str, date: str, mime: str, block: bytes) -> bytes:
    return f"{url} {ip} {date} {mime} {len(block)}\n".encode() + block + b"\n"


def _arc_records() -> tuple[list[bytes], list[str]]:
    version = (b"1 0 Alexa Internet\nURL IP-address Archive-date Content-type Archive-length\n")
    page = "http://news.example:80/1996/11/04/old-page.html"
    html = article_html(("reporter", TWEET_A), title="Old page")
    response = b"HTTP/1.0 200 Document follows\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (
        len(html), html)
    gif = b"HTTP/1.0 200 OK\r\nContent-Type: image/gif\r\n\r\nGIF89a\x01\x00\x01\x00\x00\x00\x00;"
    records = [_arc_record("filedesc://IA-19961104142103-00000.arc", "0.0.0.0", "19961104142103", "text/plain",
                           version),
               _arc_record(page, "93.184.216.34", "19961104142103", "text/html", response),
               _arc_record("dns:news.example", "10.0.0.1", "19961104142104", "text/dns",
                           b"19961104142104\nnews.example.\t300\tIN\tA\t93.184.216.34\n"),
               _arc_record("http://news.example:80/logo.gif", "93.184.216.34", "19961104142105", "image/gif", gif)]
    urls = ["filedesc://IA-19961104142103-00000.arc", page, "dns:news.example", "http://news.example:80/logo.gif"]
    return records, urls


def arc(folder: Path) -> Foreign:
    """ARC v1, uncompressed (stored re-framed, gzipped per record)."""
    records, urls = _arc_records()
    path = _out(folder, "IA-19961104142103-00000.arc")
    path.write_bytes(b"".join(records))
    return Foreign(path, "arc", urls=urls, types=["warcinfo", "response", "resource", "response"],
                   notes=[(None, "4 ARC record(s) carry no record id")], reframed=True,
                   pages={urls[1]: [TWEET_A]})


def arc_gz(folder: Path) -> Foreign:
    """ARC v1 gzipped per record (copied byte for byte)."""
    records, urls = _arc_records()
    path = _out(folder, "IA-19961104142103-00001.arc.gz")
    path.write_bytes(_members(records)[0])
    return Foreign(path, "arc.gz", urls=urls, types=["warcinfo", "response", "resource", "response"],
                   notes=[(None, "4 ARC record(s) carry no record id")], pages={urls[1]: [TWEET_A]})


# ----------------------------------------------------------------------------- damaged files


def _three(version: str = "WARC/1.1", n: int = 3) -> list[bytes]:
    """`n` plain records: a warcinfo, then text resources (`urn:test:1`...)."""
    out = [raw_record(version, [("WARC-Type", "warcinfo"), ("WARC-Record-ID", rid(f"info-{version}")),
                                ("WARC-Date", "2024-01-01T00:00:00Z"), ("Content-Type", "application/warc-fields")],
                      b"software: some crawler 1.0\r\n")]
    for i in range(1, n):
        block = (f"resource number {i}, " * 40).encode()
        out.append(raw_record(version, [("WARC-Type", "resource"), ("WARC-Record-ID", rid(f"res-{version}-{i}")),
                                        ("WARC-Date", "2024-01-01T00:00:00Z"), ("WARC-Target-URI", f"urn:test:{i}"),
                                        ("Content-Type", "text/plain")], block, payload=block))
    return out


def whole_file_gzip(folder: Path) -> Foreign:
    """`gzip -c x.warc > x.warc.gz`: all records in one gzip member."""
    records = _three(n=4)
    path = _out(folder, "whole.warc.gz")
    path.write_bytes(gz(b"".join(records)))
    return Foreign(path, "whole-file gzip", urls=["", "urn:test:1", "urn:test:2", "urn:test:3"],
                   types=["warcinfo", "resource", "resource", "resource"],
                   notes=[(None, "gzip member(s) hold more than one record"),
                          (None, "stored re-framed")], reframed=True)


def truncated(folder: Path) -> Foreign:
    """Cut in the middle of its last record's gzip member."""
    data, offsets = _members(_three())
    path = _out(folder, "truncated.warc.gz")
    cut = offsets[2] + (len(data) - offsets[2]) // 2
    path.write_bytes(data[:cut])
    return Foreign(path, "truncated", urls=["", "urn:test:1"], types=["warcinfo", "resource"],
                   problems=[(offsets[2], "file ends inside this gzip member")], reframed=True)


def split_member(folder: Path) -> Foreign:
    """The second record's bytes deflated into two gzip members."""
    records = _three(n=4)
    rec = records[1]
    half = len(rec) // 2
    parts = [gz(records[0]), gz(rec[:half]), gz(rec[half:]), gz(records[2]), gz(records[3])]
    offsets = [sum(len(p) for p in parts[:i]) for i in range(len(parts))]
    path = _out(folder, "split.warc.gz")
    path.write_bytes(b"".join(parts))
    return Foreign(path, "split member", urls=["", "urn:test:2", "urn:test:3"],
                   types=["warcinfo", "resource", "resource"],
                   problems=[(offsets[1], "runs past the end of the gzip member"),
                             (offsets[2], "not a WARC record")], reframed=True)


def wrong_length(folder: Path) -> Foreign:
    """The second record's Content-Length 20 bytes short (gzipped per record)."""
    records = _three()
    fields = records[1].split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
    length = int(next(f for f in fields if f.startswith("Content-Length")).split(":")[1])
    records[1] = records[1].replace(f"Content-Length: {length}\r\n".encode(), f"Content-Length: {length - 20}\r\n".encode())
    data, offsets = _members(records)
    path = _out(folder, "wrong-length.warc.gz")
    path.write_bytes(data)
    return Foreign(path, "wrong Content-Length", urls=["", "urn:test:2"], types=["warcinfo", "resource"],
                   problems=[(offsets[1], "block does not end where Content-Length")], reframed=True)


def wrong_length_plain(folder: Path) -> Foreign:
    """Uncompressed WARC/1.0, the second record's Content-Length 40 bytes too long: it swallows
    the start of the third, which must still be found (and the fourth)."""
    records = _three("WARC/1.0", n=4)
    fields = records[1].split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
    length = int(next(f for f in fields if f.startswith("Content-Length")).split(":")[1])
    records[1] = records[1].replace(f"Content-Length: {length}\r\n".encode(), f"Content-Length: {length + 40}\r\n".encode())
    path = _out(folder, "wrong-length.warc")
    path.write_bytes(b"".join(records))
    return Foreign(path, "wrong Content-Length, uncompressed", urls=["", "urn:test:2", "urn:test:3"],
                   types=["warcinfo", "resource", "resource"],
                   problems=[(len(records[0]), "block does not end where Content-Length")], reframed=True)


def trailing_garbage(folder: Path) -> Foreign:
    data, _ = _members(_three())
    path = _out(folder, "garbage.warc.gz")
    path.write_bytes(data + b"\x00\x00\x00\x00trailing garbage\n")
    return Foreign(path, "trailing garbage", urls=["", "urn:test:1", "urn:test:2"],
                   types=["warcinfo", "resource", "resource"],
                   problems=[(len(data), "21 byte(s) of trailing data that are not a gzip member")], reframed=True)


def open_file(folder: Path) -> Foreign:
    """A crawler's file never closed: two whole records and the torn start of a third."""
    records = _three()
    data, offsets = _members(records)
    path = _out(folder, "crawl-20240101000000-00000.warc.gz.open")
    path.write_bytes(data[:offsets[2] + 60])
    return Foreign(path, ".open", urls=["", "urn:test:1"], types=["warcinfo", "resource"],
                   problems=[(None, "not closed (.open)"), (offsets[2], "file ends inside this gzip member")],
                   reframed=True)


BUILDERS = [wget, heritrix, warcprox, browsertrix, arc, arc_gz, whole_file_gzip, truncated, split_member,
            wrong_length, wrong_length_plain, trailing_garbage, open_file]


def build_all(folder: Path) -> list[Foreign]:
    folder.mkdir(parents=True, exist_ok=True)
    return [build(folder) for build in BUILDERS]
