"""`archiver replay` and the embed replay rules, against a real pywb on a free loopback port.

One capture and one pywb for the whole module (pywb takes ~1.6 s to start); every check is a
real HTTP request to it. The embed's run-time parameters (sessionId, token, features...) are
made fresh here, as a browser would make them, so only the id-based rules can answer them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import psutil
import pytest
import requests
from click.testing import CliRunner

from archiver.cli import cli
from archiver.embeds import TWEET_HTML, tweet_html_url
from archiver.platforms.syndication import SYNDICATION_ENDPOINT
from archiver.postpage import post_page_url
from archiver.errors import UsageError
from archiver.replay import COLLECTION, ReplayError, ReplayServer, is_loopback, prepare_collection
from archiver.replay_rules import TWEET_HTML_KEY, TWEET_RESULT_KEY, pywb_rules, with_our_rules
from fixtureweb import FixtureWeb
from twitterworld import SEED, SEED_BLOCKQUOTE, FakeTweet, TwitterWorld, Video, add_news_site, article_page, media_bytes

ARTICLE = "https://news.example/2019/10/14/isis-prisoners-escape"
ROOT = Path(__file__).resolve().parents[1]
VIDEO = Video("1200000000000000000", variants=[  # no two viewers keep the same one (§4.3)
    (832000, "640x360", False), (2176000, "1280x720", False), (256000, "480x270", False),
    (10368000, "1920x1080", True)])
A = SEED
B = FakeTweet(id="1200000000000000001", handle="vid", name="Vid", text="watch this", video=VIDEO, tco="VidCode001")
UNCAPTURED = "1200000000000000077"


def blockquote(t: FakeTweet) -> str:
    return (f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{t.text}</p>&mdash; {t.name} '
            f'(@{t.handle}) <a href="{t.permalink}?ref_src=twsrc%5Etfw">October 13, 2019</a></blockquote>')


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory, fixtureweb_ca) -> Iterator[dict]:
    """An article embedding A (photo) and B (video, four MP4 variants), captured through the fixture web."""
    with FixtureWeb(tmp_path_factory.mktemp("fixtureweb"), ca=fixtureweb_ca) as web:
        TwitterWorld(web, [A, B])
        add_news_site(web)
        page = article_page("<p>Kurdish forces said:</p>" + SEED_BLOCKQUOTE + blockquote(B))
        web.add(ARTICLE, body=page, headers=[("Content-Type", "text/html; charset=utf-8")])
        archive = tmp_path_factory.mktemp("replay") / "archive"
        result = CliRunner().invoke(cli, ["capture", ARTICLE, "--archive", str(archive)], env=web.env(),
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "problem:" not in result.stderr
        yield {"archive": archive, "page": page}


@pytest.fixture(scope="module")
def server(captured: dict) -> Iterator[ReplayServer]:
    with ReplayServer(captured["archive"], port=0) as srv:
        yield srv


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False  # never through a proxy from the environment
    yield session
    session.close()


@pytest.fixture(scope="module")
def ts(server: ReplayServer) -> str:
    """The article's capture timestamp: what the page's own requests carry in replay."""
    article = next(t for t in server.targets() if t.url == ARTICLE)
    return article.replay_url.split(f"/{COLLECTION}/", 1)[1].split("/", 1)[0]


def fresh_tweet_html(tweet_id: str) -> str:
    """The iframe URL a new page load would make: new sessionId, other embedId, origin, version."""
    return (tweet_html_url(tweet_id, origin="https://news.example/", session_id=secrets.token_hex(20), widget=7)
            .replace("widgetsVersion=2615f7e52b7e0", "widgetsVersion=aaaabbbbcccc1"))


def fresh_tweet_result(tweet_id: str) -> str:
    query = urlencode([("id", tweet_id), ("lang", "en"), ("features", "tfw_x:on;tfw_y:true"),
                       ("token", secrets.token_hex(6))])
    return f"{SYNDICATION_ENDPOINT}?{query}"


def test_article_and_media_replay_byte_identical(server, http, captured, ts):
    resp = http.get(server.replay_url(ARTICLE, ts, "id_"))
    assert resp.status_code == 200 and resp.content == captured["page"]
    photo_small = "https://pbs.twimg.com/media/EGxSeedPhoto1?format=jpg&name=small"
    resp = http.get(server.replay_url(photo_small, ts, "id_"))
    assert resp.status_code == 200 and resp.content == media_bytes("/media/EGxSeedPhoto1")
    for _bitrate, _size, url in VIDEO.variant_urls():  # every variant: pywb and wabac keep different ones
        resp = http.get(server.replay_url(url, ts, "id_"))
        assert resp.status_code == 200, url
        assert resp.content == media_bytes(url.split("video.twimg.com", 1)[1].split("?")[0], 8192)


@pytest.mark.parametrize("tweet", [A, B], ids=["A", "B"])
def test_embed_document_found_by_id_whatever_the_session(server, http, ts, tweet):
    for modifier in ("id_", "if_"):  # the original, and what the article's iframe asks for
        resp = http.get(server.replay_url(fresh_tweet_html(tweet.id), ts, modifier))
        assert resp.status_code == 200
        assert re.findall(r'data-tweet-id="(\d+)"', resp.text) == [tweet.id]


@pytest.mark.parametrize("tweet", [A, B], ids=["A", "B"])
def test_tweet_result_found_by_id_whatever_the_token(server, http, ts, tweet):
    resp = http.get(server.replay_url(fresh_tweet_result(tweet.id), ts, "id_"))
    assert resp.status_code == 200
    assert json.loads(resp.content)["id_str"] == tweet.id


def test_uncaptured_tweet_is_404_never_a_neighbour(server, http, ts):
    prefix_of_a = A.id[:-1]  # a plain `contains` filter would hand out A for this
    for tweet_id in (UNCAPTURED, prefix_of_a):
        assert http.get(server.replay_url(fresh_tweet_html(tweet_id), ts, "id_")).status_code == 404
        assert http.get(server.replay_url(fresh_tweet_result(tweet_id), ts, "id_")).status_code == 404
    # no id at all: no tweet can be chosen (pywb's generic rule would serve the first one)
    assert http.get(server.replay_url(f"{TWEET_HTML}?dnt=true&theme=dark", ts, "id_")).status_code == 404


def test_other_photo_size_served_from_a_captured_one(server, http, ts):
    resp = http.get(server.replay_url("https://pbs.twimg.com/media/EGxSeedPhoto1?format=jpg&name=large", ts, "id_"))
    assert resp.status_code == 200 and resp.content == media_bytes("/media/EGxSeedPhoto1")
    resp = http.get(server.replay_url("https://pbs.twimg.com/media/EGxSeedPhoto1?format=png&name=large", ts, "id_"))
    assert resp.status_code == 404


def test_listens_on_loopback_only(server):
    proc = psutil.Process(server.process.pid)
    conns = proc.net_connections(kind="inet") if hasattr(proc, "net_connections") else proc.connections("inet")
    listening = [c.laddr for c in conns if c.status == psutil.CONN_LISTEN]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening)
    assert server.port in {addr.port for addr in listening}


def test_targets_are_the_article_and_post_pages(server, http, captured):
    targets = server.targets()
    assert [t.url for t in targets] == [ARTICLE, post_page_url("twitter", A.id), post_page_url("twitter", B.id)]
    assert targets[0].label == "Hundreds of IS prisoners escape"
    for target in targets:
        assert target.replay_url.startswith(f"{server.base_url}/{COLLECTION}/")
        assert http.get(target.replay_url).status_code == 200  # the framed page (banner + iframe)
    # the working folder holds links and an index, never copies, and warcs/ is untouched
    coll = captured["archive"] / "replay" / "collections" / COLLECTION
    assert all(p.is_symlink() for p in (coll / "archive").iterdir())
    assert sorted(p.name for p in (captured["archive"] / "warcs").iterdir()) == sorted(
        p.name for p in (coll / "archive").iterdir())


def test_second_server_on_the_same_archive_is_refused(server, captured):
    with pytest.raises(ReplayError, match="already serving"):
        ReplayServer(captured["archive"], port=0).start()


def test_cli_prints_urls_and_stops_cleanly_on_ctrl_c(captured, tmp_path):
    """`archiver replay` in a real process: URLs on stdout, Ctrl-C stops pywb too."""
    archive = tmp_path / "archive"
    shutil.copytree(captured["archive"] / "warcs", archive / "warcs")
    for index_file in captured["archive"].glob("index.sqlite3*"):
        shutil.copy(index_file, archive / index_file.name)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    proc = subprocess.Popen([sys.executable, "-m", "archiver", "replay", "--archive", str(archive),
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=ROOT)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        children = psutil.Process(proc.pid).children()
        assert len(children) == 1  # pywb
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert [line.split("\t")[0].split(f"/{COLLECTION}/", 1)[1].split("/", 1)[1] for line in lines] == [
        ARTICLE, post_page_url("twitter", A.id), post_page_url("twitter", B.id)]
    assert "Ctrl-C stops" in err and "stopped" in err and "WARNING" not in err
    assert not children[0].is_running() or children[0].status() == psutil.STATUS_ZOMBIE


def test_rules_inserted_before_pywbs_tweet_result_rule():
    rules = with_our_rules(pywb_rules())["rules"]
    prefixes = [r["url_prefix"] if isinstance(r["url_prefix"], list) else [r["url_prefix"]] for r in rules]
    ours = [i for i, p in enumerate(prefixes) if TWEET_HTML_KEY in p]
    pywbs = next(i for i, r in enumerate(rules) if r.get("rewrite") and TWEET_RESULT_KEY in prefixes[i])
    assert ours == [pywbs - 3, pywbs - 2]  # id rule, then the no-id rule, then the pbs sizes rule
    assert "fuzzy_lookup" not in rules[pywbs]  # pywb's own rule keeps its rewrite: section, unchanged
    assert prefixes[-1] == [""]  # pywb's catch-all stays last


@pytest.mark.parametrize("host,loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("example.org", False)])
def test_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


def test_nothing_to_replay_is_a_usage_error_and_creates_nothing(tmp_path):
    with pytest.raises(UsageError, match="no closed WARC files"):
        prepare_collection(tmp_path / "none")
    assert not (tmp_path / "none").exists()
