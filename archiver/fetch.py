"""The only module that speaks HTTP: every exchange is written to the WARC as it is read.

Recording happens here, at the transport layer, from requests' own raw response (no
monkeypatching of http.client as warcio's `capture_http` does: it leaks state behind proxies).
What is stored, and how it differs from the bytes on the wire:

* status line and headers: names, case, order and repeats as http.client parsed them; the
  status line is rebuilt from version, code and reason. Folded header lines are unfolded.
* body: bytes as received, Content-Encoding kept. A chunked body is stored de-chunked, its
  `Transfer-Encoding` header renamed `X-Archiver-Transfer-Encoding` and a `Content-Length`
  of the stored bytes added, so `warcio check` and the WARC spec agree on its digest.
* request: rebuilt from what requests sent (origin-form request line, Host first); Cookie and
  Authorization are left out unless `record_credentials`, Proxy-Authorization always.
"""

from __future__ import annotations

import http.cookiejar
import ipaddress
import itertools
import logging
import random
import re
import socket
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Callable, Iterable, Iterator, Optional
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from urllib3.util.wait import wait_for_read
from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt

from archiver.config import Config
from archiver.errors import RETRY_STATUSES, BlockedURL
from archiver.hosts import HostGate
from archiver.models import RecordRef
from archiver.warc import Payload, WarcSink

log = logging.getLogger(__name__)

FETCH_WORKERS = 4  # concurrent fetches of one article's requisites, media or embed assets
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CREDENTIAL_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})
# Meant for the proxy, not the origin: never in a request record, even with `record_credentials`.
PROXY_HEADERS = frozenset({"proxy-authorization"})
CHUNK = 1 << 20
# Bodies handed to parsers (pages, JSON, CSS) are decoded up to this size, streamed from the spool:
# a gzip bomb stops here, and the encoded body is never held whole. Several fetches decode at once
# (4 workers) and a parse costs about three times the body: 16 MiB keeps that well under 300 MB,
# while the largest real pages are a few MB.
DECODED_LIMIT = 16 * 2**20

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


@dataclass
class Exchange:
    """One request/response attempt, as recorded."""

    url: str
    status: Optional[int] = None
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    payload: Optional[Payload] = None
    records: list[RecordRef] = field(default_factory=list)
    error: Optional[str] = None
    transient: bool = False  # worth another attempt
    truncated: Optional[str] = None
    retry_after: Optional[float] = None
    refused: bool = False  # not fetched: a private address or a scheme we never fetch
    attempts: int = 1  # for the last one of a URL: how many were made

    def header(self, name: str) -> Optional[str]:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None


@dataclass
class FetchResult:
    """The outcome of fetching one URL, redirects followed hop by hop."""

    url: str
    final_url: str
    status: Optional[int] = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: Optional[bytes] = None  # decoded (Content-Encoding removed), only when asked for
    size: Optional[int] = None  # payload bytes as stored
    sha256: Optional[str] = None  # of the payload as stored
    records: list[RecordRef] = field(default_factory=list)  # every hop and attempt, in order
    error: Optional[str] = None
    truncated: Optional[str] = None
    attempts: int = 0
    redirects: list[str] = field(default_factory=list)
    refused: bool = False  # `error` says why this URL (or a hop of it) was never asked for

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300 and not self.truncated

    @property
    def content_type(self) -> Optional[str]:
        return header_value(self.headers, "content-type")

    @property
    def response(self) -> Optional[RecordRef]:
        """The final response (or revisit) record."""
        for ref in reversed(self.records):
            if ref.record_type in ("response", "revisit"):
                return ref
        return None

    def json(self) -> object | None:
        import json

        if not self.body:
            return None
        try:
            return json.loads(self.body.decode("utf-8", "replace"))
        except ValueError:
            return None


def header_value(headers: Iterable[tuple[str, str]], name: str) -> Optional[str]:
    name = name.lower()
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


# --- what may be fetched -------------------------------------------------------------------


