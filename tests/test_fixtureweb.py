"""The fixture web must behave like a real proxy + real servers, or the end-to-end tests prove nothing.

Plain ``requests`` is the client here (not the archiver), talking through real sockets.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import trustme
import urllib3

from fixtureweb import FixtureWeb, Request, Response, repeat_bytes


def _session(web: FixtureWeb) -> requests.Session:
    """A session wired to the fake explicitly, ignoring the developer's environment."""
    s = requests.Session()
    s.trust_env = False
    s.proxies = dict(web.proxies)
    s.verify = web.ca_path
    return s


def test_https_through_proxy_with_ca(web: FixtureWeb) -> None:
    web.add("https://news.example/a", "<p>hello</p>", headers={"Content-Type": "text/html"})
    with _session(web) as s:
        r = s.get("https://news.example/a?x=1&y=2&x=3", timeout=5)
    assert r.status_code == 200
    assert r.text == "<p>hello</p>"
    assert r.headers["Content-Length"] == str(len("<p>hello</p>"))
    assert web.tunnels == ["news.example:443"]
    [entry] = web.log
    assert entry.url == "https://news.example/a?x=1&y=2&x=3"
    assert entry.method == "GET"
    assert "python-requests" in entry.headers["user-agent"]


def test_env_alone_is_enough(web: FixtureWeb, web_env: dict[str, str]) -> None:
    web.add("news.example/env", "ok")  # no scheme: http and https
    assert requests.get("https://news.example/env", timeout=5).text == "ok"
    assert requests.get("http://news.example/env", timeout=5).text == "ok"
    assert web.hits("https://news.example/env") == 1
    assert web.hits("http://news.example/env") == 1


def test_tls_verification_fails_without_the_ca(web: FixtureWeb) -> None:
    web.add("https://news.example/a", "x")
    with _session(web) as s:
        s.verify = True  # certifi's bundle: our throwaway CA is not in it
        with pytest.raises(requests.exceptions.SSLError):
            s.get("https://news.example/a", timeout=5)
    assert web.hits("https://") == 0  # the handshake failed, so no request got through
    assert web.tunnels == ["news.example:443"]


def test_cert_is_for_the_tunnelled_host_including_ips(web: FixtureWeb) -> None:
    web.add("https://169.254.169.254/latest/meta-data/", "creds")
    web.add("https://other.example:8443/p", "port")
    with _session(web) as s:
        assert s.get("https://169.254.169.254/latest/meta-data/", timeout=5).text == "creds"
        assert s.get("https://other.example:8443/p", timeout=5).text == "port"
    assert web.log[1].url == "https://other.example:8443/p"
    assert web.hosts() == {"169.254.169.254", "other.example"}


def test_plain_http_through_proxy(web: FixtureWeb) -> None:
    seen: list[Request] = []

    def handler(req: Request) -> Response:
        seen.append(req)
        return Response.json({"q": req.query, "body": req.text})

    web.route("http://news.example/api", handler)
    with _session(web) as s:
        r = s.post("http://news.example/api?a=1&a=2&b=", data=b"payload", headers={"X-Test": "yes"}, timeout=5)
    assert r.json() == {"q": {"a": "1", "b": ""}, "body": "payload"}
    [req] = seen
    assert (req.scheme, req.host, req.path, req.raw_query) == ("http", "news.example", "/api", "a=1&a=2&b=")
    assert req.target == "http://news.example/api?a=1&a=2&b="  # absolute-form: it really was proxied
    assert req.headers["x-test"] == req.headers["X-TEST"] == "yes"
    assert ("X-Test", "yes") in req.raw_headers
    assert web.tunnels == []


def test_chunked_request_body_is_read(web: FixtureWeb) -> None:
    web.route("https://up.example/", lambda r: Response(200, r.body), prefix=True)
    with _session(web) as s:
        r = s.post("https://up.example/x", data=iter([b"ab", b"cd", b"ef"]), timeout=5)
    assert r.content == b"abcdef"
    assert web.log[0].headers["Transfer-Encoding"] == "chunked"


