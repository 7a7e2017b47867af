"""Hostile input (issue #6): SSRF in every spelling, other schemes, file names, credentials, replay bind.

Everything goes through the real CLI and the fixture web (a proxy that logs every request and
CONNECT it gets), or real sockets on this machine; the fixture web's log is the witness that no
request ever reached a private address.
"""

from __future__ import annotations

import base64
import gzip
import html
import ipaddress
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.config import Config
from archiver.errors import BlockedURL
from archiver.extract import find_requisites, parse_html
from archiver.fetch import Fetcher, check_url, redact
from archiver.warc import Payload, WarcSink
from fixtureweb import FixtureWeb, Response
from twitterworld import SEED, SEED_BLOCKQUOTE, FakeTweet, TwitterWorld, add_news_site, article_page
from warcread import index_rows, read_records

ARTICLE = "https://news.example/2019/10/14/isis-prisoners-escape"
ROOT = Path(__file__).resolve().parents[1]

# --- what must never be fetched ------------------------------------------------------------------

# Loopback, private, link-local, unique-local, shared, reserved: in every spelling a resolver or
# requests accepts (decimal, octal, hex, short, trailing dot, mapped, zone ids), local names, and
# URLs whose host is not where it seems (userinfo, backslash, percent-encoding, IDNA).
PRIVATE = [
    "http://127.0.0.1/", "https://127.0.0.1/", "HTTP://127.0.0.1/", "http://127.0.0.1:8080/x",
    "http://127.1/", "http://0x7f000001/", "http://2130706433/", "http://017700000001/",
    "http://0177.0.0.1/", "http://0x7f.0.0.1/", "http://127.000.000.001/", "http://127.0.0.1./",
    "http://0.0.0.0/", "http://0/", "http://[::]/", "http://[::1]/", "http://[0:0:0:0:0:0:0:1]/",
    "http://[fd00::1]/", "http://[fc00::1]/", "http://[fe80::1]/", "http://[fe80::1%25eth0]/", "http://[fec0::1]/",
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[::ffff:a9fe:a9fe]/", "http://[::127.0.0.1]/",
    "http://[64:ff9b::7f00:1]/", "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of loopback / metadata
    "http://[2002:7f00:1::]/", "http://[2002:a9fe:a9fe::1]/",  # 6to4 of loopback / metadata
    "http://[2001:0:4136:e378:8000:63bf:80ff:fefe]/",  # Teredo
    "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://172.16.0.1/", "http://192.168.1.1/",
    "http://100.64.0.1/", "http://100.100.100.200/latest/meta-data/", "http://100.127.255.254/",  # RFC 6598
    "http://198.18.0.1/", "http://224.0.0.1/", "http://240.0.0.1/", "http://255.255.255.255/",
    "http://localhost/", "http://LOCALHOST/", "http://localhost./", "http://LocalHost.:80/x",
    "http://foo.localhost/", "http://foo.localhost./", "http://ip6-localhost/", "http://localhost.localdomain/",
    "http://printer.local/", "http://metadata.google.internal/computeMetadata/v1/", "http://router.home.arpa/",
    "http://example.com@127.0.0.1/", "http://user:pw@127.0.0.1:80/", "http://example.com:80@[::1]/",
    "http://127.0.0.1\\@example.com/", "http://127.0.0.1#@example.com/", "http://127.0.0.1?@example.com/",
    "http://%31%32%37.0.0.1/", "http://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3/",  # ⓛⓞⓒⓐⓛⓗⓞⓢⓣ
]
NOT_HTTP = ["file:///etc/passwd", "FILE:///etc/passwd", "ftp://example.com/x", "data:text/html,hi",
            "javascript:alert(1)", "gopher://example.com:70/_x", "dict://example.com:11211/", "mailto:a@example.com",
            "/relative", "//example.com/x"]
PUBLIC = ["https://example.com/", "http://example.com./x", "http://93.184.216.34/", "http://1.1.1.1./",
          "http://[2606:2800:220:1:248:1893:25c8:1946]/", "http://[::ffff:93.184.216.34]/",
          "http://[64:ff9b::5db8:d822]/", "http://100.63.255.255/", "http://100.128.0.1/",
          "https://news.example/a@b/c?x=127.0.0.1#localhost"]


