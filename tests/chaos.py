"""Chaos for the fixture web: seeded, reproducible faults on every host (issue #6).

``Chaos(seed, rate).install(web)`` puts a policy in front of every route of a FixtureWeb (see
``FixtureWeb.policy`` and ``FixtureWeb.stall_tls``). For each URL, the first attempt misbehaves
with probability ``rate`` and, when it did, the second one too with probability ``again``; the
fault is picked from ``sha256(seed, url, attempt)``, so a seed gives the same faults in the same
places on every run, whatever the order requests arrive in. A third attempt is always served
as the route says, so every injected fault is *transient*. Which host stalls its first TLS
handshake is decided the same way (per host: the URL is not known before the handshake), and
the URL that meets it may then meet two faulty answers: an archiver with three retries must end
up with the real answer every time.

The transient kinds (``TRANSIENT``), and what the wire sees:

* ``429``, ``429-retry-after`` (``Retry-After: 1``), ``429-retry-date`` and ``503-retry-date``
  (``Retry-After`` as an HTTP date a second ahead), ``500``, ``502``, ``503``, ``504``;
* ``reset-before-headers``: the request is read, then an RST;
* ``reset-after-headers``: the head and part of the body, a pause, then an RST;
* ``cut-short``: ``Content-Length`` of the real body, half of it sent, then a clean close;
* ``length-more``: the whole body, but a ``Content-Length`` 1000 bytes larger, then a close;
* ``drip``: the real body at a byte a second (past any sane ``--max-time``);
* ``tls-stall``: the first CONNECT to a host never finishes its TLS handshake.

``length-less`` (``LYING_SHORT``) is not a failure but a lie the other way: the real body with
its true ``Content-Length``, followed on the same keep-alive connection by bytes that look like
a complete HTTP response (``SMUGGLED``). Nothing of them may ever be stored, for any URL. It may
be injected on any attempt (``lie_rate``).

Permanent faults are not random: a scenario places them where it knows what the truthful
outcome is, with the helpers below (``redirect_loop``, ``redirect_chain``, ``gzip_bomb``,
``huge``).
"""

from __future__ import annotations

import hashlib
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Callable, Optional

from fixtureweb import FixtureWeb, Request, Response, repeat_bytes

STATUS_KINDS = ("429", "429-retry-after", "429-retry-date", "503-retry-date", "500", "502", "503", "504")
BODY_KINDS = ("reset-after-headers", "cut-short", "length-more", "drip")
TRANSIENT = STATUS_KINDS + ("reset-before-headers",) + BODY_KINDS + ("tls-stall",)
LYING_SHORT = "length-less"
# What follows a short-but-true Content-Length: a whole response, so a client that reads the
# next answer on that connection from where this one stopped would take it for real.
SMUGGLE_MARK = b"SMUGGLED-BY-CHAOS"
SMUGGLED = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
            % (len(SMUGGLE_MARK), SMUGGLE_MARK))
DRIP_SECONDS = 1.0  # a byte a second