# Names that mean "this machine" or "this private network" by convention or reservation, whatever
# a resolver (ours, or a proxy's, which we cannot ask) makes of them: RFC 6761 localhost, the usual
# /etc/hosts aliases of loopback, mDNS `.local`, RFC 8375 `home.arpa`, and the private-use
# `.internal` (cloud metadata services answer there: metadata.google.internal).
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "localhost6", "localhost6.localdomain6",
                          "ip6-localhost", "ip6-loopback"})
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")
# RFC 6598 shared address space (carrier-grade NAT): not `is_private` to Python, but never a public
# web server, and cloud metadata endpoints live there (100.100.100.200).
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: an IPv4 address in the low 32 bits


def parse_ip(host: str) -> Optional[ipaddress._BaseAddress]:
    """An IP literal in any spelling a resolver accepts (decimal, octal, hex, short, a trailing
    dot, IPv6 with a zone), else None."""
    host = host.strip("[]")
    if host.endswith(".") and ":" not in host:
        host = host[:-1]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:  # inet_aton takes the legacy forms: 2130706433, 0177.0.0.1, 0x7f.1, 127.1
        return ipaddress.ip_address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def is_public(ip: ipaddress._BaseAddress) -> bool:
    """An ordinary public unicast address. IPv6 forms that carry an IPv4 address (mapped, 6to4,
    NAT64) are judged by that address; the shared address space 100.64.0.0/10 is not public."""
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
        return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                    or ip.is_reserved or ip.is_unspecified or ip.is_site_local)
    return not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
        or ip.is_reserved or ip.is_unspecified or ip in _SHARED_ADDRESS_SPACE
    )


def _connect_host(url: str) -> str:
    """The host requests will connect to for `url`. It parses URLs its own way (urllib3), decodes
    %XX and applies IDNA, so urlsplit's host alone can be fooled: `http://127.0.0.1\\@example.com/`
    and `http://%31%32%37.0.0.1/` both reach 127.0.0.1."""
    prepared = requests.models.PreparedRequest()
    prepared.prepare_url(url, None)
    return (urllib3.util.parse_url(prepared.url).host or "").strip("[]").lower()


def _check_host(url: str, host: str) -> None:
    name = host.rstrip(".").lower()
    if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
        raise BlockedURL(url, f"refused: {host} is a local name (use --allow-private)")
    ip = parse_ip(host)
    if ip is not None and not is_public(ip):
        raise BlockedURL(url, f"refused: private or reserved address {ip} (use --allow-private)")


def check_url(url: str, *, allow_private: bool = False, resolve: bool = False) -> None:
    """Refuse anything but http(s) to a public address, before any byte is sent.

    Both the host as urlsplit reads it and the host requests will connect to are checked, by
    name and as an IP literal in any spelling; with `resolve` (no proxy), every address the name
    resolves to as well. Connections made without a proxy are checked again once connected
    (`_PublicOnlyAdapter`), so a DNS answer that changed since cannot slip through.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise BlockedURL(url, f"malformed URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise BlockedURL(url, f"only http and https are fetched, not {parts.scheme or 'a relative URL'}")
    if not host:
        raise BlockedURL(url, "no host in URL")
    if allow_private:
        return
    try:
        connect_host = _connect_host(url)
    except (requests.exceptions.RequestException, ValueError) as exc:
        raise BlockedURL(url, f"malformed URL ({_short(exc)})") from None
    for name in dict.fromkeys([host, connect_host]):
        _check_host(url, name)
    if parse_ip(connect_host) is None and resolve:
        try:
            infos = socket.getaddrinfo(connect_host, parts.port or (443 if parts.scheme == "https" else 80))
        except (OSError, UnicodeError):
            return  # let the fetch itself report the DNS failure
        for info in infos:
            addr = ipaddress.ip_address(info[4][0].split("%")[0])
            if not is_public(addr):
                raise BlockedURL(url, f"refused: {connect_host} resolves to private address {addr} "
                                      "(use --allow-private)")


def retry_after_seconds(value: Optional[str]) -> Optional[float]:
    """`Retry-After` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # asctime and "-0000" forms parse naive; HTTP dates are all GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - time.time())


