"""The fetcher and `archiver capture` under faults (issue #6): each fault alone, then a storm.

Part 1 runs the Fetcher against one fault at a time (the first attempt misbehaves, the next is
served properly) and checks what the WARC holds: how many records, which carry
`WARC-Truncated` and with what value, which attempt's answer the FetchResult keeps.

Part 2 (`test_fault_storm`) captures 20 articles (tweets with photos, videos and HLS, quotes
and replies, t.co links, requisites) through `tests/chaos.py`: seed `STORM_SEED`, on every
host. The mix injected, besides what `chaos.TRANSIENT` lists at random (429 with no
Retry-After, with seconds and with an HTTP date; 500/502/503/504; a reset before and after
the head; a body cut short; a Content-Length 1000 bytes too large then a close; a drip at a
byte a second; a stalled TLS handshake on a host's first connection; on the first attempt of
~30 % of URLs and the second of a third of those), is:

* `length-less` on ~10 % of answers: a true Content-Length followed by a smuggled response;
* placed permanent faults, each with a truthful outcome the test knows: an article in a
  redirect loop and one behind a 50-hop chain (article failed), a gzip bomb as an article
  (1000x: decoded only up to `fetch.DECODED_LIMIT`, its tweets still found), a gzip-bombed
  stylesheet, a requisite image and a tweet video far larger than `--max-size` (cut,
  `WARC-Truncated: length`, media not captured), photos in a redirect loop and a 50-hop chain,
  a gzip-encoded avatar (stored as received, captured), a tweet whose both routes always answer
  503 (failed), and deleted, protected, suspended and age-restricted tweets.

The capture runs in a subprocess (`tests/chaos_capture.py`) so its peak RSS is its own
(`os.wait4`). To reproduce a seed: `STORM_SEED=<n> python -m pytest tests/test_faults.py -k storm`;
the faults it injected, URL by URL, are printed when the test fails (`Chaos.injected`).
"""

from __future__ import annotations

import gzip
import os
import threading
import time
from email.utils import formatdate
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver import fetch
from archiver.config import Config
from archiver.fetch import Fetcher, retry_after_seconds
from archiver.warc import WarcSink
from chaos import (
    BODY_KINDS,
    SMUGGLE_MARK,
    STATUS_KINDS,
    apply_fault,
    bomb_response,
    gzip_bomb,
    huge,
    redirect_chain,
    redirect_loop,
)
from fixtureweb import Response
from warcread import assert_valid_headers, warcio_check

HOST = "https://faults.example"
BODY = bytes(range(256)) * 40  # 10240 bytes, every byte value


def fetcher_for(web, tmp_path: Path, **overrides) -> tuple[Fetcher, WarcSink]:
    settings = dict(archive=tmp_path / "a", proxy=web.proxy_url, ca_bundle=web.ca_path, timeout=2.0,
                    max_time=2.5, retries=2, backoff=0.01, retry_after_max=5.0)
    settings.update(overrides)
    config = Config(**settings)
    sink = WarcSink(config.warc_dir, software="test_faults")
    return Fetcher(config, sink), sink


def raw_records(path: Path) -> list[dict]:
    """Like warcread.read_records, but `raw` is the payload as stored (Content-Encoding kept:
    warcio's content_stream() would inflate a gzip bomb)."""
    out = []
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh):
            out.append({"type": rec.rec_type, "headers": list(rec.rec_headers.headers), "h": rec.rec_headers,
                        "version": rec.rec_headers.protocol, "http": rec.http_headers,
                        "raw": rec.raw_stream.read()})
    return out


def records_of(sink: WarcSink, fetcher: Fetcher) -> list[dict]:
    """Close the sink, check every file with warcio, return the records in order."""
    fetcher.close()
    sink.close()
    out = []
    for path in sorted(sink.warc_dir.glob("*.warc.gz")):
        check = warcio_check(path)
        assert check.returncode == 0, check.stdout + check.stderr
        for rec in raw_records(path):
            assert_valid_headers(rec)
            rec["content"] = rec["raw"]  # nothing here but the bomb is encoded
            out.append(rec)
    return out


