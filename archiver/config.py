"""Settings, built once from defaults and options and then frozen."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from archiver import __version__

PROJECT_URL = "https://github.com/embed-archiver/embed-archiver"
DEFAULT_USER_AGENT = f"embed-archiver/{__version__} (+{PROJECT_URL})"

_SIZE_UNITS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9, "t": 10**12, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}
_DURATION_UNITS = {"": 1, "ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_size(text: str | int) -> int:
    """`1GB` -> 10**9, `512MiB` -> 512 * 2**20, `1500` -> 1500 (bytes)."""
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"not a size: {text!r} (try 500MB, 1GB, 2GiB)")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])


def parse_duration(text: str | float) -> float:
    """`30s`, `15m`, `1h`, `7d`, `2.5` -> seconds."""
    if isinstance(text, (int, float)):
        return float(text)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _DURATION_UNITS:
        raise ValueError(f"not a duration: {text!r} (try 30s, 15m, 1h, 7d)")
    return float(m.group(1)) * _DURATION_UNITS[m.group(2).lower()]


def default_archive_dir() -> Path:
    return Path(os.environ.get("ARCHIVER_ARCHIVE") or "archive")


@dataclass(frozen=True)
class Config:
    """Everything a run needs to know; passed explicitly, never global."""

    archive: Path = field(default_factory=default_archive_dir)
    # fetching
    user_agent: str = DEFAULT_USER_AGENT
    proxy: Optional[str] = None  # else HTTP(S)_PROXY / NO_PROXY from the environment
    ca_bundle: Optional[str] = None  # else REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE
    headers: tuple[tuple[str, str], ...] = ()
    cookies_file: Optional[str] = None
    timeout: float = 20.0  # connect and read, seconds
    max_time: float = 900.0  # total deadline for one exchange, seconds
    max_size: int = 2 * 10**9  # per resource; beyond it the record is cut (WARC-Truncated: length)
    retries: int = 3  # extra attempts after the first
    backoff: float = 0.5  # first retry wait, doubled each time, with jitter
    retry_after_max: float = 30.0  # longest Retry-After honoured inside one fetch
    max_redirects: int = 10
    # politeness (archiver.hosts): requests in flight per host, and the gap between their starts
    per_host: int = 1
    cdn_per_host: int = 4
    delay: float = 0.0
    allow_private: bool = False
    record_credentials: bool = False
    # what to capture
    requisites: bool = True
    # WARC output
    warc_prefix: str = "archiver"
    warc_max_size: int = 10**9
    operator: Optional[str] = None

    @property
    def warc_dir(self) -> Path:
        return Path(self.archive) / "warcs"

    @property
    def index_path(self) -> Path:
        return Path(self.archive) / "index.sqlite3"
