"""A local forward proxy that *is* the whole web, for end-to-end tests.

The archiver under test talks to it only through ordinary proxy settings
(``HTTP(S)_PROXY`` or ``proxies=``) and a CA bundle (``REQUESTS_CA_BUNDLE`` or
``verify=``), so the code paths exercised are the real ones: DNS is never
needed, nothing leaves 127.0.0.1, and TLS is verified against a throwaway CA.

Plain ``http://`` URLs arrive as absolute-form requests; ``https://`` URLs arrive
through ``CONNECT`` tunnels that are TLS-terminated here with a leaf certificate
minted on the fly for the tunnelled host. Every request is answered by a
registered handler (or a 404), and can be made to misbehave on purpose
(chunked, cut short, reset, slow, dripping) to test the archiver's resilience.

Import it as ``from fixtureweb import FixtureWeb, Response, repeat_bytes``
(pytest puts ``tests/`` on ``sys.path`` because it has no ``__init__.py``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import http
import ipaddress
import itertools
import json as _json
import logging
import random
import socket
import ssl
import struct
import tempfile
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union
from urllib.parse import parse_qs, urlsplit

import trustme

__all__ = [
    "FixtureWeb",
    "Headers",
    "LogEntry",
    "RepeatBytes",
    "Request",
    "Response",
    "repeat_bytes",
    "shared_ca",
]

logger = logging.getLogger("fixtureweb")

_MAX_LINE = 65536  # longest request line / header line accepted
_MAX_HEADERS = 200
_SEND_SLICE = 1 << 20  # bytes per sendall(): big enough to be fast, small enough for timeouts
_IO_TIMEOUT = 120.0  # per socket operation; stop() does not rely on it
_DEFAULT_PORTS = {"http": 80, "https": 443}


# --------------------------------------------------------------------------- headers


class Headers(Mapping[str, str]):
    """Case-insensitive view of a header list that keeps the raw, ordered pairs.

    Lookups return the first value; ``get_all`` returns every value, because
    tests sometimes care about repeated headers (e.g. ``Set-Cookie``).
    """

    def __init__(self, raw: Iterable[tuple[str, str]] = ()) -> None:
        self.raw: list[tuple[str, str]] = [(str(k), str(v)) for k, v in raw]

    def __getitem__(self, name: str) -> str:
        lname = name.lower()
        for k, v in self.raw:
            if k.lower() == lname:
                return v
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for k, _ in self.raw:
            if k.lower() not in seen:
                seen.add(k.lower())
                yield k

    def __len__(self) -> int:
        return len({k.lower() for k, _ in self.raw})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(k.lower() == name.lower() for k, _ in self.raw)

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``, in wire order."""
        lname = name.lower()
        return [v for k, v in self.raw if k.lower() == lname]

    def __repr__(self) -> str:
        return f"Headers({self.raw!r})"


def _tokens(value: Optional[str]) -> set[str]:
    """Comma-separated header tokens, lower-cased (for Connection / Transfer-Encoding)."""
    return {t.strip().lower() for t in (value or "").split(",") if t.strip()}


# --------------------------------------------------------------------------- request / response


@dataclass
class Request:
    """One request as the fake server saw it, passed to handlers."""

    method: str
    url: str  # effective URL: scheme://host[:port]/path?query (default port omitted)
    scheme: str
    host: str  # lower-cased, with ":port" when not the default; IPv6 in brackets
    path: str  # raw, as sent (still percent-encoded)
    query: dict[str, str]  # first value of each parameter
    headers: Headers
    body: bytes = b""
    attempt: int = 1  # how many times this exact URL (query included) was asked, 1-based
    raw_query: str = ""
    version: str = "HTTP/1.1"
    target: str = ""  # the request-target exactly as on the request line
    conn_id: int = 0  # same value for requests that shared one client connection
    client: tuple[str, int] = ("", 0)

    @property
    def raw_headers(self) -> list[tuple[str, str]]:
        """The headers as received, order and case kept."""
        return self.headers.raw

    @property
    def query_all(self) -> dict[str, list[str]]:
        """Every value of every query parameter."""
        return parse_qs(self.raw_query, keep_blank_values=True)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return _json.loads(self.body)


BodyType = Union[bytes, bytearray, memoryview, str, Iterable[bytes]]
HeadersArg = Union[None, Mapping[str, str], Iterable[tuple[str, str]]]


