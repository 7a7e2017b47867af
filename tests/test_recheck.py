"""`archiver recheck`, `export --changed-since` and incremental capture, against the fixture web."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

from archiver.capture import Archive, capture_article
from archiver.cli import cli
from archiver.config import Config
from archiver.index import Index, timestamp
from archiver.platforms.syndication import syndication_url
from fixtureweb import Response
from twitterworld import SUSPENDED_TEXT, FakeTweet, TwitterWorld, add_news_site, article_page
from warcread import read_records, warcio_check

ARTICLE = "https://news.example/2024/03/01/storm"
ARTICLE_2 = "https://news.example/2024/03/02/storm-follow-up"
SYND = "https://cdn.syndication.twimg.com/tweet-result"
OEMBED = "https://publish.twitter.com/oembed"

STAYS = FakeTweet(id="1500000000000000001", handle="stays", name="Stays", text="still here",
                  photos=["StaysPhoto01"], tco="StaysCode1")
GOES = FakeTweet(id="1500000000000000002", handle="goes", name="Goes", text="soon gone")
BANNED = FakeTweet(id="1500000000000000003", handle="banned", name="Banned", text="soon suspended")


def blockquote(t: FakeTweet) -> str:
    return (f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{t.text}</p>&mdash; {t.name} '
            f'(@{t.handle}) <a href="{t.permalink}?ref_src=twsrc%5Etfw">March 1, 2024</a></blockquote>')


def fresh_tweets() -> list[FakeTweet]:
    """Copies: the tests change their states."""
    return [FakeTweet(**{**t.__dict__}) for t in (STAYS, GOES, BANNED)]


def serve(web, url: str, tweets: list[FakeTweet]) -> None:
    web.add(url, body=article_page("".join(blockquote(t) for t in tweets)),
            headers=[("Content-Type", "text/html; charset=utf-8")])


def run(web, *args: str):
    return CliRunner().invoke(cli, list(args), env=web.env(), catch_exceptions=False)


def captured(web, archive: Path, tweets: list[FakeTweet], *extra: str) -> TwitterWorld:
    world = TwitterWorld(web, tweets)
    serve(web, ARTICLE, tweets)
    result = run(web, "capture", ARTICLE, "--archive", str(archive), *extra)
    assert result.exit_code == 0, result.output
    return world


def next_second() -> str:
    """Wait until the index's clock (whole seconds) has moved on; return the new second."""
    start = timestamp()
    while timestamp() == start:
        time.sleep(0.05)
    return timestamp()


def post(archive: Path, t: FakeTweet) -> dict:
    with Index(archive / "index.sqlite3") as index:
        return index.post("twitter", t.id)


def records(archive: Path) -> list[dict]:
    out = []
    for path in sorted((archive / "warcs").glob("*.warc.gz")):
        assert warcio_check(path).returncode == 0
        out += read_records(path)
    return out


def at(recs: list[dict], url: str, *types: str) -> list[dict]:
    return [r for r in recs if r["h"].get_header("WARC-Target-URI") == url and r["type"] in types]