def decode_body(data: bytes | Iterable[bytes], encoding: Optional[str], limit: int = DECODED_LIMIT) -> bytes:
    """Undo gzip/deflate for parsing (the WARC keeps the encoded bytes), at most `limit` bytes.

    `data` may be the body in pieces (`Payload.chunks()`): they are decoded as they come, so
    neither a bomb nor a big encoded body is ever held whole. Concatenated gzip members are
    all read, as browsers do. Bytes that are not what the header says are handed over as they
    are; a stream that breaks off gives what it decoded up to there.
    """
    pieces = iter([data] if isinstance(data, (bytes, bytearray, memoryview)) else data)
    enc = (encoding or "").strip().lower()
    out: list[bytes] = []
    size = 0
    if enc in ("gzip", "x-gzip", "deflate"):
        first = next(pieces, b"")
        for wbits in ((47,) if enc != "deflate" else (15, -15)):
            try:
                return _inflate(first, pieces, wbits, limit)
            except zlib.error:
                continue
        pieces = itertools.chain([first], pieces)  # not what the header says: as they are
    for piece in pieces:
        piece = bytes(piece[: limit - size])
        out.append(piece)
        size += len(piece)
        if size >= limit:
            break
    return b"".join(out)


def _inflate(first: bytes, rest: Iterator[bytes], wbits: int, limit: int) -> bytes:
    """Decompress `first` then `rest` until `limit` output bytes; raises zlib.error only at the start."""
    out: list[bytes] = []
    size = 0
    d = zlib.decompressobj(wbits)
    pending = first
    while size < limit:
        try:
            piece = d.decompress(pending, limit - size)
        except zlib.error:
            if size or out:
                break  # corrupt further on: what was decoded so far
            raise
        out.append(piece)
        size += len(piece)
        if d.unconsumed_tail:
            pending = d.unconsumed_tail  # output was capped: more to decode from this input
            continue
        if d.eof:
            pending = d.unused_data or next(rest, None) if wbits != -15 else None
            if not pending:
                break
            d = zlib.decompressobj(wbits)  # another gzip member follows
            continue
        pending = next(rest, None)
        if pending is None:
            break  # the body ended mid-stream (cut short): what there is
    return b"".join(out)


def load_cookies(path: str) -> http.cookiejar.CookieJar:
    jar = http.cookiejar.MozillaCookieJar(path)
    jar.load(ignore_discard=True, ignore_expires=True)
    for cookie in jar:
        if cookie.expires == 0:  # browsers' exports write 0 for session cookies, not "expired"
            cookie.expires = None
            cookie.discard = True
    return jar