@dataclass
class Response:
    """What to answer, and optionally how to misbehave while answering.

    ``body`` may be bytes/str, or any iterable of byte chunks (e.g.
    ``repeat_bytes(10**9)``) so huge bodies are streamed, never built in memory.
    Content-Length is added unless given, unless ``chunked``, or unless the
    iterable body has no ``len()`` (then the body is sent chunked).

    Misbehaviours:
      * ``chunked``: Transfer-Encoding: chunked with several real chunks
        (``chunk_size`` bytes each; default: about a third of a bytes body).
      * ``cut_after=N``: announce the full length, send N body bytes, close.
      * ``reset``: RST the connection (SO_LINGER 0) right after reading the
        request; combined with ``cut_after``, RST after the N bytes instead.
      * ``delay``: seconds to wait before the status line.
      * ``drip``: seconds to wait between body pieces of ``drip_size`` bytes.
      * ``close``: send ``Connection: close`` and close after the response.
    """

    status: int = 200
    body: BodyType = b""
    headers: HeadersArg = None
    reason: Optional[str] = None
    _: dataclasses.KW_ONLY
    chunked: bool = False
    chunk_size: Optional[int] = None
    cut_after: Optional[int] = None
    reset: bool = False
    delay: float = 0.0
    drip: float = 0.0
    drip_size: int = 1
    close: bool = False

    def __post_init__(self) -> None:
        if self.headers is None:
            self.headers = []
        elif isinstance(self.headers, Mapping):
            self.headers = [(str(k), str(v)) for k, v in self.headers.items()]
        else:
            self.headers = [(str(k), str(v)) for k, v in self.headers]
        if isinstance(self.body, str):
            self.body = self.body.encode("utf-8")

    # Small constructors for the shapes tests need most often.

    @classmethod
    def html(cls, text: str, status: int = 200, headers: HeadersArg = None, **kw: Any) -> Response:
        """A text/html; charset=utf-8 response."""
        return cls(status, text, [("Content-Type", "text/html; charset=utf-8"), *_pairs(headers)], **kw)

    @classmethod
    def text(cls, text: str, status: int = 200, headers: HeadersArg = None, **kw: Any) -> Response:
        """A text/plain; charset=utf-8 response."""
        return cls(status, text, [("Content-Type", "text/plain; charset=utf-8"), *_pairs(headers)], **kw)

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: HeadersArg = None, **kw: Any) -> Response:
        """An application/json; charset=utf-8 response; ``obj`` may be pre-encoded bytes/str."""
        body = obj if isinstance(obj, (bytes, str)) else _json.dumps(obj, separators=(",", ":"))
        return cls(status, body, [("Content-Type", "application/json; charset=utf-8"), *_pairs(headers)], **kw)

    @classmethod
    def redirect(cls, location: str, status: int = 301, headers: HeadersArg = None, **kw: Any) -> Response:
        """A redirect with an empty body (Content-Length: 0), like t.co gives curl."""
        return cls(status, b"", [("Location", location), *_pairs(headers)], **kw)


def _pairs(headers: HeadersArg) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(str(k), str(v)) for k, v in headers]


Handler = Callable[[Request], Response]


@dataclass
class LogEntry:
    """One request received (after routing info is known, before the handler runs)."""

    time: float
    method: str
    url: str
    headers: Headers
    thread: str  # server worker thread that served the client connection
    conn_id: int
    attempt: int
    client: tuple[str, int] = ("", 0)
    # When the last write of the response began (time.time()), or None if none was sent. Set
    # before that write, so a client's next request on the same host starts after it: two
    # requests overlapped exactly when one started before the other's end.
    end: Optional[float] = None


# --------------------------------------------------------------------------- big bodies


_BLOCKS: dict[tuple[int, int], bytes] = {}
_BLOCKS_LOCK = threading.Lock()


def _block(size: int, seed: int) -> bytes:
    """A cached pseudo-random block; random bytes do not compress, like real video."""
    key = (size, seed)
    with _BLOCKS_LOCK:
        b = _BLOCKS.get(key)
        if b is None:
            b = _BLOCKS[key] = random.Random(seed).randbytes(size)
        return b


