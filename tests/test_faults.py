"""The fetcher and `archiver capture` under faults (issue #6): each fault alone, then a storm.

Part 1 runs the Fetcher against one fault at a time (the first attempt misbehaves, the next is
served properly) and checks what the WARC holds: how many records, which carry
`WARC-Truncated` and with what value, which attempt's answer the FetchResult keeps.

Part 2 (`test_fault_storm`) captures 20 articles on 3 news sites (40 post snapshots of 32
tweets: photos, MP4 and HLS-only videos, a quote, a reply, a t.co link; each site's
stylesheets, fonts, images, script, icon; the embeds' widgets.js, Tweet.html and chunks)
through `tests/chaos.py` with seed `STORM_SEED` (6 unless the environment says otherwise),
on every host, with `--timeout 2 --max-time 1s --max-size 1MB --retries 3` and a 0.02 s backoff.
The mix injected:

* at random (`Chaos(seed, rate=0.2)`): the first answer to ~20 % of URLs, and the second to a
  third of those, is one of `chaos.TRANSIENT`: 429 with no Retry-After, with `Retry-After: 1`
  and with an HTTP date; 503 with an HTTP date; 500, 502, 503, 504; a reset before the head and
  one after it; a body cut at half its Content-Length; a Content-Length 1000 bytes too large
  then a close; a drip at a byte a second (cut by --max-time); and ~30 % of hosts stall their
  first TLS handshake. Seed 6 injects about 100 of these (every kind);
* `length-less` on ~10 % of answers (about 70): a true Content-Length followed, on the same
  keep-alive connection, by a complete smuggled HTTP response;
* placed permanent faults, each with a truthful outcome the test knows: an article in a
  redirect loop and one behind a 50-hop chain (article failed), a gzip bomb as an article
  (128 MiB from 130 kB: decoded only up to `fetch.DECODED_LIMIT`, its tweets still found), a
  gzip-bombed stylesheet, a requisite image and a tweet video far larger than `--max-size`
  (cut, `WARC-Truncated: length`, media not captured), photos in a redirect loop and behind a
  50-hop chain, a gzip-bombed avatar (stored as received, captured), a tweet whose routes always
  answer 503 (failed), and deleted (two ways), protected, suspended and age-restricted tweets.

The capture runs in a grandchild process (`tests/chaos_capture.py`, the CLI's capture with a
short backoff) so its peak RSS is its own (`os.wait4`; see `LAUNCHER`). To reproduce a seed:
`STORM_SEED=<n> python -m pytest tests/test_faults.py -k storm -s` (prints the mix and the
figures); when it fails, the message lists every fault injected, URL by URL and attempt by
attempt (`Chaos.injected`), and the capture's log.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from archiver import fetch
from archiver.cli import cli
from archiver.config import Config
from archiver.fetch import Fetcher, retry_after_seconds
from archiver.warc import WarcSink
from chaos import (
    BODY_KINDS,
    Chaos,
    SMUGGLE_MARK,
    STATUS_KINDS,
    apply_fault,
    bomb_response,
    gzip_bomb,
    huge,
    redirect_chain,
    redirect_loop,
)
from fixtureweb import Response, repeat_bytes
from twitterworld import SEED, SEED_BLOCKQUOTE, FakeTweet, TwitterWorld, Video, add_news_site, article_page, media_bytes
from warcread import assert_valid_headers, warcio_check

HOST = "https://faults.example"
ARTICLE = "https://news.example/2019/10/14/isis-prisoners-escape"
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


# --- part 2: the storm -------------------------------------------------------------------------

STORM_SEED = int(os.environ.get("STORM_SEED", "6"))
NEWS_HOSTS = ("news.example", "daily.example", "wire.example")
SYNDICATION = "https://cdn.syndication.twimg.com/tweet-result"
OEMBED = "https://publish.twitter.com/oembed"
# Three retries: a URL may meet its host's stalled handshake, then two faulty answers.
STORM_SETTINGS = dict(timeout=2.0, max_time=1.0, max_size=1_000_000, retries=3, backoff=0.02, retry_after_max=5.0)
RSS_LIMIT = 300 * 2**20
ARTICLE_IMAGE = 40_000
TIME_LIMIT = 240  # seconds for the whole capture: the run must end, however the faults fall


def tweet(n: int, **kw) -> FakeTweet:
    kw.setdefault("photos", [f"Storm{n}a"] + ([f"Storm{n}b"] if n % 5 == 0 else []))
    return FakeTweet(id=str(1183419470331486208 + n), handle=f"storm{n}", name=f"Storm Witness {n}",
                     text=f"Report {n} from the camp: people are leaving", **kw)


def blockquote(t: FakeTweet) -> str:
    return (f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{t.text}</p>&mdash; {t.name} '
            f'(@{t.handle}) <a href="{t.permalink}?ref_src=twsrc%5Etfw">October 13, 2019</a></blockquote>')


@dataclass
class Storm:
    """20 articles on 3 news sites and what a truthful capture of them says."""

    articles: list[str]
    status: dict[str, str]  # tweet id -> the status the evidence supports
    lost_media: dict[str, str]  # media URL -> failure kind (permanent faults)
    failed_articles: dict[str, str]  # article URL -> failure kind
    quiet_tweets: set[str]  # tweets whose embed assets may be reported missing (their faults are permanent)


def build_storm(web) -> Storm:
    plain = [tweet(n) for n in range(1, 17)]
    videos = [tweet(n, photos=[], video=Video(f"7{n}00", [(256000, "480x270", False), (832000, "640x360", False)]))
              for n in (17, 18)]
    hls = tweet(19, photos=[], video=Video("71900", [(None, "640x360", False)], mp4=False))
    quote, reply = tweet(20, quoted=plain[0].id), tweet(21, parent=plain[1].id)
    gone = {22: "gone", 23: "tombstone-deleted", 24: "protected", 25: "suspended", 26: "age"}
    states = [tweet(n, state=s) for n, s in gone.items()]
    down = tweet(27)  # both routes answer 503, always
    loop_photo, chain_photo = tweet(28), tweet(29)
    huge_video = tweet(30, photos=[], video=Video("73000", [(832000, "640x360", False)]))
    gzip_avatar = tweet(31)
    linked = tweet(32, tco="StormTco32")
    lost_article_tweet = tweet(33)
    tweets = plain + videos + [hls, quote, reply] + states + [down, loop_photo, chain_photo, huge_video,
                                                             gzip_avatar, linked, lost_article_tweet]
    world = TwitterWorld(web, tweets)

    def syndication(req):
        return Response(503, b"down") if req.query.get("id") == down.id else world.syndication(req)

    def oembed(req):
        return Response(503, b"down") if req.query.get("url", "").endswith(down.id) else world.oembed(req)

    web.route(SYNDICATION, syndication)
    web.route(OEMBED, oembed)
    redirect_loop(web, loop_photo.photo_url(loop_photo.photos[0]))
    redirect_chain(web, chain_photo.photo_url(chain_photo.photos[0]), 50)
    huge_mp4 = huge_video.video.variant_urls()[0][2]
    web.route(huge_mp4.split("?")[0], lambda r: huge("video/mp4"))
    web.route(gzip_avatar.avatar_orig, lambda r: bomb_response("image/jpeg", media_bytes(r.path)))

    for host in NEWS_HOSTS:
        add_news_site(web, host)
        # 40 kB: past one TLS record, so a smuggled tail can sit decrypted behind the body's end
        web.route(f"https://{host}/img/a", lambda r: Response(200, media_bytes(r.url, ARTICLE_IMAGE),
                                                              [("Content-Type", "image/jpeg")]), prefix=True)
        web.route(f"https://{host}/static/bomb.css", lambda r: bomb_response(
            "text/css", b"body{background:url(/img/after-the-bomb.png)}\n"))
        web.route(f"https://{host}/img/huge.jpg", lambda r: huge("image/jpeg"))

    # Which tweets each article cites; article 16 is a gzip bomb, 17 a loop, 18 a 50-hop chain.
    cited = [plain[i:i + 2] for i in range(0, 16, 2)] + [
        videos, [hls, quote], [reply, states[0]], states[1:3], states[3:] + [down],
        [loop_photo, chain_photo], [huge_video, gzip_avatar], [linked, plain[4]],
        [plain[2], plain[3]], [lost_article_tweet], [lost_article_tweet], [plain[5], quote],
    ]
    assert len(cited) == 20
    articles, failed_articles = [], {}
    for i, posts in enumerate(cited):
        host = NEWS_HOSTS[i % len(NEWS_HOSTS)]
        url = f"https://{host}/2019/10/{i + 1:02d}/storm-story-{i}"
        body = f'<p>Story {i}</p><img src="/img/a{i}.jpg">' + "".join(
            f'<p>As <a href="https://t.co/{t.tco}">https://t.co/{t.tco}</a> shows.</p>' if t.tco else blockquote(t)
            for t in posts)
        extra = '<link rel="stylesheet" href="/static/bomb.css">' if i == 5 else ""
        if i == 6:
            body += '<img src="/img/huge.jpg">'
        page = article_page(body, title=f"Storm story {i}", extra_head=extra)
        if i == 16:
            web.route(url, lambda r, page=page: bomb_response("text/html; charset=utf-8", page))
        elif i == 17:
            redirect_loop(web, url)
            failed_articles[url] = "redirect loop"
        elif i == 18:
            redirect_chain(web, url, 50)
            failed_articles[url] = "too many redirects"
        else:
            web.add(url, body=page, headers=[("Content-Type", "text/html; charset=utf-8")])
        articles.append(url)

    status = {t.id: "available" for t in tweets}
    status.update({states[0].id: "deleted", states[1].id: "deleted", states[2].id: "protected",
                   states[3].id: "suspended", states[4].id: "unavailable", down.id: "failed"})
    del status[lost_article_tweet.id]
    lost_media = {loop_photo.photo_url(loop_photo.photos[0]): "redirect loop",
                  chain_photo.photo_url(chain_photo.photos[0]): "too many redirects",
                  huge_mp4: "too large"}
    return Storm(articles, status, lost_media, failed_articles,
                 quiet_tweets={down.id, huge_video.id} | {t.id for t in states})


# Linux carries a process's peak RSS across exec into the new program's ru_maxrss, so a child of
# pytest would report at least pytest's own peak. A bare interpreter in between (a few MB) starts
# the capture and reports the capture's own peak, from os.wait4.
LAUNCHER = ("import os, sys; pid = os.posix_spawn(sys.executable, [sys.executable] + sys.argv[2:], os.environ); "
            "_, status, usage = os.wait4(pid, 0); open(sys.argv[1], 'w').write(str(usage.ru_maxrss)); "
            "sys.exit(os.waitstatus_to_exitcode(status))")


def run_capture(web, archive: Path, urls: list[str], settings: dict) -> dict:
    """The capture in a grandchild process: its exit status, output, peak RSS and wall time."""
    out, err, rss = (archive.parent / name for name in ("stdout.txt", "stderr.txt", "maxrss.txt"))
    config = json.dumps({"archive": str(archive), "per_host": 4, **settings})
    env = {**os.environ, **web.env()}
    env.pop("CURL_CA_BUNDLE", None)
    driver = str(Path(__file__).with_name("chaos_capture.py"))
    started = time.monotonic()
    with open(out, "wb") as fo, open(err, "wb") as fe:
        proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(rss), driver, config, *urls],
                                stdout=fo, stderr=fe, env=env, cwd=str(archive.parent), start_new_session=True)
        try:
            code = proc.wait(timeout=TIME_LIMIT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the launcher and the capture: the group we started
            proc.wait()
            pytest.fail(f"the capture did not end within {TIME_LIMIT}s:\n" + err.read_text()[-5000:])
    return {"code": code, "stdout": out.read_text(), "stderr": err.read_text(),
            "rss": int(rss.read_text()) * 1024, "seconds": time.monotonic() - started}


def stored_records(archive: Path) -> list[dict]:
    files = sorted((archive / "warcs").glob("*.warc.gz"))
    assert files and not list((archive / "warcs").glob("*.open"))
    out = []
    for path in files:
        check = warcio_check(path)
        assert check.returncode == 0, check.stdout + check.stderr
        for rec in raw_records(path):
            assert_valid_headers(rec)
            out.append(rec)
    return out


def test_fault_storm(web, tmp_path):
    storm = build_storm(web)
    chaos = Chaos(STORM_SEED, rate=0.2).install(web)
    archive = tmp_path / "archive"
    run = run_capture(web, archive, storm.articles, STORM_SETTINGS)
    injected = "\n".join(f"  {kind:22} attempt {a}  {where}" for where, a, kind in chaos.injected)
    why = f"seed {STORM_SEED}; injected:\n{injected}\nstderr:\n{run['stderr'][-20000:]}"
    posts = [json.loads(line) for line in run["stdout"].splitlines()]
    print(f"storm seed {STORM_SEED}: {len(chaos.injected)} faults {dict(chaos.counts())}; "
          f"{len(posts)} posts; peak RSS {run['rss'] / 2**20:.0f} MiB; {run['seconds']:.1f} s")

    # the run ended, within bounds, and says what failed and why
    assert run["code"] == 1, why
    assert run["rss"] < RSS_LIMIT, why
    assert not web.errors, web.errors
    for url, kind in storm.failed_articles.items():
        assert f"failed: {url}: " in run["stderr"], why
    expected = Counter(storm.failed_articles.values()) + Counter(storm.lost_media.values()) + Counter({"HTTP 503": 1})
    line = f"{sum(expected.values())} failed: " + ", ".join(
        f"{n} {k}" for k, n in sorted(expected.items(), key=lambda kv: (-kv[1], kv[0])))
    assert line in run["stderr"].splitlines(), why

    # every post ends with the status its evidence supports; transient faults changed nothing
    wrong = [(p["id"], p["status"], storm.status[p["id"]]) for p in posts if p["status"] != storm.status[p["id"]]]
    assert not wrong, f"{wrong}\n{why}"
    assert {p["id"] for p in posts} == set(storm.status), why
    for p in posts:
        for m in p["media"]:
            assert m["captured"] == (m["url"] not in storm.lost_media), (p["id"], m, why)
    problems = [line for line in run["stderr"].splitlines() if line.startswith("problem:")]
    assert all(any(t in line for t in storm.quiet_tweets) for line in problems), (problems, why)

    # what is stored: sound files, nothing short of its promise unmarked, nothing smuggled
    records = stored_records(archive)
    for rec in records:
        if rec["type"] != "response":
            continue
        body, http = rec["raw"], rec["http"]
        promised = http.get_header("Content-Length")
        assert SMUGGLE_MARK not in body, rec["h"].get_header("WARC-Target-URI")
        if promised is not None and not http.get_header("X-Archiver-Transfer-Encoding"):
            assert len(body) <= int(promised), rec["h"].get_header("WARC-Target-URI")
            if len(body) < int(promised):
                assert truncated(rec) in ("disconnect", "length", "time"), rec["h"].get_header("WARC-Target-URI")
        url = rec["h"].get_header("WARC-Target-URI")
        if http.get_statuscode() != "200" or truncated(rec) is not None:
            continue
        if urlsplit(url).hostname == "pbs.twimg.com" and url != storm_avatar(storm, url):
            assert body == media_bytes(urlsplit(url).path), url  # each record holds its own URL's bytes
        if urlsplit(url).path.startswith("/img/a"):
            assert body == media_bytes(url, ARTICLE_IMAGE), url
    truncations = Counter(truncated(r) for r in records if r["type"] == "response")
    assert truncations["length"] >= 2  # the huge video and the huge requisite
    assert len(chaos.injected) >= 50 and len(set(chaos.counts())) >= 12, chaos.counts()


def storm_avatar(storm: Storm, url: str) -> str | None:
    """The gzip-encoded avatar is stored encoded; its bytes are checked by sha256 instead."""
    return url if url.endswith("storm31.jpg") else None


def test_a_gallery_does_not_pile_up_in_memory(web, tmp_path):
    """60 big images on one page: on disk as they stream, never all in memory at once."""
    images = "".join(f'<img src="/gallery/{i}.jpg">' for i in range(60))
    url = "https://news.example/2019/10/14/gallery"
    web.add(url, body=article_page(images), headers=[("Content-Type", "text/html; charset=utf-8")])
    web.route("https://news.example/gallery/", lambda r: Response(
        200, repeat_bytes(5_000_000, seed=int(r.path.split("/")[-1].split(".")[0])), [("Content-Type", "image/jpeg")]),
        prefix=True)
    archive = tmp_path / "archive"
    run = run_capture(web, archive, [url], dict(STORM_SETTINGS, max_time=60.0, max_size=10_000_000))
    print(f"gallery: peak RSS {run['rss'] / 2**20:.0f} MiB; {run['seconds']:.1f} s")
    assert run["code"] == 0, run["stderr"]
    assert web.hits("https://news.example/gallery/") == 60
    assert run["rss"] < 200 * 2**20  # 300 MB of images went through


def test_capture_summary_says_what_failed_and_why(web, tmp_path):
    """`archiver capture` itself: the summary counts failures by kind."""
    world = TwitterWorld(web, [SEED, DOWN])
    web.route(SYNDICATION, lambda r: Response(503, b"down") if r.query.get("id") == DOWN.id else world.syndication(r))
    web.route(OEMBED, lambda r: Response(503, b"down") if DOWN.id in r.query.get("url", "") else world.oembed(r))
    redirect_loop(web, SEED.photo_url("EGxSeedPhoto1"))
    web.add(ARTICLE, body=article_page(SEED_BLOCKQUOTE + blockquote(DOWN)),
            headers=[("Content-Type", "text/html; charset=utf-8")])
    web.add("https://news.example/gone", status=404, body=b"no such story")
    result = CliRunner().invoke(cli, ["capture", ARTICLE, "https://news.example/gone", "--no-requisites",
                                      "--retries", "1", "--archive", str(tmp_path / "a")], env=web.env())
    assert result.exit_code == 1, result.output
    assert "3 failed: 1 HTTP 404, 1 HTTP 503, 1 redirect loop" in result.stderr.splitlines(), result.stderr


DOWN = FakeTweet(id="1183419470331486999", handle="DownWitness", name="Down Witness", text="always 503")