@pytest.mark.parametrize("url", PRIVATE)
def test_private_spellings_refused(url):
    with pytest.raises(BlockedURL, match="refused|malformed"):  # malformed: requests could not fetch it
        check_url(url)  # as with a proxy: no resolving, the spelling alone must do
    check_url(url, allow_private=True)


@pytest.mark.parametrize("url", NOT_HTTP)
def test_other_schemes_refused_even_with_allow_private(url):
    with pytest.raises(BlockedURL, match="only http and https|no host"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize("url", PUBLIC)
def test_public_addresses_pass(url):
    check_url(url)


def test_redact_hides_url_passwords():
    assert redact("Failed to parse: http://user:s3cret@127.0.0.1:99999") == "Failed to parse: http://user:***@127.0.0.1:99999"
    assert redact("socks5h://a:p@ss@proxy:1 and https://u@h/") == "socks5h://a:***@proxy:1 and https://u@h/"


# --- helpers -------------------------------------------------------------------------------------


def run_capture(web: FixtureWeb, archive: Path, *args: str, env: dict | None = None):
    return CliRunner().invoke(cli, ["capture", *args, "--archive", str(archive)], env=env or web.env(),
                              catch_exceptions=False)


def looks_private(host: str) -> bool:
    """Our own judgement of a host the fixture web saw (independent of archiver.fetch)."""
    host = host.strip("[]").rstrip(".").lower()
    if host in ("localhost", "ip6-localhost", "localhost.localdomain") or host.endswith(
            (".localhost", ".local", ".internal", ".home.arpa")):
        return True
    for parse in (ipaddress.ip_address, lambda h: ipaddress.ip_address(socket.inet_aton(h))):
        try:
            parse(host.split("%")[0])
            return True  # every target in these tests is a name: any IP literal is a leak
        except (ValueError, OSError):
            continue
    return "%" in host or not re.fullmatch(r"[a-z0-9.-]+", host)


def assert_nothing_private_reached(web: FixtureWeb) -> None:
    leaked = sorted(h for h in web.hosts() if looks_private(h))
    assert not leaked, leaked
    assert not [e.url for e in web.log if not e.url.startswith(("http://", "https://"))]


def metadata_fields(archive: Path, name: str) -> list[str]:
    out = []
    for path in sorted((archive / "warcs").glob("*.warc.gz")):
        for rec in read_records(path):
            if rec["type"] == "metadata":
                for line in rec["content"].decode().splitlines():
                    key, _, value = line.partition(": ")
                    if key == name:
                        out.append(value)
    return out


REDIRECT_TARGETS = [
    "http://169.254.169.254/latest/user-data", "http://[::1]/x.png", "http://2130706433/x.png",
    "http://LOCALHOST./x.png", "http://example.com@127.0.0.1/x.png", "http://127.0.0.1\\@example.com/x.png",
    "http://[::ffff:7f00:1]/x.png", "http://100.100.100.200/x.png",
    "file:///etc/passwd", "ftp://example.com/x.png", "data:image/png;base64,iVBORw0KGgo=", "javascript:alert(1)",
    "gopher://example.com:70/_x",
]


def hostile_page() -> bytes:
    tags = []
    for i, url in enumerate(PRIVATE):
        kind = i % 3
        src = html.escape(url)
        tags.append(f'<img src="{src}">' if kind == 0 else f'<link rel="stylesheet" href="{src}">' if kind == 1
                    else f'<script src="{src}"></script>')
    for url in NOT_HTTP[:8]:
        tags.append(f'<img src="{html.escape(url)}"><link rel="icon" href="{html.escape(url)}">')
    tags += [f'<img src="/r/{i}.png">' for i in range(len(REDIRECT_TARGETS))]
    tags.append('<img srcset="http://127.1/a.png 1x, http://[::1]/b.png 2x">'
                '<div style="background:url(http://0x7f000001/bg.png)"></div>')
    return article_page("<p>Kurdish forces said:</p>" + SEED_BLOCKQUOTE + "\n".join(tags),
                        extra_head='<link rel="stylesheet" href="/static/evil.css">')


# --- through the fixture web ---------------------------------------------------------------------


def test_hostile_page_nothing_private_reached_every_refusal_recorded(web, tmp_path):
    TwitterWorld(web, [SEED])
    add_news_site(web)
    for i, target in enumerate(REDIRECT_TARGETS):
        web.add(f"https://news.example/r/{i}.png", status=302, headers=[("Location", target)])
    # a stylesheet importing from private addresses (CSS is followed two levels deep)
    web.add("https://news.example/static/evil.css", headers=[("Content-Type", "text/css")],
            body=b"@import url(http://[::1]/i.css); body{background:url('http://0177.0.0.1/x.png')}")
    page = hostile_page()
    web.add(ARTICLE, body=page, headers=[("Content-Type", "text/html; charset=utf-8")])
    archive = tmp_path / "a"

    result = run_capture(web, archive, ARTICLE)

    assert result.exit_code == 0, result.output  # refused requisites do not fail the article
    assert_nothing_private_reached(web)
    refusals = [line.removeprefix("problem: ") for line in result.stderr.splitlines()
                if line.startswith("problem: refused requisite ")]
    # every requisite the page names off news.example was refused, each on its own line
    wanted = [u for u in find_requisites(parse_html(page, base_url=ARTICLE)) if looks_private(urlsplit(u).hostname or "")]
    wanted = list(dict.fromkeys(wanted + ["http://[::1]/i.css", "http://0177.0.0.1/x.png"]))
    assert len(wanted) >= len(PRIVATE)  # the page really carries them
    for url in wanted:
        assert any(r.startswith(f"refused requisite {url}: ") for r in refusals), url
    # and every redirect to a private address or another scheme, naming the hop it would have taken
    for i, target in enumerate(REDIRECT_TARGETS):
        hop = [r for r in refusals if r.startswith(f"refused requisite https://news.example/r/{i}.png -> ")]
        assert len(hop) == 1, (target, refusals)
        assert ("only http and https" in hop[0]) == (not target.startswith("http"))
    assert len(refusals) == len(wanted) + len(REDIRECT_TARGETS)
    # the redirect answers themselves are in the archive, the places they pointed to are not
    assert web.hits("https://news.example/r/") == len(REDIRECT_TARGETS)
    # the refusals are in the article's metadata record, which the index lists among its records
    noted = metadata_fields(archive, "refused")
    assert sorted(noted) == sorted(" ".join(r.removeprefix("refused ").split()) for r in refusals)
    meta = index_rows(archive, "SELECT r.record_type FROM records r JOIN article_records ar ON ar.record_pk = r.pk"
                               " JOIN articles a ON a.pk = ar.article_pk WHERE a.url = ? AND r.record_type = 'metadata'",
                      ARTICLE)
    assert meta == [("metadata",)]
    # the post was captured all the same
    assert f"twitter\t{SEED.id}\t@RojavaIC\tavailable" in result.stdout


def test_hostile_post_media_refused_and_recorded(web, tmp_path):
    evil = FakeTweet(id="1500000000000000666", handle="evil", name="Evil", text="look", photos=["EvilPhoto"])
    world = TwitterWorld(web, [evil])
    photo, avatar = "http://169.254.169.254/latest/meta-data/iam.jpg", "http://[::ffff:127.0.0.1]/evil.jpg"

    def syndication(req):
        resp = world.syndication(req)
        if req.query.get("id") == evil.id and resp.status == 200:
            text = resp.body.decode().replace("https://pbs.twimg.com/media/EvilPhoto.jpg", photo)
            text = text.replace(evil.avatar, avatar)
            resp = Response(200, text, headers=[("Content-Type", "application/json")])
        return resp

    web.route("https://cdn.syndication.twimg.com/tweet-result", syndication)
    web.add(ARTICLE, body=article_page(
        f'<blockquote class="twitter-tweet"><p>{evil.text}</p>&mdash; Evil (@evil) '
        f'<a href="{evil.permalink}">d</a></blockquote>'), headers=[("Content-Type", "text/html; charset=utf-8")])
    archive = tmp_path / "a"
    result = run_capture(web, archive, ARTICLE, "--no-requisites")
    assert result.exit_code == 1, result.output  # media not captured: worth another look
    assert_nothing_private_reached(web)
    assert f"problem: refused twitter:{evil.id} media {photo.replace('.jpg', '')}" in result.stderr
    errors = dict(index_rows(archive, "SELECT url, error FROM media"))
    assert any(url.startswith("http://169.254.169.254/") and err.startswith("refused: ") for url, err in errors.items())
    assert any(url.startswith("http://[::ffff:127.0.0.1]/") and err.startswith("refused: ")
               for url, err in errors.items())


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://[::1]:8080/admin",
                                    "http://0x7f000001/", "file:///etc/passwd", "ftp://example.com/x",
                                    "data:text/html,<h1>x</h1>", "javascript:alert(1)"])