class RepeatBytes:
    """``total`` bytes made of one random block repeated; iterable many times, has len().

    Iterating yields the same block object again and again (no copying), so a
    1 GB body costs 1 MiB of memory and streams as fast as the socket allows.
    Deterministic for a given (chunk, seed), so tests can recompute digests.
    """

    def __init__(self, total: int, chunk: int = 1 << 20, seed: int = 0) -> None:
        if total < 0 or chunk <= 0:
            raise ValueError("total must be >= 0 and chunk > 0")
        self.total = total
        self.chunk = chunk
        self.seed = seed

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[bytes]:
        block = _block(self.chunk, self.seed)
        full, rest = divmod(self.total, self.chunk)
        for _ in range(full):
            yield block
        if rest:
            yield block[:rest]

    def sha256(self) -> str:
        """Hex SHA-256 of the whole content, computed by streaming."""
        h = hashlib.sha256()
        for piece in self:
            h.update(piece)
        return h.hexdigest()

    def sha1(self) -> str:
        """Hex SHA-1 of the whole content (WARC payload digests use SHA-1)."""
        h = hashlib.sha1()
        for piece in self:
            h.update(piece)
        return h.hexdigest()

    def __repr__(self) -> str:
        return f"RepeatBytes(total={self.total}, chunk={self.chunk}, seed={self.seed})"


def repeat_bytes(total: int, chunk: int = 1 << 20, seed: int = 0) -> RepeatBytes:
    """``total`` incompressible-looking bytes, streamed chunk by chunk (see RepeatBytes)."""
    return RepeatBytes(total, chunk, seed)


# --------------------------------------------------------------------------- CA and TLS


_SHARED_CA: Optional[trustme.CA] = None
_SHARED_CA_LOCK = threading.Lock()
_CTX_CACHE: "weakref.WeakKeyDictionary[trustme.CA, dict[str, ssl.SSLContext]]" = weakref.WeakKeyDictionary()
_CTX_LOCK = threading.Lock()


def shared_ca() -> trustme.CA:
    """One throwaway CA per process: creating CAs and leaf certs is the slow part."""
    global _SHARED_CA
    with _SHARED_CA_LOCK:
        if _SHARED_CA is None:
            _SHARED_CA = trustme.CA(organization_name="fixtureweb test CA")
        return _SHARED_CA


def _server_context(ca: trustme.CA, host: str) -> ssl.SSLContext:
    """A server SSLContext with a leaf cert for ``host``, cached per (CA, host)."""
    with _CTX_LOCK:
        per_ca = _CTX_CACHE.setdefault(ca, {})
        ctx = per_ca.get(host)
        if ctx is None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ca.issue_cert(host).configure_cert(ctx)
            ctx.set_alpn_protocols(["http/1.1"])
            per_ca[host] = ctx
        return ctx


# --------------------------------------------------------------------------- routing


@dataclass
class _Route:
    scheme: Optional[str]  # None: both http and https
    host: str
    path: str
    query: Optional[dict[str, list[str]]]  # None: any query
    prefix: bool
    handler: Handler
    seq: int

    def matches(self, scheme: str, host: str, path: str, raw_query: str) -> bool:
        if self.scheme is not None and self.scheme != scheme:
            return False
        if self.host != host:
            return False
        if self.prefix:
            if not path.startswith(self.path):
                return False
        elif path != self.path:
            return False
        if self.query is not None and parse_qs(raw_query, keep_blank_values=True) != self.query:
            return False
        return True

    def rank(self) -> tuple[int, int, int, int, int]:
        """Exact beats prefix, longer prefix beats shorter, query/scheme-specific beat generic."""
        return (
            0 if self.prefix else 1,
            len(self.path),
            1 if self.query is not None else 0,
            1 if self.scheme is not None else 0,
            self.seq,
        )


def _norm_host(host: str, port: Optional[int], scheme: Optional[str]) -> str:
    """Lower-case host, IPv6 bracketed, port kept only when not the scheme's default."""
    host = host.lower().strip("[]")
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    if port is None:
        return host
    if scheme is not None and _DEFAULT_PORTS.get(scheme) == port:
        return host
    if scheme is None and port in (80, 443):
        return host
    return f"{host}:{port}"


def _parse_route_url(url: str) -> tuple[Optional[str], str, str, Optional[dict[str, list[str]]]]:
    """Split a registered URL; no scheme means 'http and https'."""
    if "://" not in url:
        parts = urlsplit("//" + url)
        scheme = None
    else:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise ValueError(f"unsupported scheme in route: {url!r}")
    if not parts.hostname:
        raise ValueError(f"route needs a host: {url!r}")
    host = _norm_host(parts.hostname, parts.port, scheme)
    path = parts.path or "/"
    query = parse_qs(parts.query, keep_blank_values=True) if parts.query else None
    return scheme, host, path, query


# --------------------------------------------------------------------------- connection I/O


class _Closed(Exception):
    """The client went away (or stop() was called): end this connection quietly."""


class _BadRequest(Exception):
    """Unparseable request: answer 400 and close."""