def _unit(*parts: object) -> float:
    """A number in [0, 1) from the parts, the same on every run and machine."""
    digest = hashlib.sha256("\x00".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


# --- one fault, applied to the real answer --------------------------------------------------


def _length(body: object) -> Optional[int]:
    try:
        return len(body)  # type: ignore[arg-type]
    except TypeError:
        return None


def _without(headers: Iterable[tuple[str, str]], *names: str) -> list[tuple[str, str]]:
    drop = {n.lower() for n in names}
    return [(k, v) for k, v in headers if k.lower() not in drop]


def apply_fault(kind: str, real: Response) -> Response:
    """The response a server with fault `kind` sends instead of `real` (status kinds ignore it)."""
    text = [("Content-Type", "text/plain; charset=utf-8")]
    if kind in STATUS_KINDS:
        status = int(kind[:3])
        headers = list(text)
        if kind.endswith("retry-after"):
            headers.append(("Retry-After", "1"))
        elif kind.endswith("retry-date"):
            headers.append(("Retry-After", formatdate(time.time() + 1, usegmt=True)))
        return Response(status, f"chaos: {kind}\n", headers)
    if kind == "reset-before-headers":
        return Response(reset=True)
    body, headers = real.body, _without(real.headers, "Content-Length", "Transfer-Encoding")  # type: ignore[arg-type]
    size = _length(body)
    if kind == LYING_SHORT:
        if size is None:
            return real
        tail = body + SMUGGLED if isinstance(body, bytes) else _chain(body, SMUGGLED)  # type: ignore[operator]
        return Response(real.status, tail, headers + [("Content-Length", str(size))], reason=real.reason)
    if kind in BODY_KINDS and not size:  # nothing to cut or drip (a redirect): promise bytes never sent
        kind = "length-more"
    if size is None:  # a streamed body of unknown length: a cut is the one lie that fits
        kind = "cut-short"
    if kind == "cut-short":
        return Response(real.status, body, headers + [("Content-Length", str(size or 1000))], reason=real.reason,
                        cut_after=(size or 0) // 2)
    if kind == "length-more":
        return Response(real.status, body, headers + [("Content-Length", str((size or 0) + 1000))],
                        reason=real.reason, close=True)
    if kind == "reset-after-headers":  # the pause lets the client read the head before the RST
        return Response(real.status, body, headers + [("Content-Length", str(size))], reason=real.reason,
                        drip=0.3, drip_size=max(1, size // 4), cut_after=max(1, size // 2), reset=True)
    if kind == "drip":
        return Response(real.status, body, headers + [("Content-Length", str(size))], reason=real.reason,
                        drip=DRIP_SECONDS, drip_size=1)
    raise ValueError(f"unknown fault kind {kind!r}")


def _chain(body: Iterable[bytes], tail: bytes) -> Iterator[bytes]:
    yield from body
    yield tail


# --- permanent faults a scenario places -----------------------------------------------------


def redirect_loop(web: FixtureWeb, url: str) -> None:
    """`url` -> `url`?loop -> `url`: a two-step loop."""
    other = url + ("&" if "?" in url else "?") + "loop=1"
    web.add(url, status=302, headers=[("Location", other)])
    web.add(other, status=302, headers=[("Location", url)])


def redirect_chain(web: FixtureWeb, url: str, hops: int = 50, end: Optional[str] = None) -> None:
    """`url` -> `url`?hop=1 -> ... -> `url`?hop=`hops` -> `end` (a 404 unless given)."""
    sep = "&" if "?" in url else "?"
    chain = [url] + [f"{url}{sep}hop={i}" for i in range(1, hops + 1)]
    for here, nxt in zip(chain, chain[1:] + [end or f"{url}{sep}hop=end"]):
        web.add(here, status=301, headers=[("Location", nxt)])


_BOMBS: dict[tuple[bytes, int], bytes] = {}
_BOMBS_LOCK = threading.Lock()


def gzip_bomb(prefix: bytes = b"", decoded: int = 128 * 2**20) -> bytes:
    """A gzip stream of `prefix` then spaces, `decoded` bytes in all: about 1000x its own size."""
    key = (prefix, decoded)
    with _BOMBS_LOCK:
        bomb = _BOMBS.get(key)
        if bomb is None:
            z = zlib.compressobj(9, zlib.DEFLATED, 31)
            parts, left, block = [z.compress(prefix)], decoded - len(prefix), b" " * 2**20
            while left > 0:
                parts.append(z.compress(block[:left]))
                left -= len(block)
            parts.append(z.flush())
            bomb = _BOMBS[key] = b"".join(parts)
        return bomb


def bomb_response(content_type: str, prefix: bytes = b"", decoded: int = 128 * 2**20) -> Response:
    return Response(200, gzip_bomb(prefix, decoded), [("Content-Type", content_type), ("Content-Encoding", "gzip")])


def huge(content_type: str, size: int = 2 * 10**9) -> Response:
    """A body far larger than any --max-size a test sets (streamed, never built)."""
    return Response(200, repeat_bytes(size, seed=6), [("Content-Type", content_type)])


# --- the policy --------------------------------------------------------------------------------


@dataclass
class Chaos:
    """Seeded transient faults on every route of a FixtureWeb (see the module docstring)."""

    seed: int
    rate: float = 0.3  # share of URLs whose first attempt fails
    again: float = 0.35  # share of those whose second attempt fails too
    tls_rate: float = 0.3  # share of hosts whose first TLS handshake stalls
    lie_rate: float = 0.1  # share of answers followed by smuggled bytes (`length-less`)
    kinds: tuple[str, ...] = TRANSIENT
    spare: Callable[[str], bool] = lambda url: False  # URLs left alone
    injected: list[tuple[str, int, str]] = field(default_factory=list)  # (url or host, attempt, kind)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def install(self, web: FixtureWeb) -> Chaos:
        web.policy = self
        if "tls-stall" in self.kinds:
            web.stall_tls = self.stall_tls
        return self

    def fault(self, url: str, attempt: int) -> Optional[str]:
        """The fault for this attempt at `url`, or None; a pure function of (seed, url, attempt)."""
        kinds = [k for k in self.kinds if k != "tls-stall"]
        if attempt > 2 or not kinds or self.spare(url):
            return None
        if _unit(self.seed, "first", url) >= self.rate:
            return None
        if attempt == 2 and _unit(self.seed, "again", url) >= self.again:
            return None
        return kinds[int(_unit(self.seed, "kind", url, attempt) * len(kinds))]

    def lies(self, url: str, attempt: int) -> bool:
        return _unit(self.seed, "lie", url, attempt) < self.lie_rate and not self.spare(url)

    def stall_tls(self, host: str, nth: int) -> bool:
        stall = nth == 1 and _unit(self.seed, "tls", host) < self.tls_rate
        if stall:
            self._note(host, nth, "tls-stall")
        return stall

    def __call__(self, req: Request, handler: Callable[[Request], Response]) -> Response:
        kind = self.fault(req.url, req.attempt)
        if kind in STATUS_KINDS or kind == "reset-before-headers":
            self._note(req.url, req.attempt, kind)
            return apply_fault(kind, Response())
        real = handler(req)
        if isinstance(real, (bytes, str)):
            real = Response(200, real)
        if kind is None and self.lies(req.url, req.attempt) and real.status not in (204, 304) \
                and not (real.reset or real.cut_after is not None or real.chunked):
            kind = LYING_SHORT
        if kind is None:
            return real
        self._note(req.url, req.attempt, kind)
        return apply_fault(kind, real)

    def _note(self, where: str, attempt: int, kind: str) -> None:
        with self._lock:
            self.injected.append((where, attempt, kind))

    def counts(self) -> Counter:
        with self._lock:
            return Counter(kind for _w, _a, kind in self.injected)