def test_article_redirect_refused_and_recorded(web, tmp_path, target):
    web.add(ARTICLE, status=301, headers=[("Location", target)])
    archive = tmp_path / "a"
    result = run_capture(web, archive, ARTICLE)
    assert result.exit_code == 1
    assert_nothing_private_reached(web)
    assert web.hits(ARTICLE) == 1
    reason = "only http and https" if not target.startswith("http:") else "refused: "
    assert f"failed: {ARTICLE}: " in result.stderr and reason in result.stderr
    (error,), = index_rows(archive, "SELECT error FROM articles WHERE url = ?", ARTICLE)
    assert reason in error
    # the 301 itself is evidence, and is in the archive
    statuses = [r["http"].get_statuscode() for p in (archive / "warcs").glob("*.warc.gz")
                for r in read_records(p) if r["type"] == "response"]
    assert statuses == ["301"]


def test_unusable_article_urls_exit_2_and_touch_nothing(web, tmp_path):
    archive = tmp_path / "a"
    for url in ["file:///etc/passwd", "ftp://example.com/x", "data:text/html,hi", "javascript:alert(1)",
                "http://127.1/", "http://[::ffff:7f00:1]/", "http://LOCALHOST./", "http://example.com@10.0.0.1/"]:
        result = run_capture(web, archive, url)
        assert result.exit_code == 2, (url, result.output)
        assert result.stderr.startswith(f"error: {url!r}: "), result.stderr
    assert not web.log and not web.tunnels
    assert not archive.exists()
    # allowed with --allow-private (the fixture web answers 404 for it), never for other schemes
    result = run_capture(web, archive, "http://127.1/", "--allow-private")
    assert result.exit_code == 1 and web.hits("http://127.1/") == 1