class _Conn:
    """One client connection: a socket that may be swapped for its TLS wrapper, plus a read buffer."""

    def __init__(self, sock: socket.socket, conn_id: int, addr: tuple[str, int]) -> None:
        self.sock = sock
        self.conn_id = conn_id
        self.addr = addr
        self.buf = bytearray()
        self.last_send = 0.0  # time.time() when the latest sendall began
        self.entry: Optional[LogEntry] = None  # log entry of the request being answered

    def _fill(self) -> None:
        try:
            data = self.sock.recv(65536)
        except (OSError, ValueError) as e:  # ValueError: SSL object gone after abort
            raise _Closed(str(e)) from e
        if not data:
            raise _Closed("eof")
        self.buf += data

    def readline(self) -> bytes:
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[: i + 1])
                del self.buf[: i + 1]
                return line
            if len(self.buf) > _MAX_LINE:
                raise _BadRequest("line too long")
            self._fill()

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def sendall(self, data: Union[bytes, bytearray, memoryview]) -> None:
        self.last_send = time.time()
        try:
            self.sock.sendall(data)
        except (OSError, ValueError) as e:
            raise _Closed(str(e)) from e

    def abort(self) -> None:
        """Wake a worker blocked on this socket (used by stop(); the worker closes it)."""
        try:
            # The base-class method, so an SSLSocket's state is not touched from this thread.
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
        except (OSError, ValueError):
            pass

    def close(self, rst: bool = False) -> None:
        try:
            if rst:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                try:
                    socket.socket.shutdown(self.sock, socket.SHUT_WR)
                except OSError:
                    pass
            self.sock.close()
        except (OSError, ValueError):
            pass


# --------------------------------------------------------------------------- the server