def test_plain_http_inside_connect_and_origin_form(web: FixtureWeb) -> None:
    """Clients that tunnel plain HTTP, or talk to the port as if it were the origin, still work."""
    web.add("plain.example:8080/t", "tunnelled")
    web.add("http://origin.example/o", "origin")
    with socket.create_connection(("127.0.0.1", web.port), timeout=5) as sock:
        sock.sendall(b"CONNECT plain.example:8080 HTTP/1.1\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 200 Connection established\r\n\r\n"
        sock.sendall(b"GET /t HTTP/1.1\r\nHost: plain.example:8080\r\nConnection: close\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n") and raw.endswith(b"\r\n\r\ntunnelled")
    raw = _raw_exchange(web, b"GET /o HTTP/1.0\r\nHost: origin.example\r\n\r\n")  # 1.0: closes
    assert raw.endswith(b"\r\n\r\norigin")
    assert [e.url for e in web.log] == ["http://plain.example:8080/t", "http://origin.example/o"]


def test_unmatched_is_404_html(web: FixtureWeb) -> None:
    with _session(web) as s:
        r = s.get("https://nowhere.example/x", timeout=5)
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/html")
    assert "not found" in r.text


def test_routing_specificity(web: FixtureWeb) -> None:
    web.add("https://pbs.example/", "any", prefix=True)
    web.add("https://pbs.example/media/", "media", prefix=True)
    web.add("https://pbs.example/media/K", "exact")
    web.add("https://pbs.example/media/K?name=orig&format=jpg", "orig")
    web.add("http://pbs.example/media/K", "plain")
    with _session(web) as s:
        get = lambda u: s.get(u, timeout=5).text  # noqa: E731
        assert get("https://pbs.example/other") == "any"
        assert get("https://pbs.example/media/Z") == "media"
        assert get("https://pbs.example/media/K?name=small") == "exact"
        assert get("https://pbs.example/media/K?format=jpg&name=orig") == "orig"
        assert get("http://pbs.example/media/K") == "plain"
        web.add("https://pbs.example/media/K", "replaced")
        assert get("https://pbs.example/media/K") == "replaced"


def test_keep_alive_and_connection_close(web: FixtureWeb) -> None:
    web.add("https://ka.example/a", "a")
    web.add("https://ka.example/bye", "b", close=True)
    with _session(web) as s:
        for _ in range(3):
            s.get("https://ka.example/a", timeout=5)
        r = s.get("https://ka.example/bye", timeout=5)
        assert r.headers["Connection"] == "close"
        s.get("https://ka.example/a", timeout=5)
    ids = [e.conn_id for e in web.log]
    assert ids[0] == ids[1] == ids[2] == ids[3]  # one tunnel, four requests
    assert ids[4] != ids[3]  # the server closed it, so a new one was needed


def test_head_has_no_body(web: FixtureWeb) -> None:
    web.add("https://h.example/f", b"x" * 1000)
    web.route("https://h.example/big", lambda r: Response(200, repeat_bytes(10**9)))
    with _session(web) as s:
        r = s.head("https://h.example/f", timeout=5)
        assert r.headers["Content-Length"] == "1000" and r.content == b""
        r = s.head("https://h.example/big", timeout=5)
        assert r.headers["Content-Length"] == str(10**9)
        assert s.get("https://h.example/f", timeout=5).content == b"x" * 1000  # connection still in sync


def test_chunked_arrives_intact_in_several_chunks(web: FixtureWeb) -> None:
    body = repeat_bytes(100_000, chunk=30_000, seed=7)
    data = b"".join(body)
    web.add("http://c.example/x", data, chunked=True)
    with _session(web) as s:
        r = s.get("http://c.example/x", timeout=5)
    assert r.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in r.headers
    assert r.content == data

    # On the wire: real chunk framing, more than one chunk.
    raw = _raw_exchange(web, b"GET http://c.example/x HTTP/1.1\r\nHost: c.example\r\nConnection: close\r\n\r\n")
    head, _, wire = raw.partition(b"\r\n\r\n")
    sizes = []
    while True:
        size_line, _, wire = wire.partition(b"\r\n")
        size = int(size_line, 16)
        sizes.append(size)
        if size == 0:
            break
        assert wire[size : size + 2] == b"\r\n"
        wire = wire[size + 2 :]
    assert len(sizes) >= 4 and sum(sizes) == len(data)
    assert wire == b"\r\n"


def test_iterable_without_length_is_sent_chunked(web: FixtureWeb) -> None:
    web.route("https://g.example/", lambda r: Response(200, (b"part%d" % i for i in range(5))), prefix=True)
    with _session(web) as s:
        r = s.get("https://g.example/", timeout=5)
    assert r.headers["Transfer-Encoding"] == "chunked"
    assert r.content == b"part0part1part2part3part4"


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("chunked", [False, True])
def test_cut_after_breaks_the_body(web: FixtureWeb, scheme: str, chunked: bool) -> None:
    web.add(f"{scheme}://cut.example/v", b"v" * 100_000, cut_after=1000, chunked=chunked)
    with _session(web) as s:
        r = s.get(f"{scheme}://cut.example/v", stream=True, timeout=5)
        if not chunked:
            assert r.headers["Content-Length"] == "100000"  # the full length was announced
        got = bytearray()
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            for piece in r.iter_content(100):
                got += piece
    # Small reads: urllib3 drops whatever it buffered for a read() that then hits EOF.
    assert got == b"v" * 1000


def _raw_exchange(web: FixtureWeb, request: bytes) -> bytes:
    """Send one raw request to the proxy port and read until EOF."""
    with socket.create_connection(("127.0.0.1", web.port), timeout=5) as sock:
        sock.sendall(request)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    return raw


def test_cut_after_on_the_wire(web: FixtureWeb) -> None:
    web.add("http://cut.example/w", b"w" * 100_000, cut_after=1234)
    raw = _raw_exchange(web, b"GET http://cut.example/w HTTP/1.1\r\nHost: cut.example\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"Content-Length: 100000" in head
    assert b"Connection" not in head  # nothing warns the client: it just dies
    assert body == b"w" * 1234


def test_cut_after_raw_urllib3_error(web: FixtureWeb) -> None:
    web.add("http://cut.example/raw", b"z" * 5000, cut_after=10)
    pm = urllib3.ProxyManager(web.proxy_url)
    r = pm.request("GET", "http://cut.example/raw", preload_content=False, retries=False)
    with pytest.raises(urllib3.exceptions.ProtocolError, match="IncompleteRead"):
        r.read()
    pm.clear()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_reset_raises_connection_error(web: FixtureWeb, scheme: str) -> None:
    web.add(f"{scheme}://rst.example/", "never sent", reset=True)
    with _session(web) as s:
        with pytest.raises(requests.exceptions.ConnectionError):
            s.get(f"{scheme}://rst.example/", timeout=5)
    # Over TLS the client often sees a plain EOF ("Remote end closed connection"), and urllib3
    # labels it ProxyError (a ConnectionError subclass) because the connection was already closed.
    assert web.hits(f"{scheme}://rst.example/") == 1  # the request was read before the RST


def test_reset_is_a_real_rst(web: FixtureWeb) -> None:
    web.add("http://rst.example/", "never sent", reset=True)
    with pytest.raises(ConnectionResetError):
        _raw_exchange(web, b"GET http://rst.example/ HTTP/1.1\r\nHost: rst.example\r\n\r\n")


def test_reset_mid_body(web: FixtureWeb) -> None:
    web.add("https://rst.example/mid", b"m" * 50_000, reset=True, cut_after=100)
    with _session(web) as s:
        r = s.get("https://rst.example/mid", stream=True, timeout=5)
        with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            r.content


def test_flaky_handler_uses_attempt(web: FixtureWeb) -> None:
    def flaky(req: Request) -> Response:
        if req.attempt < 3:
            return Response.text("try later", status=503, headers={"Retry-After": "0"})
        return Response.text(f"ok on {req.attempt}")

    web.route("https://flaky.example/r", flaky)
    with _session(web) as s:
        codes = [s.get("https://flaky.example/r", timeout=5).status_code for _ in range(3)]
        other = s.get("https://flaky.example/r?v=2", timeout=5)  # another URL: its own counter
    assert codes == [503, 503, 200]
    assert other.status_code == 503
    assert [e.attempt for e in web.log] == [1, 2, 3, 1]


def test_delay_and_drip(web: FixtureWeb) -> None:
    web.add("https://slow.example/d", "late", delay=1.0)
    web.add("https://slow.example/drip", b"abcdef", drip=0.05)
    with _session(web) as s:
        with pytest.raises(requests.exceptions.ReadTimeout):
            s.get("https://slow.example/d", timeout=(5, 0.2))
        t0 = time.monotonic()
        r = s.get("https://slow.example/drip", timeout=5)
        assert r.content == b"abcdef"
        assert time.monotonic() - t0 >= 0.2  # five pauses between six one-byte pieces


def test_large_generated_body_streams(web: FixtureWeb) -> None:
    total = 50 * 10**6
    body = repeat_bytes(total)
    assert len(b"".join(repeat_bytes(3 * 10**6))) == 3 * 10**6
    web.route("https://video.example/v.mp4", lambda r: Response(200, body, {"Content-Type": "video/mp4"}))
    h = hashlib.sha256()
    n = 0
    t0 = time.monotonic()
    with _session(web) as s:
        with s.get("https://video.example/v.mp4", stream=True, timeout=10) as r:
            assert r.headers["Content-Length"] == str(total)
            for piece in r.iter_content(1 << 20):
                h.update(piece)
                n += len(piece)
    assert n == total
    assert h.hexdigest() == body.sha256()
    assert time.monotonic() - t0 < 10


def test_client_disconnect_mid_body_is_harmless(web: FixtureWeb, caplog: pytest.LogCaptureFixture) -> None:
    web.route("https://video.example/huge", lambda r: Response(200, repeat_bytes(10**9)))
    web.add("https://video.example/small", "fine")
    with _session(web) as s:
        r = s.get("https://video.example/huge", stream=True, timeout=5)
        next(r.iter_content(1 << 16))
        r.close()  # drops the connection mid-body: ~1 GB was still to come
        assert s.get("https://video.example/small", timeout=5).text == "fine"
    time.sleep(0.1)  # let the server hit the broken pipe
    assert web.errors == []
    assert not [rec for rec in caplog.records if rec.levelname in ("WARNING", "ERROR")]


def test_handler_exception_is_a_500_and_recorded(web: FixtureWeb) -> None:
    def broken(req: Request) -> Response:
        raise RuntimeError("boom")

    web.route("https://bug.example/", broken)
    with _session(web) as s:
        r = s.get("https://bug.example/", timeout=5)
    assert r.status_code == 500
    assert len(web.errors) == 1 and "boom" in web.errors[0]
    web.errors.clear()


def test_body_generator_error_cuts_the_body_and_is_recorded(web: FixtureWeb) -> None:
    def body() -> Iterator[bytes]:
        yield b"start"
        raise RuntimeError("generator boom")

    web.route("https://bug.example/gen", lambda r: Response(200, body()))
    with _session(web) as s:
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            s.get("https://bug.example/gen", timeout=5)
    # The server records the error before it closes the connection, so no wait is needed.
    assert len(web.errors) == 1 and "generator boom" in web.errors[0]
    web.errors.clear()


def test_log_is_thread_safe_and_queryable(web: FixtureWeb) -> None:
    web.add("https://news.example/", "x", prefix=True)

    def worker(i: int) -> None:
        with _session(web) as s:
            for j in range(5):
                s.get(f"https://news.example/p{i}/{j}", timeout=5)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert web.hits("https://news.example/") == 20
    assert web.hits("https://news.example/p1/") == 5
    assert web.hits("http://169.254.169.254") == web.hits("https://169.254.169.254") == 0
    assert "169.254.169.254" not in web.hosts()
    assert len({e.thread for e in web.log}) >= 4
    assert all(isinstance(e.time, float) and e.method == "GET" for e in web.log)
    web.clear_log()
    assert web.log == [] and web.hits() == 0


def test_stop_is_prompt_with_hanging_clients(tmp_path: Path, fixtureweb_ca: trustme.CA) -> None:
    web = FixtureWeb(tmp_path, ca=fixtureweb_ca).start()
    web.add("slow.example/drip", b"x" * 1000, drip=1.0)
    web.add("slow.example/wait", "x", delay=60)
    socks = []
    # A tunnel that never starts TLS.
    raw = socket.create_connection(("127.0.0.1", web.port))
    raw.sendall(b"CONNECT idle.example:443 HTTP/1.1\r\nHost: idle.example:443\r\n\r\n")
    assert raw.recv(100).startswith(b"HTTP/1.1 200")
    socks.append(raw)
    # A TLS tunnel, idle between requests.
    ctx = ssl.create_default_context(cafile=web.ca_path)
    raw2 = socket.create_connection(("127.0.0.1", web.port))
    raw2.sendall(b"CONNECT idle2.example:443 HTTP/1.1\r\n\r\n")
    assert raw2.recv(100).startswith(b"HTTP/1.1 200")
    socks.append(ctx.wrap_socket(raw2, server_hostname="idle2.example"))
    # Requests stuck in a drip and in a long delay.
    for path in ("drip", "wait"):
        raw3 = socket.create_connection(("127.0.0.1", web.port))
        raw3.sendall(f"GET http://slow.example/{path} HTTP/1.1\r\nHost: slow.example\r\n\r\n".encode())
        socks.append(raw3)
    time.sleep(0.2)
    assert web.hits("http://slow.example/") == 2
    t0 = time.monotonic()
    web.stop()
    assert time.monotonic() - t0 < 1.5
    assert not web._threads  # every worker finished
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", web.port), timeout=1)
    for s in socks:
        s.close()
