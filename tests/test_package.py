"""`archiver package`: WACZ 1.1.1 from a real capture, checked by `wacz validate` and by `check_wacz`."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from archiver.cli import cli
from archiver.package import check_wacz
from archiver.postpage import post_page_url
from twitterworld import SEED, SEED_BLOCKQUOTE, FakeTweet, TwitterWorld, add_news_site, article_page

FIRST = "https://news.example/2019/10/14/isis-prisoners-escape"
SECOND = "https://news.example/2019/10/15/second-story"
POST_PAGE_KEY = b"invalid,embed-archiver,posts)/"  # SURT of https://posts.embed-archiver.invalid/...
OTHER = FakeTweet(id="1183500000000000001", handle="OtherDesk", name="Other Desk",
                  text="A second report from the border https://t.co/OtherCode1", photos=["OtherPhoto1"],
                  tco="OtherCode1")


def blockquote(t: FakeTweet) -> str:
    return (f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{t.text}</p>&mdash; {t.name} '
            f'(@{t.handle}) <a href="{t.permalink}?ref_src=twsrc%5Etfw">October 15, 2019</a></blockquote>')


@pytest.fixture(scope="module")
def captured(tmp_path_factory, fixtureweb_ca) -> Path:
    """One archive, two articles citing different tweets; the first captured twice, so it has revisits."""
    from fixtureweb import FixtureWeb

    root = tmp_path_factory.mktemp("package")
    with FixtureWeb(tmp_path_factory.mktemp("fixtureweb"), ca=fixtureweb_ca) as web:
        TwitterWorld(web, [SEED, OTHER])
        add_news_site(web)
        for url, body, title in ((FIRST, SEED_BLOCKQUOTE, "Hundreds of IS prisoners escape"),
                                 (SECOND, blockquote(OTHER), "A second story")):
            web.add(url, body=article_page(body, title=title), headers=[("Content-Type", "text/html; charset=utf-8")])
        archive = root / "archive"
        result = CliRunner().invoke(cli, ["capture", FIRST, SECOND, FIRST, "--archive", str(archive)], env=web.env(),
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return archive


def package(archive: Path, out: Path, *args: str):
    return CliRunner().invoke(cli, ["package", str(out), "--archive", str(archive), *args], catch_exceptions=False)


def wacz_validate(path: Path) -> subprocess.CompletedProcess:
    """The real py-wacz CLI (`wacz validate -f`), as a user would run it.

    Not `python -m wacz`: its __main__ drops main()'s return value and always exits 0.
    """
    script = Path(sys.executable).with_name("wacz")
    cmd = [str(script)] if script.exists() else [
        sys.executable, "-c", "import sys; from wacz.main import main; sys.exit(main())"]
    return subprocess.run([*cmd, "validate", "-f", str(path)], capture_output=True, text=True, timeout=120)


def assert_wacz_valid(path: Path) -> None:
    check = wacz_validate(path)
    assert check.returncode == 0 and "Validation succeeded" in check.stdout, check.stdout + check.stderr


def pages(path: Path) -> list[dict]:
    with zipfile.ZipFile(path) as zf:
        return [json.loads(line) for line in zf.read("pages/pages.jsonl").decode().splitlines()]


def warc_headers(path: Path) -> list:
    """Every record's WARC headers, from every WARC in the package, in order."""
    out = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("archive/"):
                out += [rec.rec_headers for rec in ArchiveIterator(io.BytesIO(zf.read(name)))]
    return out


def test_whole_archive_is_a_valid_wacz(captured, tmp_path):
    out = tmp_path / "all.wacz"
    result = package(captured, out)
    assert result.exit_code == 0, result.output
    assert_wacz_valid(out)
    assert check_wacz(out) == []
    listed = pages(out)
    assert listed[0]["format"] == "json-pages-1.0"
    by_url = {p["url"]: p for p in listed[1:]}
    assert by_url[FIRST]["title"] == "Hundreds of IS prisoners escape"
    assert by_url[SECOND]["title"] == "A second story"
    seed_title = by_url[post_page_url("twitter", SEED.id)]["title"]
    assert seed_title.startswith("Rojava Information Center (@RojavaIC): We spoke")
    assert by_url[post_page_url("twitter", OTHER.id)]["title"].startswith("Other Desk (@OtherDesk): A second report")
    assert len(by_url) == 4 and all(p["ts"].endswith("Z") and p["id"] for p in by_url.values())
    with zipfile.ZipFile(out) as zf:
        for info in zf.infolist():
            if info.filename.startswith("archive/") or info.filename.endswith(".cdx.gz"):
                assert info.compress_type == zipfile.ZIP_STORED
        names = {n.split("/", 1)[1] for n in zf.namelist() if n.startswith("archive/")}
        assert names == {p.name for p in (captured / "warcs").glob("*.warc.gz")}
        package_json = json.loads(zf.read("datapackage.json"))
        assert package_json["wacz_version"] == "1.1.1" and "mainPageUrl" not in package_json