def responses(records: list[dict], url: str | None = None) -> list[dict]:
    return [r for r in records if r["type"] in ("response", "revisit")
            and (url is None or r["h"].get_header("WARC-Target-URI") == url)]


def truncated(rec: dict) -> str | None:
    return rec["h"].get_header("WARC-Truncated")


def first_attempt_fails(kind: str, real: Response):
    def handler(req):
        return apply_fault(kind, real) if req.attempt == 1 else real
    return handler


def jpeg(body: bytes = BODY) -> Response:
    return Response(200, body, [("Content-Type", "image/jpeg")])


# --- part 1: one fault at a time ---------------------------------------------------------------


@pytest.mark.parametrize("kind", STATUS_KINDS)
def test_status_fault_is_retried_and_both_answers_kept(web, tmp_path, kind):
    url = f"{HOST}/status/{kind}.jpg"
    web.route(url, first_attempt_fails(kind, jpeg()))
    fetcher, sink = fetcher_for(web, tmp_path)
    res = fetcher.fetch(url)
    assert res.ok and res.status == 200 and res.body == BODY and res.truncated is None
    recs = responses(records_of(sink, fetcher))
    assert [r["http"].get_statuscode() for r in recs] == [kind[:3], "200"]  # the failure is evidence too
    assert [truncated(r) for r in recs] == [None, None]
    assert recs[1]["content"] == BODY
    assert [r.record_type for r in res.records] == ["response", "request", "response", "request"]
    assert res.response.record_id == recs[1]["h"].get_header("WARC-Record-ID")


def test_retry_after_as_http_date_is_honoured(web, tmp_path):
    url = f"{HOST}/dated.jpg"
    web.route(url, lambda r: Response(429, b"slow down", [("Retry-After", formatdate(time.time() + 3, usegmt=True))])
              if r.attempt == 1 else jpeg())
    fetcher, sink = fetcher_for(web, tmp_path)
    assert fetcher.fetch(url).ok
    first, second = [e.time for e in web.requests_to(url)]
    assert second - first >= 1.0  # not the 0.01 s backoff: the date said two to three seconds
    records_of(sink, fetcher)