# --- resolved addresses, without a proxy ---------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        self.seen.append(self.path)
        body = b"<html><head><title>local</title></head><body><p>nothing</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def local_server(address: str = "127.0.0.1") -> Iterator[tuple[int, list[str]]]:
    seen: list[str] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    server_cls = type("Server", (ThreadingHTTPServer,), {"address_family": family})
    server = server_cls((address, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


def private_alias() -> tuple[str, str]:
    """(name, address): a host name (not `localhost` or another name the archiver refuses as
    such, not an IP) that this machine resolves to private or loopback addresses only, and one
    of them. The machine's own name nearly always is one; `.ci/run` gives CI machines one if not."""
    names = [socket.gethostname(), socket.getfqdn()]
    try:
        for line in Path("/etc/hosts").read_text().splitlines():
            fields = line.split("#")[0].split()
            names += fields[1:]
    except OSError:
        pass
    for name in dict.fromkeys(names):
        if not name or "localhost" in name or name.endswith((".local", ".internal")):
            continue
        try:
            ipaddress.ip_address(name)
            continue
        except ValueError:
            pass
        try:
            addrs = {ipaddress.ip_address(info[4][0].split("%")[0])
                     for info in socket.getaddrinfo(name, 80, proto=socket.IPPROTO_TCP)}
        except OSError:
            continue
        if addrs and all(a.is_loopback or a.is_private for a in addrs):
            return name, str(min(addrs, key=lambda a: (a.version, int(a))))
    pytest.skip("no host name here resolves to private addresses only (.ci/run adds one on CI machines)")


def no_proxy_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()} | {"PYTHONPATH": str(ROOT)}


def test_name_resolving_to_a_private_address_refused_without_proxy(tmp_path):
    name, address = private_alias()
    with local_server(address) as (port, seen):
        url = f"http://{name}:{port}/article"
        archive = tmp_path / "a"
        proc = subprocess.run([sys.executable, "-m", "archiver", "capture", url, "--archive", str(archive),
                               "--retries", "0"], env=no_proxy_env(), capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1, proc.stderr
        assert seen == []  # not one request reached it
        assert f"refused: {name.lower()} resolves to private address " in proc.stderr
        (error,), = index_rows(archive, "SELECT error FROM articles WHERE url = ?", url)
        assert error.startswith(f"refused: {name.lower()} resolves to private address ")

        # --allow-private is the way to archive a local page
        proc = subprocess.run([sys.executable, "-m", "archiver", "capture", url, "--archive", str(archive),
                               "--retries", "0", "--allow-private", "--no-requisites"],
                              env=no_proxy_env(), capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert seen == ["/article"]


def test_connection_to_a_private_address_refused_once_connected(tmp_path):
    """A name whose DNS answer changed since it was checked: the connection itself is refused
    once its peer turns out to be private, before a request byte is sent."""
    with local_server() as (port, seen):
        fetcher = Fetcher(Config(archive=tmp_path / "b", retries=0), None)
        fetcher.session.trust_env = False
        with pytest.raises(BlockedURL, match="connected to private address 127.0.0.1"):
            fetcher.session.get(f"http://localhost:{port}/rebound", timeout=5)
        fetcher.close()
        assert seen == []


# --- file names ----------------------------------------------------------------------------------


def tree(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")}


def outside(tmp_path: Path) -> set[str]:
    """Paths under tmp_path other than the archive `a`, the working folder `cwd` and `out`."""
    return {p for p in tree(tmp_path) if p.split("/")[0] not in ("a", "cwd", "out")}


@pytest.mark.parametrize("prefix", ["../../x", "a/b", "/tmp/x", "..", ".hidden", "-rf", "x*", "x?",
                                    "a\nWARC-Type: response", "a\x00b", "", "a" * 101, "dir\\x"])
def test_bad_warc_prefix_exits_2_and_writes_nothing(web, tmp_path, prefix):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    before = tree(tmp_path)
    result = CliRunner().invoke(cli, ["capture", ARTICLE, "--archive", str(tmp_path / "a" / "b"),
                                      "--warc-prefix", prefix], env=web.env())
    assert result.exit_code == 2, result.output
    assert "--warc-prefix" in result.output and "Traceback" not in result.output
    assert tree(tmp_path) == before and not web.log
    with pytest.raises(ValueError, match="prefix"):
        WarcSink(tmp_path / "w", prefix=prefix, software="t")
    assert not (tmp_path / "w").exists()


def test_nothing_written_outside_the_archive(web, tmp_path):
    """A hostile page, a capture, a package and a replay: every file lands where it should."""
    TwitterWorld(web, [SEED])
    add_news_site(web)
    url = "https://news.example/../../../etc/passwd/..%2f..%2fx?name=../../y#/../z"
    page = hostile_page()
    web.route("https://news.example/", lambda req: Response.html(
        page.decode(), headers=[("Content-Disposition", 'attachment; filename="../../../evil.sh"')])
        if "passwd" in req.path else Response.html("<p>no</p>", status=404), prefix=True)
    cwd, archive, out = tmp_path / "cwd", tmp_path / "a", tmp_path / "out"
    cwd.mkdir()
    out.mkdir()
    proc = subprocess.run([sys.executable, "-m", "archiver", "capture", url, "--archive", str(archive),
                           "--warc-prefix", "news.example_2019-10"],
                          env={**os.environ, **web.env(), "PYTHONPATH": str(ROOT)}, cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "captured " in proc.stderr
    assert outside(tmp_path) == set() and tree(cwd) == set() and tree(out) == set()
    names = tree(archive)
    host = re.escape(re.sub(r"[^A-Za-z0-9.-]+", "_", socket.gethostname() or "localhost"))
    pattern = re.compile(rf"(\.lock|index\.sqlite3(-wal|-shm)?|warcs|warcs/news\.example_2019-10-\d{{17}}-\d{{5}}-{host}\.warc\.gz)")
    assert all(pattern.fullmatch(n) for n in names), names

    proc = subprocess.run([sys.executable, "-m", "archiver", "package", str(out / "story.wacz"), "--archive",
                           str(archive)], env=no_proxy_env(), cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert tree(out) == {"story.wacz"} and tree(cwd) == set()
    assert outside(tmp_path) == set()


# --- credentials ---------------------------------------------------------------------------------

COOKIE_SECRET, BEARER_SECRET, PROXY_SECRET = "c00kieSecretValue", "b3arerSecretToken", "pr0xySecretPass"
HEADER_SECRET = "pr0xyHeaderSecret"  # a Proxy-Authorization given with --header


def secrets_found(texts: list[str], blobs: list[bytes], secrets: list[str]) -> list[str]:
    forms = []
    for s in secrets:
        forms += [s, base64.b64encode(f"user:{s}".encode()).decode()]
    found = [f for f in forms if any(f in t for t in texts) or any(f.encode() in b for b in blobs)]
    return found


def archive_bytes(archive: Path) -> list[bytes]:
    blobs = []
    for path in archive.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            blobs.append(data)
            if path.name.endswith((".warc.gz", ".open")):
                blobs.append(gzip.decompress(data))
    return blobs


@pytest.mark.parametrize("how", ["--proxy", "HTTPS_PROXY"])
def test_credentials_never_in_warcs_index_or_logs(web, tmp_path, how):
    TwitterWorld(web, [SEED])
    add_news_site(web)
    web.add(ARTICLE, body=article_page(SEED_BLOCKQUOTE + '<img src="http://news.example/plain.png">'),
            headers=[("Content-Type", "text/html; charset=utf-8"), ("Set-Cookie", "tracking=1")])
    jar = tmp_path / "cookies.txt"
    jar.write_text("# Netscape HTTP Cookie File\n"
                   f"news.example\tFALSE\t/\tFALSE\t0\tsession\t{COOKIE_SECRET}\n"
                   f".twimg.com\tTRUE\t/\tTRUE\t0\tsession\t{COOKIE_SECRET}\n")
    proxy = f"http://user:{PROXY_SECRET}@127.0.0.1:{web.port}"
    env = {**no_proxy_env(), "REQUESTS_CA_BUNDLE": web.ca_path}
    args = ["--cookies", str(jar), "--header", f"Authorization: Bearer {BEARER_SECRET}",
            "--header", f"Proxy-Authorization: Basic {HEADER_SECRET}"]
    if how == "--proxy":
        args += ["--proxy", proxy]
    else:
        env |= {"HTTPS_PROXY": proxy, "HTTP_PROXY": proxy}
    archive = tmp_path / "a"
    proc = subprocess.run([sys.executable, "-m", "archiver", "-vv", "capture", ARTICLE, "--archive", str(archive),
                           *args], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # they were really used: the proxy got its credentials, the site its cookie and token
    assert {e.headers.get("Proxy-Authorization") for e in web.log} >= {
        "Basic " + base64.b64encode(f"user:{PROXY_SECRET}".encode()).decode()}
    sent = web.requests_to(ARTICLE)[0].headers
    assert sent["Cookie"] == f"session={COOKIE_SECRET}" and sent["Authorization"] == f"Bearer {BEARER_SECRET}"
    assert web.hits("http://news.example/plain.png") == 1  # a plain-http request through the proxy too
    # and are nowhere in what the run wrote or said
    assert secrets_found([proc.stdout, proc.stderr], archive_bytes(archive),
                         [COOKIE_SECRET, BEARER_SECRET, PROXY_SECRET, HEADER_SECRET]) == []
    requests_ = [r for p in (archive / "warcs").glob("*.warc.gz") for r in read_records(p) if r["type"] == "request"]
    assert requests_ and all("Cookie" not in str(r["http"]) and "Authorization" not in str(r["http"])
                             for r in requests_)

    # --record-credentials keeps Cookie and Authorization (never the proxy's)
    archive2 = tmp_path / "b"
    proc = subprocess.run([sys.executable, "-m", "archiver", "-vv", "capture", ARTICLE, "--archive", str(archive2),
                           *args, "--record-credentials"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    heads = [str(r["http"]) for p in (archive2 / "warcs").glob("*.warc.gz") for r in read_records(p)
             if r["type"] == "request" and r["h"].get_header("WARC-Target-URI") == ARTICLE]
    assert any(COOKIE_SECRET in h and f"Bearer {BEARER_SECRET}" in h for h in heads)
    assert secrets_found([proc.stdout, proc.stderr], archive_bytes(archive2), [PROXY_SECRET]) == []
    assert all("Proxy-Authorization" not in h for h in heads)


def test_request_record_host_is_the_host_sent(web, tmp_path):
    """A URL's user:password@ is sent as Authorization (left out), never as part of Host."""
    url = ARTICLE.replace("https://", "https://reader:urlSecret@")
    web.add(ARTICLE, body=article_page("<p>no posts</p>"), headers=[("Content-Type", "text/html; charset=utf-8")])
    archive = tmp_path / "a"
    result = run_capture(web, archive, url, "--no-requisites")
    assert result.exit_code == 0, result.output
    assert web.requests_to(ARTICLE)[0].headers["Authorization"] == "Basic " + base64.b64encode(
        b"reader:urlSecret").decode()
    (req,) = [r for p in (archive / "warcs").glob("*.warc.gz") for r in read_records(p) if r["type"] == "request"]
    assert req["http"].get_header("Host") == "news.example"
    assert "urlSecret" not in str(req["http"]) and "Authorization" not in str(req["http"])


def test_proxy_password_never_echoed_in_errors(web, tmp_path):
    TwitterWorld(web, [SEED])
    web.add(ARTICLE, body=article_page(SEED_BLOCKQUOTE), headers=[("Content-Type", "text/html; charset=utf-8")])
    archive = tmp_path / "a"
    # a malformed --proxy is unusable input, and is shown without its password
    for proxy in (f"http://user:{PROXY_SECRET}@127.0.0.1:99999", f"ftp://user:{PROXY_SECRET}@proxy:21",
                  f"http://user:{PROXY_SECRET}@:3128"):
        result = run_capture(web, archive, ARTICLE, "--proxy", proxy)
        assert result.exit_code == 2 and "--proxy" in result.output
        assert PROXY_SECRET not in result.output and "user:***@" in result.output
    assert not archive.exists()
    # from the environment it can only fail at fetch time: the error (stderr and index) is redacted
    env = {**no_proxy_env(), "HTTPS_PROXY": f"http://user:{PROXY_SECRET}@127.0.0.1:99999",
           "HTTP_PROXY": f"http://user:{PROXY_SECRET}@127.0.0.1:99999"}
    proc = subprocess.run([sys.executable, "-m", "archiver", "-vv", "capture", ARTICLE, "--archive", str(archive),
                           "--retries", "0"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "user:***@127.0.0.1:99999" in proc.stderr
    # a proxy that is not there: the error names the proxy host, never the password
    env |= {"HTTPS_PROXY": f"http://user:{PROXY_SECRET}@127.0.0.1:1", "HTTP_PROXY": f"http://user:{PROXY_SECRET}@127.0.0.1:1"}
    proc2 = subprocess.run([sys.executable, "-m", "archiver", "-vv", "capture", ARTICLE, "--archive", str(archive),
                            "--retries", "0"], env=env, capture_output=True, text=True, timeout=60)
    assert proc2.returncode == 1 and "proxy" in proc2.stderr.lower()
    assert secrets_found([proc.stdout, proc.stderr, proc2.stdout, proc2.stderr], archive_bytes(archive),
                         [PROXY_SECRET]) == []


# --- replay binds loopback unless told ----------------------------------------------------------


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("replay") / "archive"
    with WarcSink(archive / "warcs", software="test") as sink:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\n"
        with Payload(head) as payload:
            payload.write(b"hello")
            sink.write_exchange(url="https://news.example/", request_head=b"GET / HTTP/1.1\r\n\r\n",
                                response_head=head, payload=payload, http_status=200, content_type="text/html")
    return archive


def _lines_until(stream, marker: str, timeout: float) -> list[str]:
    lines: list[str] = []
    done = threading.Event()

    def read() -> None:
        for line in stream:
            lines.append(line)
            if marker in line:
                break
        done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(timeout)
    return lines


@pytest.mark.parametrize("host", [None, "0.0.0.0"])
def test_replay_binds_loopback_unless_told_and_says_so(small_archive, host):
    args = ["--host", host] if host else []
    proc = subprocess.Popen([sys.executable, "-m", "archiver", "replay", "--archive", str(small_archive),
                             "--port", "0", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=no_proxy_env(), cwd=ROOT)
    try:
        lines = _lines_until(proc.stderr, "WARNING" if host else "Ctrl-C stops", 60)
        served = [line for line in lines if line.startswith("pywb serves")]
        assert served, lines
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", served[0]).group(1))
        pywb = psutil.Process(proc.pid).children()[0]
        conns = pywb.net_connections(kind="inet") if hasattr(pywb, "net_connections") else pywb.connections("inet")
        bound = {c.laddr.ip for c in conns if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
        if host is None:
            assert bound == {"127.0.0.1"}
            assert not [line for line in lines if "WARNING" in line]
        else:
            assert bound == {"0.0.0.0"}
            warning = [line for line in lines if line.startswith("WARNING")]
            assert warning == [f"WARNING: listening on 0.0.0.0:{port}, NOT only on this machine: anyone who can "
                               "reach it can read the whole archive\n"]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    # replay wrote into DIR/replay only; warcs/ holds the one file it held
    assert sorted(p.name for p in small_archive.iterdir()) == ["replay", "warcs"]
    assert len(list((small_archive / "warcs").iterdir())) == 1