def test_one_article_only_its_records(captured, tmp_path):
    out = tmp_path / "first.wacz"
    result = package(captured, out, "--article", FIRST)
    assert result.exit_code == 0, result.output
    assert_wacz_valid(out)
    assert check_wacz(out) == []
    assert {p["url"] for p in pages(out)[1:]} == {FIRST, post_page_url("twitter", SEED.id)}
    headers = warc_headers(out)
    records = [(h.get_header("WARC-Type"), h.get_header("WARC-Target-URI")) for h in headers]
    uris = {u for _t, u in records}
    assert FIRST in uris and post_page_url("twitter", SEED.id) in uris
    assert SEED.photo_url("EGxSeedPhoto1") in uris and "https://news.example/static/site.css" in uris
    assert not any(u and (OTHER.id in u or "OtherPhoto1" in u or u == SECOND or "OtherCode1" in u) for u in uris)
    # a warcinfo of its own first; every response keeps its request
    assert records[0] == ("warcinfo", None)
    assert sum(1 for t, _ in records if t == "request") == sum(1 for t, _ in records if t in ("response", "revisit"))
    ids = {h.get_header("WARC-Record-ID") for h in headers}
    revisits = [h for h in headers if h.get_header("WARC-Type") == "revisit"]
    assert revisits and all(h.get_header("WARC-Refers-To") in ids for h in revisits)  # originals came along
    assert all(h.get_header("WARC-Warcinfo-ID") in ids for h in headers if h.get_header("WARC-Warcinfo-ID"))
    with zipfile.ZipFile(out) as zf:
        package_json = json.loads(zf.read("datapackage.json"))
        assert [n for n in zf.namelist() if n.startswith("archive/")] == [
            r["path"] for r in package_json["resources"] if r["path"].startswith("archive/")]
    assert package_json["mainPageUrl"] == FIRST and package_json["title"] == "Hundreds of IS prisoners escape"


def test_usage_errors_exit_2(captured, tmp_path):
    result = package(captured, tmp_path / "x.wacz", "--article", "https://news.example/never-captured")
    assert result.exit_code == 2 and "no article" in result.stderr
    result = package(captured, tmp_path / "no-such-dir" / "x.wacz")
    assert result.exit_code == 2 and "cannot write" in result.stderr
    assert package(tmp_path / "empty", tmp_path / "x.wacz").exit_code == 2
    assert not (tmp_path / "x.wacz").exists()


def rezip(src: Path, dst: Path, *, deflate_warcs: bool = False, drop: str | None = None) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename == drop:
                continue
            method = info.compress_type
            if deflate_warcs and info.filename.startswith("archive/"):
                method = zipfile.ZIP_DEFLATED
            zout.writestr(info.filename, zin.read(info.filename), compress_type=method)


def test_broken_packages_fail_the_checks(captured, tmp_path):
    good = tmp_path / "good.wacz"
    assert package(captured, good, "--article", SECOND).exit_code == 0

    deflated = tmp_path / "deflated.wacz"
    rezip(good, deflated, deflate_warcs=True)
    assert_wacz_valid(deflated)  # the gap docs/warc-and-replay.md §2.3 describes
    assert any("must be STORED" in p for p in check_wacz(deflated))

    no_pages = tmp_path / "no-pages.wacz"
    rezip(good, no_pages, drop="pages/pages.jsonl")
    assert wacz_validate(no_pages).returncode == 1  # still listed in datapackage.json: frictionless notices
    assert any("pages/pages.jsonl missing" in p for p in check_wacz(no_pages))

    unindexed = tmp_path / "unindexed.wacz"  # the post page's index line removed
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(unindexed, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "indexes/index.cdx.gz":
                lines = gzip.decompress(data).splitlines(keepends=True)
                data = gzip.compress(b"".join(ln for ln in lines if not ln.startswith(POST_PAGE_KEY)))
            zout.writestr(info, data)
    problems = check_wacz(unindexed)
    assert any("page URL not in the index" in p for p in problems)
    assert any("hash mismatch for indexes/index.cdx.gz" in p for p in problems)
    assert any("index.idx: block at 0 does not match" in p for p in problems)