@pytest.fixture
def far_from_utc():
    """A local time zone hours away from UTC, so a date read as local time shows."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/Los_Angeles"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_retry_after_parsing(far_from_utc):
    now = time.time()
    assert retry_after_seconds("7") == 7.0
    assert 8 <= retry_after_seconds(formatdate(now + 10, usegmt=True)) <= 10
    assert retry_after_seconds(formatdate(now - 100, usegmt=True)) == 0.0
    # RFC 9110's obsolete forms are GMT too, whatever the local time zone says.
    asctime = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(now + 20))
    rfc850 = time.strftime("%A, %d-%b-%y %H:%M:%S GMT", time.gmtime(now + 20))
    for value in (asctime, rfc850):
        assert 18 <= retry_after_seconds(value) <= 20, value
    assert retry_after_seconds("soon") is None and retry_after_seconds("") is None


def test_reset_before_headers_leaves_no_record_and_is_retried(web, tmp_path):
    url = f"{HOST}/reset.jpg"
    web.route(url, first_attempt_fails("reset-before-headers", jpeg()))
    fetcher, sink = fetcher_for(web, tmp_path)
    res = fetcher.fetch(url)
    assert res.ok and res.body == BODY
    assert web.hits(url) == 2
    recs = responses(records_of(sink, fetcher))
    assert len(recs) == 1 and truncated(recs[0]) is None and recs[0]["content"] == BODY


@pytest.mark.parametrize("kind", BODY_KINDS)
def test_body_fault_is_marked_truncated_and_retried(web, tmp_path, kind):
    """A body short of what the head promised is stored marked, and the next attempt kept."""
    url = f"{HOST}/body/{kind}.jpg"
    web.route(url, first_attempt_fails(kind, jpeg()))
    fetcher, sink = fetcher_for(web, tmp_path)
    res = fetcher.fetch(url, want_body=False)
    assert res.ok and res.status == 200 and res.truncated is None and res.error is None
    assert res.size == len(BODY)
    recs = responses(records_of(sink, fetcher))
    assert len(recs) == 2
    cut, kept = recs
    assert truncated(cut) == ("time" if kind == "drip" else "disconnect")
    assert BODY.startswith(cut["content"]) and len(cut["content"]) < int(cut["http"].get_header("Content-Length"))
    if kind == "cut-short":
        assert cut["content"] == BODY[: len(BODY) // 2]
    if kind == "length-more":
        assert cut["content"] == BODY  # all sent, less than promised
    assert truncated(kept) is None and kept["content"] == BODY
    assert res.response.record_id == kept["h"].get_header("WARC-Record-ID")


def test_chunked_body_cut_mid_chunk_is_truncated(web, tmp_path):
    url = f"{HOST}/chunked.jpg"
    web.route(url, lambda r: Response(200, BODY, [("Content-Type", "image/jpeg")], chunked=True, chunk_size=4096,
                                      cut_after=5000) if r.attempt == 1 else jpeg())
    fetcher, sink = fetcher_for(web, tmp_path)
    assert fetcher.fetch(url).ok
    cut, kept = responses(records_of(sink, fetcher))
    assert truncated(cut) == "disconnect" and BODY.startswith(cut["content"]) and len(cut["content"]) < len(BODY)
    assert cut["http"].get_header("X-Archiver-Transfer-Encoding") == "chunked"
    assert kept["content"] == BODY and truncated(kept) is None


def test_drip_every_time_ends_cut_by_max_time(web, tmp_path):
    url = f"{HOST}/drip.jpg"
    web.route(url, lambda r: apply_fault("drip", jpeg()))
    fetcher, sink = fetcher_for(web, tmp_path, retries=1, max_time=1.5)
    started = time.monotonic()
    res = fetcher.fetch(url)
    assert time.monotonic() - started < 30  # bounded: two attempts of --max-time, not 10240 s
    assert not res.ok and res.truncated == "time" and "--max-time" in res.error
    recs = responses(records_of(sink, fetcher))
    assert [truncated(r) for r in recs] == ["time", "time"]
    assert all(0 < len(r["content"]) < len(BODY) for r in recs)


def test_stalled_tls_handshake_is_retried(web, tmp_path):
    url = f"{HOST}/tls.jpg"
    web.add(url, body=BODY, headers=[("Content-Type", "image/jpeg")])
    web.stall_tls = lambda host, nth: host == "faults.example" and nth == 1
    fetcher, sink = fetcher_for(web, tmp_path, timeout=1.0)
    res = fetcher.fetch(url)
    assert res.ok and res.body == BODY
    assert web.tunnels.count("faults.example:443") == 2 and web.hits(url) == 1
    recs = responses(records_of(sink, fetcher))
    assert len(recs) == 1 and recs[0]["content"] == BODY


def test_stalled_tls_handshake_every_time_fails_in_bounded_time(web, tmp_path):
    url = f"{HOST}/tls-dead.jpg"
    web.stall_tls = lambda host, nth: True
    fetcher, sink = fetcher_for(web, tmp_path, timeout=1.0, retries=1)
    started = time.monotonic()
    res = fetcher.fetch(url)
    assert time.monotonic() - started < 30
    assert not res.ok and res.status is None and "timed out" in res.error
    assert web.tunnels.count("faults.example:443") == 2
    assert responses(records_of(sink, fetcher)) == []


@pytest.mark.parametrize("size", [100, 100_000])
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_content_length_shorter_than_sent_stores_exactly_content_length(web, tmp_path, size, scheme):
    """What HTTP says the body is gets stored; the extra bytes belong to no response at all."""
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    host = f"{scheme}://short.example"
    web.route(f"{host}/one", lambda r: apply_fault("length-less", jpeg(body)))
    web.add(f"{host}/two", body=b"the real two", headers=[("Content-Type", "text/plain")])
    fetcher, sink = fetcher_for(web, tmp_path)
    for _ in range(3):  # on one keep-alive connection, if the fetcher keeps one
        one = fetcher.fetch(f"{host}/one")
        assert one.ok and one.body == body
        two = fetcher.fetch(f"{host}/two")
        assert two.ok and two.body == b"the real two", two.body
    recs = responses(records_of(sink, fetcher))
    assert all(SMUGGLE_MARK not in r["content"] for r in recs)
    for rec in responses(recs, f"{host}/one"):
        assert rec["type"] == "revisit" or rec["content"] == body


def test_gzip_bomb_stored_as_received_and_decoded_only_to_the_cap(web, tmp_path):
    url = f"{HOST}/bomb.html"
    prefix = b"<!DOCTYPE html><title>bomb</title>"
    web.route(url, lambda r: bomb_response("text/html", prefix))
    fetcher, sink = fetcher_for(web, tmp_path)
    res = fetcher.fetch(url)
    assert res.ok and res.truncated is None
    assert len(res.body) == fetch.DECODED_LIMIT and res.body.startswith(prefix)
    (rec,) = responses(records_of(sink, fetcher))
    assert rec["raw"] == gzip_bomb(prefix) and truncated(rec) is None
    assert rec["http"].get_header("Content-Encoding") == "gzip"
    assert res.size == len(gzip_bomb(prefix)) < 200_000  # a thousandfold: 128 MiB from ~130 kB


def test_corrupt_and_multi_member_gzip_bodies_decode_sensibly():
    assert fetch.decode_body(gzip.compress(b"one ") + gzip.compress(b"two"), "gzip") == b"one two"
    assert fetch.decode_body(b"not gzip at all", "gzip") == b"not gzip at all"
    text = b"".join(b"line %d\n" % i for i in range(20000))
    packed = gzip.compress(text)
    assert fetch.decode_body(packed[:-8], "gzip") == text  # the trailer lost
    half = fetch.decode_body(packed[: len(packed) // 2], "gzip")  # cut short: what there is
    assert half and text.startswith(half) and len(half) < len(text)
    assert fetch.decode_body([packed[i:i + 1000] for i in range(0, len(packed), 1000)], "gzip", limit=5000) \
        == text[:5000]
    assert fetch.decode_body(b"plain", None, limit=3) == b"pla"


def test_body_far_larger_than_max_size_is_cut_once(web, tmp_path):
    url = f"{HOST}/huge.mp4"
    web.route(url, lambda r: huge("video/mp4"))
    fetcher, sink = fetcher_for(web, tmp_path, max_size=1_000_000)
    res = fetcher.fetch(url, want_body=False)
    assert not res.ok and res.truncated == "length" and "--max-size" in res.error
    assert web.hits(url) == 1  # the size will not change: not retried
    (rec,) = responses(records_of(sink, fetcher))
    assert truncated(rec) == "length" and len(rec["content"]) == 1_000_000


def test_redirect_loop_ends_with_a_clear_error(web, tmp_path):
    url = f"{HOST}/loop"
    redirect_loop(web, url)
    fetcher, sink = fetcher_for(web, tmp_path)
    res = fetcher.fetch(url)
    assert not res.ok and res.error == f"redirect loop at {url}"
    assert [e.url for e in web.log] == [url, url + "?loop=1"]
    assert [r["http"].get_statuscode() for r in responses(records_of(sink, fetcher))] == ["302", "302"]


def test_fifty_hop_chain_ends_with_a_clear_error(web, tmp_path):
    url = f"{HOST}/chain"
    redirect_chain(web, url, 50)
    fetcher, sink = fetcher_for(web, tmp_path)
    res = fetcher.fetch(url)
    assert not res.ok and res.error == "more than 10 redirects"
    assert len(web.log) == 11 and res.final_url == f"{url}?hop=10"
    assert len(responses(records_of(sink, fetcher))) == 11


def test_long_retry_after_gives_up_at_once(web, tmp_path):
    url = f"{HOST}/later"
    web.add(url, status=429, body=b"come back tomorrow", headers=[("Retry-After", "86400")])
    fetcher, sink = fetcher_for(web, tmp_path)
    res = fetcher.fetch(url)
    assert not res.ok and res.status == 429 and "longer than we wait" in res.error
    assert web.hits(url) == 1
    records_of(sink, fetcher)
