"""Per-host politeness shared by every fetch of a process: slots, spacing and push-backs.

Each host gets at most `per_host` requests in flight and a minimum gap between request starts;
a host that answers 429/503 with Retry-After, or keeps failing, is pushed back on its own, so
the rest of the crawl goes on. Static media CDNs serve many clients by design and may take more
requests at once (`CDN_HOSTS`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Optional

# Hosts built to serve static files to many clients at once; a higher default slot count.
CDN_HOSTS = frozenset({"pbs.twimg.com", "video.twimg.com", "abs.twimg.com", "i.ytimg.com"})


@dataclass
class _Host:
    in_flight: int = 0
    next_start: float = 0.0  # monotonic time before which no request may start
    delay: Optional[float] = None  # per-host override (robots.txt Crawl-delay)
    failures: int = 0  # consecutive failures, for exponential back-off
    cond: threading.Condition = field(default_factory=lambda: threading.Condition(threading.Lock()))


class HostGate:
    """Blocks a fetch until its host has a free slot and its spacing has passed."""

    def __init__(self, per_host: int = 1, delay: float = 0.0, cdn_per_host: int = 4):
        self.per_host = max(1, per_host)
        self.cdn_per_host = max(self.per_host, cdn_per_host)
        self.delay = max(0.0, delay)
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def _host(self, host: str) -> _Host:
        with self._lock:
            state = self._hosts.get(host)
            if state is None:
                state = self._hosts[host] = _Host()
            return state

    def slots(self, host: str) -> int:
        return self.cdn_per_host if host in CDN_HOSTS else self.per_host

    def acquire(self, host: str) -> None:
        """Wait for a slot on `host` and for its next permitted start; then take the slot."""
        state = self._host(host)
        with state.cond:
            while True:
                wait = state.next_start - time.monotonic()
                if state.in_flight < self.slots(host) and wait <= 0:
                    break
                state.cond.wait(timeout=wait if wait > 0 else None)
            state.in_flight += 1
            gap = state.delay if state.delay is not None else self.delay
            state.next_start = max(state.next_start, time.monotonic() + gap)

    def release(self, host: str, *, ok: bool = True) -> None:
        state = self._host(host)
        with state.cond:
            state.in_flight -= 1
            state.failures = 0 if ok else state.failures + 1
            state.cond.notify_all()

    def push_back(self, host: str, seconds: float) -> None:
        """No request to `host` starts for `seconds` (Retry-After, back-off)."""
        state = self._host(host)
        with state.cond:
            state.next_start = max(state.next_start, time.monotonic() + max(0.0, seconds))
            state.cond.notify_all()

    def set_delay(self, host: str, seconds: Optional[float]) -> None:
        """A host's own minimum gap (robots.txt Crawl-delay); None returns to the default."""
        self._host(host).delay = seconds

    def ready_in(self, host: str) -> float:
        """Seconds until `host` could start a request (0 if now); for schedulers picking work."""
        state = self._host(host)
        with state.cond:
            if state.in_flight >= self.slots(host):
                return max(0.0, state.next_start - time.monotonic(), 0.001)
            return max(0.0, state.next_start - time.monotonic())

    def failures(self, host: str) -> int:
        return self._host(host).failures