def export_ids(archive: Path, *args: str) -> list[str]:
    result = CliRunner().invoke(cli, ["export", "--archive", str(archive), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [json.loads(line)["id"] for line in result.stdout.splitlines()]


# --- a recheck that finds changes -------------------------------------------------------------


def test_recheck_reports_changes_records_evidence_and_history(web, tmp_path):
    stays, goes, banned = tweets = fresh_tweets()
    archive = tmp_path / "a"
    captured(web, archive, tweets, "--no-requisites")
    seen = {t.id: post(archive, t)["last_checked"] for t in tweets}
    since = next_second()
    goes.state, banned.state = "gone", "suspended"
    web.clear_log()

    result = run(web, "recheck", "--archive", str(archive))
    assert result.exit_code == 0, result.output
    checked = post(archive, stays)["last_checked"]
    assert checked >= since
    # exactly the changed posts, each with the date last seen so and the date of this check
    assert sorted(result.stdout.splitlines()) == sorted([
        f"twitter\t{goes.id}\t@goes\tavailable \u2192 deleted\t{seen[goes.id]}\t{checked}",
        f"twitter\t{banned.id}\t@banned\tavailable \u2192 suspended\t{seen[banned.id]}\t{checked}",
    ])
    assert "rechecked 3 post(s): 2 changed, 1 unchanged, 0 failed" in result.stderr
    # every post was asked again; media already held were not fetched again
    assert sorted(e.url for e in web.requests_to(SYND)) == sorted(syndication_url(t.id) for t in tweets)
    assert web.hits("https://pbs.twimg.com/") == 0

    # the index: status, history (two rows for the changed posts, one for the other), last_checked
    p_stays, p_goes, p_banned = (post(archive, t) for t in tweets)
    assert [(h["status"], h["checked_at"]) for h in p_goes["status_history"]] == [
        ("available", seen[goes.id]), ("deleted", checked)]
    assert [h["status"] for h in p_banned["status_history"]] == ["available", "suspended"]
    assert SUSPENDED_TEXT.split(".")[0] in p_banned["status_reason"]
    assert [h["status"] for h in p_stays["status_history"]] == ["available"]
    assert all(p["last_checked"] == checked and p["last_error"] is None for p in (p_stays, p_goes, p_banned))
    # what was known survives the deletion: text, author, media
    assert p_goes["text"] == "soon gone" and p_goes["author_name"] == "Goes"
    assert p_stays["media"] and all(m["captured"] for m in p_stays["media"])

    # the new evidence is in the WARC and linked to the posts
    recs = records(archive)
    synd_goes = at(recs, syndication_url(goes.id), "response")
    assert [r["http"].get_statuscode() for r in synd_goes] == ["200", "404"]
    synd_banned = at(recs, syndication_url(banned.id), "response", "revisit")
    assert [r["type"] for r in synd_banned] == ["response", "response"]
    assert b"suspended account" in synd_banned[1]["content"]
    synd_stays = at(recs, syndication_url(stays.id), "response", "revisit")
    assert [r["type"] for r in synd_stays] == ["response", "revisit"]  # unchanged answer: no new copy
    assert synd_stays[1]["h"].get_header("WARC-Refers-To") == synd_stays[0]["h"].get_header("WARC-Record-ID")
    ids = {r["record_id"] for r in p_goes["records"]}
    assert synd_goes[1]["h"].get_header("WARC-Record-ID") in ids
    assert synd_stays[1]["h"].get_header("WARC-Record-ID") in {r["record_id"] for r in p_stays["records"]}
    # a changed post gets a new post page showing its new status; an unchanged one does not
    pages = {t.id: at(recs, f"https://posts.embed-archiver.invalid/twitter/{t.id}", "resource") for t in tweets}
    assert len(pages[stays.id]) == 1 and len(pages[goes.id]) == 2
    assert b"<strong>deleted</strong>" in pages[goes.id][1]["content"]
    assert b"soon gone" in pages[goes.id][1]["content"]  # drawn from what the archive held

    # export --changed-since: status changes only, not the recheck that found the same status
    assert sorted(export_ids(archive, "--changed-since", since)) == sorted([goes.id, banned.id])
    assert len(export_ids(archive)) == 3
    # and the archive is still sound, media of rechecked posts included
    verify = CliRunner().invoke(cli, ["verify", "--archive", str(archive)], catch_exceptions=False)
    assert verify.exit_code == 0, verify.output


def test_recheck_json_filters_and_named_posts(web, tmp_path):
    stays, goes, banned = tweets = fresh_tweets()
    archive = tmp_path / "a"
    captured(web, archive, tweets, "--no-requisites")
    goes.state = "tombstone-deleted"
    result = run(web, "recheck", "--archive", str(archive), "--json", f"twitter:{goes.id}", f"x:{stays.id}")
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert set(rows) == {goes.id, stays.id}
    assert rows[goes.id]["changed"] is True and rows[goes.id]["old_status"] == "available"
    assert rows[goes.id]["status"] == rows[goes.id]["found"] == "deleted"
    assert rows[stays.id]["changed"] is False and rows[stays.id]["status"] == "available"
    assert any(r["url"].startswith(SYND) for r in rows[goes.id]["records"])
    # --status picks by current status
    result = run(web, "recheck", "--archive", str(archive), "--status", "deleted", "--json")
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [goes.id]
    # a post the archive does not hold, or a malformed one, is a usage error
    assert run(web, "recheck", "--archive", str(archive), "twitter:1").exit_code == 2
    assert run(web, "recheck", "--archive", str(archive), "nonsense").exit_code == 2
    assert run(web, "recheck", "--archive", str(archive), "--older-than", "soon").exit_code == 2
    assert run(web, "recheck", "--archive", str(tmp_path / "none")).exit_code == 2


def test_older_than_right_after_capture_rechecks_nothing(web, tmp_path):
    archive = tmp_path / "a"
    captured(web, archive, fresh_tweets(), "--no-requisites")
    web.clear_log()
    files = sorted((archive / "warcs").iterdir())
    result = run(web, "recheck", "--archive", str(archive), "--older-than", "7d")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "nothing to recheck" in result.stderr
    assert web.log == []
    assert sorted((archive / "warcs").iterdir()) == files  # not even an empty WARC file
    # --before a date before the capture: the same
    assert "nothing to recheck" in run(web, "recheck", "--archive", str(archive), "--before", "2020-01-01").stderr


def test_failed_recheck_keeps_the_known_status(web, tmp_path):
    stays, goes, banned = tweets = fresh_tweets()
    archive = tmp_path / "a"
    world = captured(web, archive, tweets, "--no-requisites")
    before = post(archive, goes)
    since = next_second()
    web.add(SYND, status=503, body=b"down")
    web.add(OEMBED, status=502, body=b"down")

    result = run(web, "recheck", "--archive", str(archive), "--retries", "0")
    assert result.exit_code == 1, result.output
    assert result.stdout == ""  # nothing changed
    assert f"failed: twitter:{goes.id}:" in result.stderr
    assert "3 failed (status kept)" in result.stderr
    after = post(archive, goes)
    assert after["status"] == "available" and after["status_reason"] is None
    assert after["last_checked"] == before["last_checked"]  # when it was last seen available
    assert [h["status"] for h in after["status_history"]] == ["available"]
    assert after["last_error"] and "503" in after["last_error"] and after["last_error_at"] >= since
    assert after["text"] == "soon gone"
    assert len(after["records"]) > len(before["records"])  # the failed attempt is evidence too
    assert export_ids(archive, "--changed-since", since) == []

    # still due: the next run picks it up, and an answer clears the error
    web.route(SYND, world.syndication)
    web.route(OEMBED, world.oembed)
    goes.state = "gone"
    result = run(web, "recheck", "--archive", str(archive), "--before", timestamp())
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"twitter\t{goes.id}\t@goes\tavailable \u2192 deleted\t{before['last_checked']}\t{post(archive, goes)['last_checked']}"]
    assert post(archive, goes)["last_error"] is None


# --- incremental capture ------------------------------------------------------------------------


def test_incremental_capture_takes_held_posts_from_the_index(web, tmp_path, web_env):
    stays, goes, banned = tweets = fresh_tweets()
    newcomer = FakeTweet(id="1500000000000000004", handle="newcomer", name="Newcomer", text="first time")
    world = TwitterWorld(web, tweets + [newcomer])
    add_news_site(web)
    serve(web, ARTICLE, tweets)
    archive = tmp_path / "a"
    result = run(web, "capture", ARTICLE, "--archive", str(archive))  # with embed assets
    assert result.exit_code == 0, result.output
    held_before = {t.id: post(archive, t) for t in tweets}
    next_second()
    goes.state = "gone"  # not noticed: an incremental capture does not check held posts
    serve(web, ARTICLE_2, [stays, goes, newcomer])
    web.clear_log()

    with Archive(Config(archive=archive)) as arch:
        again = capture_article(arch, ARTICLE, resnapshot=False)
        assert web.hits("https://cdn.syndication.twimg.com/") == 0
        assert web.hits(OEMBED) == 0 and web.hits("https://pbs.twimg.com/") == 0
        second = capture_article(arch, ARTICLE_2, resnapshot=False)
    # the held posts are in the results with what the index knows; only the newcomer was asked
    assert {(p.id, p.status, p.text) for p in again.posts} == {(t.id, "available", t.text) for t in tweets}
    by_id = {p.id: p for p in second.posts}
    assert by_id[goes.id].status == "available" and by_id[goes.id].author_name == "Goes"
    assert by_id[stays.id].media and all(m.captured for m in by_id[stays.id].media)
    assert by_id[stays.id].records  # its evidence, as held
    assert by_id[newcomer.id].status == "available"
    synd_ids = {e.url.split("id=")[1].split("&")[0] for e in web.requests_to("https://cdn.syndication.twimg.com/")}
    assert synd_ids == {newcomer.id}
    # held rows are not touched (they were not checked); citations are recorded
    for t in tweets:
        p = post(archive, t)
        assert p["last_checked"] == held_before[t.id]["last_checked"]
        assert p["status_history"] == held_before[t.id]["status_history"]
    assert [a["url"] for a in post(archive, goes)["articles"]] == [ARTICLE, ARTICLE_2]
    assert [a["url"] for a in post(archive, newcomer)["articles"]] == [ARTICLE_2]
    # a held post's media, shared with a new citation, are not fetched; the archive stays sound
    verify = CliRunner().invoke(cli, ["verify", "--archive", str(archive)], catch_exceptions=False)
    assert verify.exit_code == 0, verify.output
    del world


def test_explicit_capture_still_fetches_held_posts(web, tmp_path):
    tweets = fresh_tweets()
    archive = tmp_path / "a"
    captured(web, archive, tweets, "--no-requisites")
    web.clear_log()
    result = run(web, "capture", ARTICLE, "--archive", str(archive), "--no-requisites")
    assert result.exit_code == 0, result.output
    assert web.hits(SYND) == 3


def test_failed_capture_does_not_overwrite_a_known_status(web, tmp_path):
    """The same rule as for rechecks: a capture that gets no answer says nothing about the post."""
    tweets = fresh_tweets()
    archive = tmp_path / "a"
    captured(web, archive, tweets, "--no-requisites")
    web.route(SYND, lambda r: Response(503, body=b"down"))
    web.add(OEMBED, status=503, body=b"down")
    result = run(web, "capture", ARTICLE, "--archive", str(archive), "--no-requisites", "--retries", "0")
    assert result.exit_code == 1
    p = post(archive, tweets[0])
    assert p["status"] == "available" and p["last_error"] and [h["status"] for h in p["status_history"]] == ["available"]