class FixtureWeb:
    """A threaded HTTP/HTTPS forward proxy on 127.0.0.1 that answers for every host itself.

    Use as a context manager or call start()/stop(). Register answers with
    ``route()`` / ``add()``; inspect traffic with ``log`` / ``hits()``.
    """

    def __init__(self, tmp_dir: Union[str, Path, None] = None, ca: Optional[trustme.CA] = None) -> None:
        self.ca = ca if ca is not None else shared_ca()
        if tmp_dir is None:
            tmp_dir = tempfile.mkdtemp(prefix="fixtureweb-")
        self.tmp_dir = Path(tmp_dir)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.ca_path = str(self.tmp_dir / "fixtureweb-ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_path)

        self.fallback: Optional[Handler] = None  # answers unmatched requests instead of the 404
        # Tracebacks of handler exceptions (answered with a 500) and of body generators that raised.
        self.errors: list[str] = []
        # Seconds added before every response's status line (on top of Response.delay): a web
        # with realistic latency for throughput and politeness tests.
        self.latency: float = 0.0
        # Every request goes through ``policy(request, handler)`` when set (tests/chaos.py): it
        # gets the handler that would answer (the 404 one when no route matches) and returns
        # the response to send, so it can misbehave around the real answer.
        self.policy: Optional[Callable[[Request, Handler], Response]] = None
        # ``stall_tls(host, n)`` -> True: the n-th CONNECT to ``host`` (1-based, port dropped)
        # never finishes its TLS handshake: the ClientHello is read and ignored until the client
        # gives up and closes (or the server stops). A handshake timeout, on demand.
        self.stall_tls: Optional[Callable[[str, int], bool]] = None
        self._connects: dict[str, int] = {}

        self._routes: list[_Route] = []
        self._seq = itertools.count()
        self._conn_ids = itertools.count(1)
        self._lock = threading.Lock()
        self._log: list[LogEntry] = []
        self._tunnels: list[str] = []
        self._attempts: dict[str, int] = {}
        self._conns: set[_Conn] = set()
        self._threads: set[threading.Thread] = set()
        self._stopping = threading.Event()
        self._listener: Optional[socket.socket] = None
        self._accept_thread: Optional[threading.Thread] = None
        self.port = 0

    # ----------------------------------------------------------------- lifecycle

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def proxies(self) -> dict[str, str]:
        """For ``requests.get(url, proxies=web.proxies, verify=web.ca_path)``."""
        return {"http": self.proxy_url, "https": self.proxy_url}

    def env(self) -> dict[str, str]:
        """Environment that routes requests-based code through this proxy and trusts its CA."""
        p = self.proxy_url
        return {
            "HTTP_PROXY": p,
            "HTTPS_PROXY": p,
            "http_proxy": p,
            "https_proxy": p,
            "REQUESTS_CA_BUNDLE": self.ca_path,
            "NO_PROXY": "",
            "no_proxy": "",
        }

    def start(self) -> FixtureWeb:
        if self._listener is not None:
            return self
        self._stopping.clear()
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", 0))
        ls.listen(128)
        ls.settimeout(0.25)  # fallback wake-up; stop() also shuts the socket down
        self._listener = ls
        self.port = ls.getsockname()[1]
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"fixtureweb-accept-{self.port}", daemon=True
        )
        self._accept_thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Close the listener and every open connection, then wait briefly for workers."""
        if self._listener is None:
            return
        self._stopping.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        try:
            self._listener.close()
        except OSError:
            pass
        self._listener = None
        with self._lock:
            conns = list(self._conns)
            threads = list(self._threads)
        for c in conns:
            c.abort()
        deadline = time.monotonic() + timeout
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in threads if t.is_alive()]
        if alive:  # e.g. a handler that blocks forever; daemon threads, so harmless
            logger.debug("fixtureweb: %d worker(s) still running after stop(): %s", len(alive), alive)

    def __enter__(self) -> FixtureWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- routing API

    def route(self, url: str, handler: Handler, *, prefix: bool = False) -> None:
        """Answer ``url`` (scheme optional = http and https) with ``handler(request)``.

        Matching is on scheme, host and path; a query in ``url`` must then equal
        the request's query (order-insensitive), otherwise the query is ignored.
        ``prefix=True`` matches any path starting with the given path. The most
        specific route wins; re-registering the same URL replaces it.
        """
        scheme, host, path, query = _parse_route_url(url)
        r = _Route(scheme, host, path, query, prefix, handler, next(self._seq))
        with self._lock:
            self._routes = [
                x
                for x in self._routes
                if (x.scheme, x.host, x.path, x.query, x.prefix) != (scheme, host, path, query, prefix)
            ]
            self._routes.append(r)

    def add(
        self,
        url: str,
        body: Union[bytes, str, RepeatBytes] = b"",
        status: int = 200,
        headers: HeadersArg = None,
        *,
        prefix: bool = False,
        **behaviour: Any,
    ) -> None:
        """Register a static answer; ``behaviour`` takes Response keywords (reason, chunked, cut_after, ...)."""
        if not isinstance(body, (bytes, str, RepeatBytes)):
            raise TypeError("add() needs bytes, str or RepeatBytes (re-iterable); use route() for generators")
        pairs = _pairs(headers)
        Response(status, b"", pairs, **behaviour)  # validate keywords now, not at request time

        def static(_req: Request) -> Response:
            return Response(status, body, list(pairs), **behaviour)

        self.route(url, static, prefix=prefix)

    def clear_routes(self) -> None:
        with self._lock:
            self._routes = []

    def _find(self, scheme: str, host: str, path: str, raw_query: str) -> Optional[Handler]:
        with self._lock:
            routes = list(self._routes)
        best: Optional[_Route] = None
        for r in routes:
            if r.matches(scheme, host, path, raw_query) and (best is None or r.rank() > best.rank()):
                best = r
        if best is not None:
            return best.handler
        return self.fallback

    # ----------------------------------------------------------------- inspection API

    @property
    def log(self) -> list[LogEntry]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._log)

    @property
    def tunnels(self) -> list[str]:
        """Every CONNECT authority asked for ("host:port"), even if TLS then failed."""
        with self._lock:
            return list(self._tunnels)

    def hits(self, url_prefix: str = "") -> int:
        """How many requests had a URL starting with ``url_prefix``."""
        with self._lock:
            return sum(1 for e in self._log if e.url.startswith(url_prefix))

    def requests_to(self, url_prefix: str = "") -> list[LogEntry]:
        """The log entries whose URL starts with ``url_prefix``."""
        with self._lock:
            return [e for e in self._log if e.url.startswith(url_prefix)]

    def hosts(self) -> set[str]:
        """Every host contacted, by plain request or by CONNECT (port dropped)."""
        with self._lock:
            out = {urlsplit(e.url).hostname or "" for e in self._log}
            out |= {urlsplit("//" + t).hostname or "" for t in self._tunnels}
        return out

    def clear_log(self) -> None:
        """Forget the log, tunnels and attempt counters (routes stay)."""
        with self._lock:
            self._log.clear()
            self._tunnels.clear()
            self._attempts.clear()
            self._connects.clear()

    # ----------------------------------------------------------------- serving

    def _accept_loop(self) -> None:
        ls = self._listener
        assert ls is not None
        while not self._stopping.is_set():
            try:
                sock, addr = ls.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            if self._stopping.is_set():
                sock.close()
                break
            sock.settimeout(_IO_TIMEOUT)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(sock, next(self._conn_ids), addr)
            t = threading.Thread(
                target=self._serve_conn, args=(conn,), name=f"fixtureweb-conn-{conn.conn_id}", daemon=True
            )
            with self._lock:
                self._conns.add(conn)
                self._threads.add(t)
            t.start()

    def _serve_conn(self, conn: _Conn) -> None:
        rst = False
        try:
            rst = self._serve_requests(conn, scheme="http", authority=None)
        except _Closed as e:
            logger.debug("fixtureweb: connection %d closed: %s", conn.conn_id, e)
        except Exception:  # e.g. a body generator that raised: keep serving, but let tests see it
            tb = traceback.format_exc()
            with self._lock:
                self.errors.append(f"connection {conn.conn_id}\n{tb}")
            logger.warning("fixtureweb: connection %d failed\n%s", conn.conn_id, tb)
        finally:
            conn.close(rst=rst)
            with self._lock:
                self._conns.discard(conn)
                self._threads.discard(threading.current_thread())

    def _serve_requests(self, conn: _Conn, scheme: str, authority: Optional[str]) -> bool:
        """Serve requests until the connection should close; returns True to close with RST.

        ``authority`` is the CONNECT target when inside a tunnel, None on the
        proxy connection itself (absolute-form requests).
        """
        while not self._stopping.is_set():
            try:
                line = conn.readline()
                while line in (b"\r\n", b"\n"):  # tolerate stray CRLFs between requests
                    line = conn.readline()
            except _Closed:
                return False
            try:
                method, target, version, headers = self._read_head(conn, line)
            except _BadRequest as e:
                self._send_simple(conn, 400, f"bad request: {e}")
                return False

            if method == "CONNECT" and authority is None:
                return self._tunnel(conn, target)

            try:
                req = self._build_request(conn, method, target, version, headers, scheme, authority)
                if req.headers.get("Expect", "").lower() == "100-continue":
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                req.body = self._read_body(conn, req.headers)
            except _BadRequest as e:
                self._send_simple(conn, 400, f"bad request: {e}")
                return False

            resp = self._dispatch(req)
            if resp.reset and resp.cut_after is None:
                if resp.delay > 0:
                    self._stopping.wait(resp.delay)
                return True
            conn.last_send = 0.0
            try:
                keep = self._send_response(conn, req, resp)
            finally:
                if conn.entry is not None and conn.last_send:
                    conn.entry.end = conn.last_send
            if resp.reset:
                return True
            if not keep:
                return False
        return False

    def _read_head(self, conn: _Conn, line: bytes) -> tuple[str, str, str, Headers]:
        try:
            text = line.decode("latin-1").rstrip("\r\n")
            method, target, version = text.split(" ", 2)
        except ValueError:
            raise _BadRequest("malformed request line") from None
        if not version.startswith("HTTP/"):
            raise _BadRequest("not HTTP")
        raw: list[tuple[str, str]] = []
        while True:
            h = conn.readline()
            if h in (b"\r\n", b"\n"):
                break
            if len(raw) >= _MAX_HEADERS:
                raise _BadRequest("too many headers")
            name, sep, value = h.decode("latin-1").partition(":")
            if not sep:
                raise _BadRequest("malformed header")
            raw.append((name.strip(), value.strip()))
        return method.upper(), target, version, Headers(raw)

    def _build_request(
        self,
        conn: _Conn,
        method: str,
        target: str,
        version: str,
        headers: Headers,
        scheme: str,
        authority: Optional[str],
    ) -> Request:
        if "://" in target:  # absolute-form: the proxy case, or forwarding inside a tunnel
            parts = urlsplit(target)
            scheme = parts.scheme.lower()
            host = _norm_host(parts.hostname or "", parts.port, scheme)
            path, raw_query = parts.path or "/", parts.query
        else:  # origin-form: inside a tunnel, or a client talking to us as an origin server
            src = authority if authority is not None else headers.get("Host", "")
            hp = urlsplit("//" + src)
            try:
                port = hp.port
            except ValueError:
                raise _BadRequest("bad authority") from None
            host = _norm_host(hp.hostname or "", port, scheme)
            path, _, raw_query = target.partition("?")
            path = path or "/"
        if not host:
            raise _BadRequest("no host")
        url = f"{scheme}://{host}{path}" + (f"?{raw_query}" if raw_query else "")
        with self._lock:
            attempt = self._attempts[url] = self._attempts.get(url, 0) + 1
            conn.entry = LogEntry(
                time=time.time(),
                method=method,
                url=url,
                headers=headers,
                thread=threading.current_thread().name,
                conn_id=conn.conn_id,
                attempt=attempt,
                client=conn.addr,
            )
            self._log.append(conn.entry)
        return Request(
            method=method,
            url=url,
            scheme=scheme,
            host=host,
            path=path,
            query={k: v[0] for k, v in parse_qs(raw_query, keep_blank_values=True).items()},
            headers=headers,
            attempt=attempt,
            raw_query=raw_query,
            version=version,
            target=target,
            conn_id=conn.conn_id,
            client=conn.addr,
        )

    def _read_body(self, conn: _Conn, headers: Headers) -> bytes:
        if "chunked" in _tokens(headers.get("Transfer-Encoding")):
            out = bytearray()
            while True:
                size_line = conn.readline().split(b";", 1)[0].strip()
                try:
                    size = int(size_line, 16)
                except ValueError:
                    raise _BadRequest("bad chunk size") from None
                if size == 0:
                    while conn.readline() not in (b"\r\n", b"\n"):  # trailers
                        pass
                    return bytes(out)
                out += conn.read_exact(size)
                conn.readline()
        length = headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError:
            raise _BadRequest("bad Content-Length") from None
        return conn.read_exact(n) if n > 0 else b""

    def _tunnel(self, conn: _Conn, target: str) -> bool:
        """Answer CONNECT, then serve the tunnelled requests (TLS unless the client speaks plain HTTP)."""
        hp = urlsplit("//" + target)
        try:
            port = hp.port or 443
        except ValueError:
            self._send_simple(conn, 400, "bad CONNECT target")
            return False
        if not hp.hostname:
            self._send_simple(conn, 400, "bad CONNECT target")
            return False
        host = hp.hostname.lower()
        with self._lock:
            self._tunnels.append(f"{_norm_host(host, None, None)}:{port}")
            nth = self._connects[host] = self._connects.get(host, 0) + 1
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if conn.buf:  # the client already sent TLS bytes we buffered; we cannot hand them to ssl
            logger.debug("fixtureweb: data pipelined after CONNECT, dropping tunnel")
            return False
        try:
            first = conn.sock.recv(1, socket.MSG_PEEK)
        except OSError:
            return False
        if not first:
            return False
        if first[0] != 0x16:  # not a TLS handshake record: plain HTTP through the tunnel
            scheme = "http"
        else:
            scheme = "https"
            if self.stall_tls is not None and self.stall_tls(host, nth):
                self._stall(conn)
                return False
            ctx = _server_context(self.ca, host)
            try:
                tls = ctx.wrap_socket(conn.sock, server_side=True, do_handshake_on_connect=False)
                conn.sock = tls  # so stop() can reach it before the handshake finishes
                tls.do_handshake()
            except (OSError, ssl.SSLError, ValueError) as e:
                logger.debug("fixtureweb: TLS handshake for %s failed: %s", host, e)
                return False
        authority = _norm_host(host, port, scheme)
        return self._serve_requests(conn, scheme=scheme, authority=authority)

    def _stall(self, conn: _Conn) -> None:
        """Read and drop whatever the client sends (its ClientHello) until it hangs up."""
        try:
            while not self._stopping.is_set() and conn.sock.recv(65536):
                pass
        except (OSError, ValueError):
            pass

    def _dispatch(self, req: Request) -> Response:
        handler = self._find(req.scheme, req.host, req.path, req.raw_query)
        if handler is None and self.policy is None:
            return _not_found(req)
        try:
            if self.policy is not None:
                resp = self.policy(req, handler or _not_found)
            else:
                resp = handler(req)
            if isinstance(resp, (bytes, str)):
                resp = Response(200, resp)
            if not isinstance(resp, Response):
                raise TypeError(f"handler returned {type(resp).__name__}, not Response")
            return resp
        except Exception:
            tb = traceback.format_exc()
            with self._lock:
                self.errors.append(f"{req.method} {req.url}\n{tb}")
            logger.warning("fixtureweb: handler for %s %s raised\n%s", req.method, req.url, tb)
            return Response.text(f"handler error\n{tb}", status=500)

    def _send_simple(self, conn: _Conn, status: int, text: str) -> None:
        body = text.encode()
        head = (
            f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n"
        ).encode("latin-1")
        try:
            conn.sendall(head + body)
        except _Closed:
            pass

    def _send_response(self, conn: _Conn, req: Request, resp: Response) -> bool:
        """Write ``resp`` (misbehaving as asked); returns whether to keep the connection open."""
        delay = resp.delay + self.latency
        if delay > 0 and self._stopping.wait(delay):
            raise _Closed("stopping")

        headers: list[tuple[str, str]] = list(resp.headers)  # type: ignore[arg-type]
        given = Headers(headers)
        body = resp.body
        no_body_status = resp.status < 200 or resp.status in (204, 304)
        send_body = req.method != "HEAD" and not no_body_status

        length: Optional[int]
        if isinstance(body, (bytes, bytearray, memoryview)):
            length = len(body)
        else:
            try:
                length = len(body)  # type: ignore[arg-type]
            except TypeError:
                length = None
        chunked = resp.chunked or "chunked" in _tokens(given.get("Transfer-Encoding"))
        if not chunked and length is None and "Content-Length" not in given and not no_body_status:
            chunked = True  # an iterable of unknown length: chunked is the only honest framing
        if chunked and "Transfer-Encoding" not in given:
            headers.append(("Transfer-Encoding", "chunked"))
        if not chunked and "Content-Length" not in given and not no_body_status:
            headers.append(("Content-Length", str(length)))

        client_close = "close" in _tokens(req.headers.get("Connection")) or (
            req.version == "HTTP/1.0" and "keep-alive" not in _tokens(req.headers.get("Connection"))
        )
        # A cut response looks like a normal keep-alive one on the wire; it just dies early.
        announce_close = resp.close or client_close or "close" in _tokens(given.get("Connection"))
        if announce_close and "Connection" not in given:
            headers.append(("Connection", "close"))
        close = announce_close or resp.cut_after is not None

        reason = resp.reason
        if reason is None:
            try:
                reason = http.HTTPStatus(resp.status).phrase
            except ValueError:
                reason = "Unknown"
        head = f"HTTP/1.1 {resp.status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        head_bytes = head.encode("latin-1")

        if not send_body:
            conn.sendall(head_bytes)
            return not close

        pieces = self._body_pieces(body, resp, chunked)
        if resp.drip > 0:
            pieces = _split(pieces, max(1, resp.drip_size))

        # The head goes out with the first body piece (fewer packets), then each piece is sent
        # as soon as it is produced, so slow generators and drips are really slow on the wire.
        pending: Optional[bytes] = head_bytes
        sent = 0
        first = True
        for piece in pieces:
            if not piece:
                continue
            if resp.drip > 0 and not first:
                if self._stopping.wait(resp.drip):
                    raise _Closed("stopping")
            first = False
            full = len(piece)
            cut = resp.cut_after is not None and sent + full > resp.cut_after
            if cut:
                piece = memoryview(piece)[: resp.cut_after - sent]  # type: ignore[operator]
            if chunked:  # a cut chunk announces its full size, then stops mid-chunk
                parts: list[Any] = [b"%x\r\n" % full, piece] + ([] if cut else [b"\r\n"])
            else:
                parts = [piece]
            small = sum(len(p) for p in parts) <= 65536
            if small:
                conn.sendall((pending or b"") + b"".join(bytes(p) for p in parts))
            else:
                if pending is not None:
                    conn.sendall(pending)
                for part in parts:
                    mv = memoryview(part)
                    for i in range(0, len(mv), _SEND_SLICE):
                        conn.sendall(mv[i : i + _SEND_SLICE])
            pending = None
            sent += len(piece)
            if cut:
                return False  # caller closes (or resets, if asked)
        tail = (pending or b"") + (b"0\r\n\r\n" if chunked else b"")
        if tail:
            conn.sendall(tail)
        if resp.cut_after is not None:  # the cut point was at or past the end: nothing to cut
            return False
        return not close

    @staticmethod
    def _body_pieces(body: BodyType, resp: Response, chunked: bool) -> Iterable[bytes]:
        """The body as a stream of pieces; bytes bodies are split so chunked mode has several chunks."""
        if isinstance(body, (bytes, bytearray, memoryview)):
            mv = memoryview(body)
            if not mv:
                return ()
            if chunked:
                size = resp.chunk_size or max(1, min(65536, -(-len(mv) // 3)))
            else:
                size = _SEND_SLICE
            return (mv[i : i + size] for i in range(0, len(mv), size))  # type: ignore[misc]
        if chunked and resp.chunk_size:
            return _split(iter(body), resp.chunk_size)  # type: ignore[arg-type]
        return body  # type: ignore[return-value]


def _not_found(_req: Request) -> Response:
    return Response.html("<!DOCTYPE html>\n<title>Not Found</title>\n<p>not found</p>\n", status=404)


def _split(pieces: Iterable[Any], size: int) -> Iterator[memoryview]:
    """Re-cut a stream of byte pieces into pieces of at most ``size`` bytes."""
    for p in pieces:
        mv = memoryview(p)
        for i in range(0, len(mv), size):
            yield mv[i : i + size]
