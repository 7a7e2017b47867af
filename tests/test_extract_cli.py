"""`archiver extract`: files, folders, stdin and URLs in; one JSON line per post out."""

from __future__ import annotations

import json

from click.testing import CliRunner

from archiver.cli import cli
from twitterworld import SEED_BLOCKQUOTE, article_page

TWEET_PAGE = article_page("<p>Kurdish forces said:</p>" + SEED_BLOCKQUOTE)
LINKS_PAGE = article_page('<p>Read <a href="https://x.com/i/web/status/20">it</a> and see t.co/AbCdEf1234</p>')
EMPTY_PAGE = article_page("<p>No posts here, only the site's own share and follow buttons.</p>")


def run(*args, input=None, env=None):
    return CliRunner().invoke(cli, ["extract", *args], input=input, env=env)


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_files_and_folders(tmp_path):
    saved = tmp_path / "saved"
    (saved / "2019").mkdir(parents=True)
    (saved / "2019" / "story.html").write_bytes(TWEET_PAGE)
    (saved / "links.htm").write_bytes(LINKS_PAGE)
    (saved / "empty.html").write_bytes(EMPTY_PAGE)
    (saved / "notes.txt").write_text("https://twitter.com/a/status/99")  # not a page: skipped in folders
    result = run(str(saved))
    assert result.exit_code == 0, result.output
    rows = lines(result)
    assert [(r["platform"], r["id"], r["forms"]) for r in rows] == [
        ("twitter", "1183419470331486208", ["blockquote"]),
        ("twitter", "20", ["link"]),
        ("twitter", None, ["tco"]),
    ]
    assert rows[0]["source"].endswith("2019/story.html")
    assert rows[0]["url"] == "https://twitter.com/RojavaIC/status/1183419470331486208"
    assert "Jelal Ayaf" in rows[0]["context"]
    assert rows[2]["url"] == "https://t.co/AbCdEf1234"
    assert set(rows[0]) == {"source", "platform", "id", "url", "forms", "context"}


def test_stdin_and_table_format():
    result = run("-", "--format", "table", input=TWEET_PAGE)
    assert result.exit_code == 0
    assert result.stdout.split("\t")[:4] == ["-", "twitter", "1183419470331486208", "blockquote"]


def test_unreadable_input_is_reported_and_the_rest_go_on(tmp_path):
    page = tmp_path / "p.html"
    page.write_bytes(TWEET_PAGE)
    result = run(str(tmp_path / "missing.html"), str(page))
    assert result.exit_code == 1
    assert "missing.html" in result.stderr
    assert [r["id"] for r in lines(result)] == ["1183419470331486208"]


def test_binary_garbage_is_a_result_not_a_crash(tmp_path):
    junk = tmp_path / "junk.html"
    junk.write_bytes(bytes(range(256)) * 100 + b"\x00<html><body><a href='https://twitter.com/a/status/7'>")
    result = run(str(junk))
    assert result.exit_code == 0
    assert [r["id"] for r in lines(result)] == ["7"]


def test_url_through_the_fetch_layer(web, tmp_path):
    web.add("https://news.example/story", body=TWEET_PAGE, headers=[("Content-Type", "text/html")])
    result = run("https://news.example/story", env=web.env())
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in lines(result)] == ["1183419470331486208"]
    assert [r["source"] for r in lines(result)] == ["https://news.example/story"]
    assert web.hits("https://cdn.syndication.twimg.com") == 0  # extract captures nothing
    assert not list(tmp_path.iterdir())


def test_parallel_jobs_give_the_same_lines_in_the_same_order(tmp_path):
    """`--jobs 2` reads files in two worker processes; the output is what one process prints."""
    for i in range(12):
        page = (TWEET_PAGE, LINKS_PAGE, EMPTY_PAGE, b"\x00\xff garbage <a href=")[i % 4]
        (tmp_path / f"p{i:02d}.html").write_bytes(page)
    one, two = run(str(tmp_path), "--jobs", "1"), run(str(tmp_path), "--jobs", "2")
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout and len(lines(two)) == 9  # 3 tweet pages x 1 + 3 link pages x 2
    assert [row["source"] for row in lines(two)] == sorted(row["source"] for row in lines(two))