class _PublicOnly:
    """For urllib3 connections made without a proxy: once connected, and before a byte is sent,
    the peer's address must be public (check_url checked a DNS answer; this checks the one used)."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        try:
            peer = sock.getpeername()[0]
        except OSError:
            peer = ""
        ip = parse_ip(peer.split("%")[0])
        if ip is None or not is_public(ip):
            sock.close()
            host = self.host  # type: ignore[attr-defined]
            raise BlockedURL(host, f"refused: {host} connected to private address {peer} (use --allow-private)")
        return sock


class _PublicHTTPConnection(_PublicOnly, urllib3.connection.HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicOnly, urllib3.connection.HTTPSConnection):
    pass


class _PublicHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(requests.adapters.HTTPAdapter):
    """Direct connections go to public addresses only; proxied ones (the proxy's pools) as usual."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool, "https": _PublicHTTPSPool}


# --- the fetcher ---------------------------------------------------------------------------


class Fetcher:
    """Fetches URLs with retries and redirects, recording every exchange into a WarcSink."""

    def __init__(self, config: Config, sink: Optional[WarcSink], gate: Optional[HostGate] = None):
        """With `sink=None` nothing is recorded (`archiver extract` reading a live page).

        `gate` is shared by every fetcher of a process (a crawl's workers); by default one from
        the config's per-host settings.
        """
        self.config = config
        self.sink = sink
        self.gate = gate or HostGate(config.per_host, config.delay, config.cdn_per_host)
        self.session = requests.Session()
        self.session.headers.update(
            {
                "User-Agent": config.user_agent,
                # only what we can decode ourselves: parsers get plain bytes, the WARC the wire bytes
                "Accept-Encoding": "gzip, deflate",
                "Accept": "*/*",
            }
        )
        for name, value in config.headers:
            self.session.headers[name] = value
        if config.proxy:
            self.session.proxies = {"http": config.proxy, "https": config.proxy}
        # Passed per request: requests lets REQUESTS_CA_BUNDLE override a Session's verify.
        self._verify = {"verify": config.ca_bundle} if config.ca_bundle else {}
        if config.cookies_file:
            self.session.cookies.update(load_cookies(config.cookies_file))
        adapter_cls = requests.adapters.HTTPAdapter if config.allow_private else _PublicOnlyAdapter
        adapter = adapter_cls(pool_connections=16, pool_maxsize=16, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def uses_proxy(self, url: str) -> bool:
        if self.config.proxy:
            return True
        return bool(requests.utils.get_environ_proxies(url))

    # public ---------------------------------------------------------------------------------

    def fetch(
        self,
        url: str,
        *,
        want_body: bool | Callable[[FetchResult], bool] = True,
        headers: Optional[dict[str, str]] = None,
        follow: bool = True,
        stop_at: Optional[callable] = None,
        dedup: bool = True,
    ) -> FetchResult:
        """GET `url`, following redirects hop by hop (each recorded), with short retries.

        `stop_at(url) -> bool` ends the chain before fetching a hop (e.g. a tweet permalink
        whose page holds nothing without JavaScript). `want_body` may be a predicate on the
        result (its final URL and headers), so only bodies that will be parsed are read.
        """
        result = FetchResult(url=url, final_url=url)
        current = url
        seen = {url}
        for _hop in range(self.config.max_redirects + 1):
            try:
                check_url(current, allow_private=self.config.allow_private, resolve=not self.uses_proxy(current))
            except BlockedURL as exc:
                log.warning("%s", exc)
                result.error, result.refused = exc.reason, True
                return result
            ex = self._exchange(current, headers or {}, dedup=dedup)
            result.records.extend(ex.records)
            result.attempts += ex.attempts
            result.final_url = current
            result.status, result.headers = ex.status, ex.headers
            result.error, result.truncated, result.refused = ex.error, ex.truncated, ex.refused
            location = ex.header("location") if ex.status in REDIRECT_STATUSES else None
            if location and follow and not ex.error:
                if ex.payload:
                    ex.payload.close()
                nxt = urljoin(current, location.strip())
                if nxt in seen:
                    result.error = f"redirect loop at {nxt}"
                    return result
                seen.add(nxt)
                result.redirects.append(nxt)
                if stop_at and stop_at(nxt):
                    result.final_url = nxt
                    return result
                current = nxt
                continue
            self._finish(result, ex, want_body)
            return result
        result.error = f"more than {self.config.max_redirects} redirects"
        return result

    # internals ------------------------------------------------------------------------------

    def _finish(self, result: FetchResult, ex: Exchange, want_body: bool | Callable[[FetchResult], bool]) -> None:
        if ex.payload is None:
            return
        with ex.payload as payload:
            result.size = payload.length
            result.sha256 = payload.sha256
            if callable(want_body):
                want_body = want_body(result)  # decided on the final response's headers
            if want_body:
                result.body = decode_body(payload.chunks(), ex.header("content-encoding"))

    def _exchange(self, url: str, headers: dict[str, str], *, dedup: bool) -> Exchange:
        """One URL, retried on transient failures: a few attempts, seconds apart."""
        attempts: list[Exchange] = []

        def attempt() -> Exchange:
            if attempts and attempts[-1].payload:
                attempts[-1].payload.close()  # a failed attempt's body is in the WARC already
            ex = self._attempt(url, headers, dedup=dedup)
            attempts.append(ex)
            return ex

        retrying = Retrying(
            stop=stop_after_attempt(self.config.retries + 1),
            wait=self._wait,
            retry=retry_if_result(self._should_retry),
            retry_error_callback=lambda state: state.outcome.result(),
            before_sleep=self._log_retry,
        )
        last = retrying(attempt)
        last.records = [r for ex in attempts for r in ex.records]
        last.attempts = len(attempts)
        return last

    def _should_retry(self, ex: Exchange) -> bool:
        if ex.transient:
            return True
        if ex.status in RETRY_STATUSES:
            if ex.retry_after is not None and ex.retry_after > self.config.retry_after_max:
                ex.error = f"HTTP {ex.status}, Retry-After {ex.retry_after:.0f}s is longer than we wait"
                return False
            return True
        return False

    def _wait(self, state: RetryCallState) -> float:
        ex: Exchange = state.outcome.result()
        if ex.retry_after is not None:
            return min(ex.retry_after, self.config.retry_after_max)
        base = self.config.backoff * (2 ** (state.attempt_number - 1))
        return base + random.uniform(0, base / 2)

    @staticmethod
    def _log_retry(state: RetryCallState) -> None:
        ex: Exchange = state.outcome.result()
        why = ex.error or f"HTTP {ex.status}"
        log.info("retrying %s (attempt %d): %s", ex.url, state.attempt_number + 1, why)

    def _attempt(self, url: str, headers: dict[str, str], *, dedup: bool) -> Exchange:
        host = (urlsplit(url).hostname or "").lower()
        self.gate.acquire(host)
        ex = Exchange(url=url)
        try:
            ex = self._attempt_unguarded(url, headers, dedup=dedup)
            return ex
        finally:
            if ex.retry_after is not None:
                # A gate that can defer work (a crawl's, with max_wait) takes the whole push-back;
                # one that can only block (a capture's) never blocks longer than we would wait.
                wait = ex.retry_after if self.gate.max_wait is not None else min(
                    ex.retry_after, self.config.retry_after_max)
                self.gate.push_back(host, wait)
            failed = ex.transient or (ex.status is not None and ex.status in RETRY_STATUSES)
            self.gate.release(host, ok=not failed)

    def _attempt_unguarded(self, url: str, headers: dict[str, str], *, dedup: bool) -> Exchange:
        cfg = self.config
        ex = Exchange(url=url)
        started = time.monotonic()
        try:
            resp = self.session.get(
                url, headers=headers, stream=True, allow_redirects=False, timeout=(cfg.timeout, cfg.timeout),
                **self._verify,
            )
        except BlockedURL as exc:  # from _PublicOnly, once connected: never retried
            log.warning("%s: %s", url, exc.reason)
            ex.error, ex.refused = exc.reason, True
            return ex
        except requests.exceptions.SSLError as exc:
            ex.error, ex.transient = f"TLS error: {_short(exc)}", "timed out" in str(exc)
            return ex
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            ex.error, ex.transient = f"connection failed: {_short(exc)}", True
            return ex
        except requests.exceptions.RequestException as exc:
            ex.error = f"request failed: {_short(exc)}"
            return ex
        try:
            return self._record(resp, ex, started, dedup=dedup)
        finally:
            resp.close()

    def _record(self, resp: requests.Response, ex: Exchange, started: float, *, dedup: bool) -> Exchange:
        cfg = self.config
        orig = resp.raw._original_response  # http.client.HTTPResponse: the headers as parsed
        ex.status, ex.reason = resp.status_code, orig.reason or ""
        ex.headers = [(k, _unfold(v)) for k, v in orig.msg.items()]
        ex.retry_after = retry_after_seconds(ex.header("retry-after")) if ex.status in (429, 503) else None
        version = "HTTP/1.0" if orig.version == 10 else "HTTP/1.1"
        chunked = "chunked" in (ex.header("transfer-encoding") or "").lower()
        stored_headers = ex.headers
        if chunked:
            stored_headers = [
                ("X-Archiver-Transfer-Encoding", v) if k.lower() == "transfer-encoding" else (k, v)
                for k, v in ex.headers
                if k.lower() != "content-length"
            ]
        ip = None if self.uses_proxy(ex.url) else _peer_ip(resp)
        # The head is known before the body unless chunked, where Content-Length comes last.
        payload = Payload() if chunked else Payload(_response_head(version, ex.status, ex.reason, stored_headers))
        deadline = started + cfg.max_time
        # urllib3 hands the connection back to the pool the moment the body ends; held here
        # instead, so it is reused only if nothing follows the body on it (_idle).
        pool, resp.raw._pool = getattr(resp.raw, "_pool", None), None
        conn = getattr(resp.raw, "connection", None)
        try:
            while True:
                chunk = resp.raw.read1(CHUNK, decode_content=False)
                if not chunk:
                    break
                room = cfg.max_size - payload.length
                if len(chunk) >= room:
                    payload.write(chunk[:room])
                    if len(chunk) > room or resp.raw.read1(1, decode_content=False):
                        ex.truncated = "length"
                        ex.error = f"larger than --max-size ({cfg.max_size} bytes), cut"
                    break
                payload.write(chunk)
                if time.monotonic() > deadline:
                    ex.truncated = "time"
                    ex.error = f"took longer than --max-time ({cfg.max_time:g}s), cut"
                    ex.transient = True  # a slow server may well be quicker next time
                    break
        except (urllib3.exceptions.HTTPError, requests.exceptions.RequestException, OSError) as exc:
            ex.truncated = "disconnect"
            ex.error = f"body cut short after {payload.length} bytes: {_short(exc)}"
            ex.transient = True
        finally:
            resp.raw._pool = pool
        if ex.truncated is None and conn is not None and _idle(conn):
            resp.raw.release_conn()  # otherwise resp.close() closes it
        if chunked:
            stored_headers = stored_headers + [("Content-Length", str(payload.length))]
            payload.finalize_head(_response_head(version, ex.status, ex.reason, stored_headers))
        head = payload.head
        request_head = self._request_head(resp.request)
        ex.payload = payload
        if self.sink is None:
            return ex
        refs = self.sink.write_exchange(
            url=ex.url,
            request_head=request_head,
            response_head=head,
            payload=payload,
            http_status=ex.status,
            content_type=ex.header("content-type"),
            ip=ip,
            truncated=ex.truncated,
            dedup=dedup,
        )
        ex.records = list(refs)
        return ex

    def _request_head(self, req: requests.PreparedRequest) -> bytes:
        parts = urlsplit(req.url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        # Host as sent: a URL's user:password@ became an Authorization header, never part of Host.
        lines = [f"{req.method} {target} HTTP/1.1", f"Host: {parts.netloc.rpartition('@')[2]}"]
        for k, v in req.headers.items():
            if k.lower() == "host" or k.lower() in PROXY_HEADERS:
                continue
            if k.lower() in CREDENTIAL_HEADERS and not self.config.record_credentials:
                continue
            lines.append(f"{k}: {v}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def fetch_all(fetcher: Fetcher, urls: list[str], *, want_body: Callable[[str], bool],
              workers: int = FETCH_WORKERS) -> dict[str, FetchResult]:
    """`fetcher.fetch` each URL, a few at a time (one article's requisites, an embed's assets);
    the host gate still spaces what goes to one host. A function, not a Fetcher method, so that
    a wrapper with its own `fetch` (the crawl's asset cache) is asked, not the Fetcher under it."""
    if not urls:
        return {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {u: pool.submit(fetcher.fetch, u, want_body=want_body(u)) for u in urls}
        return {u: f.result() for u, f in futures.items()}


def _response_head(version: str, status: int, reason: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"{version} {status} {reason}".rstrip()]
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def _unfold(value: str) -> str:
    return " ".join(value.split()) if ("\n" in value or "\r" in value) else value


def _idle(conn: object) -> bool:
    """True when nothing waits to be read on a connection whose response has ended.

    A server that sends more than its Content-Length (or anything after a chunked body's end)
    would otherwise have those bytes read as the *next* request's response on a reused
    connection, and archived under another URL. urllib3 checks the socket before reusing a
    connection, but not bytes TLS has already decrypted (`pending()`), which is where the rest
    of a record holding the body's end sits.
    """
    sock = getattr(conn, "sock", None)
    if sock is None:
        return False
    try:
        pending = getattr(sock, "pending", None)
        if pending is not None and pending():
            return False
        return not wait_for_read(sock, timeout=0.0)
    except (OSError, ValueError):
        return False


def _peer_ip(resp: requests.Response) -> Optional[str]:
    try:
        return resp.raw._connection.sock.getpeername()[0]
    except (AttributeError, OSError, IndexError):
        return None


# `scheme://user:password@` in an error text (requests echoes a malformed proxy URL whole).
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/@:'\"]*:)[^\s/'\"]*@")


def redact(text: str) -> str:
    """`text` with the password of every `scheme://user:password@` URL in it replaced by `***`."""
    return _URL_PASSWORD.sub(r"\1***@", text)


def _short(exc: BaseException) -> str:
    text = redact(str(exc))
    return text if len(text) < 300 else text[:300] + "…"
