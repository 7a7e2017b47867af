"""Reading pages for `archiver extract`: files, folders, stdin or URLs, one result per page.

Nothing is captured: files and stdin need no network, URLs go through the normal fetch layer
with no WARC sink. A page that cannot be read is reported and the others go on.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional

from archiver import extract
from archiver.models import Embed

PAGE_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml", ".php", ".asp", ".aspx")
MAX_FILE = 256 * 2**20  # a page larger than this is read up to here


@dataclass
class PageResult:
    source: str
    embeds: list[Embed] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    error: Optional[str] = None


def expand_sources(sources: Iterable[str]) -> Iterator[str]:
    """Folders become the pages inside them (recursively, sorted); everything else as given."""
    for source in sources:
        path = Path(source)
        if source not in ("-",) and "://" not in source and path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in PAGE_SUFFIXES:
                    yield str(child)
        else:
            yield source


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def read_source(source: str, *, fetcher=None) -> tuple[bytes, str, Optional[str]]:
    """(bytes, base URL, content type) of one source; raises OSError/ValueError when unreadable."""
    if source == "-":
        return sys.stdin.buffer.read(MAX_FILE), "", None
    if is_url(source):
        if fetcher is None:
            raise ValueError("URLs need a fetcher")
        res = fetcher.fetch(source)
        if not res.ok or res.body is None:
            raise ValueError(res.error or f"HTTP {res.status}")
        return res.body, res.final_url, res.content_type
    path = Path(source)
    with open(path, "rb") as fh:
        return fh.read(MAX_FILE), path.resolve().as_uri(), None


def extract_page(source: str, *, base_url: Optional[str] = None, fetcher=None) -> PageResult:
    """Every post found in one page; never raises."""
    result = PageResult(source=source)
    try:
        data, own_base, ctype = read_source(source, fetcher=fetcher)
    except (OSError, ValueError) as exc:
        result.error = getattr(exc, "strerror", None) or str(exc)
        return result
    doc = extract.parse_html(data, base_url=base_url or own_base, content_type=ctype)
    found = extract.find_embeds(doc)
    result.embeds, result.profiles = list(found.embeds), list(found.profiles)
    return result


def extract_pages(sources: Iterable[str], *, base_url: Optional[str] = None, fetcher=None,
                  jobs: int = 1) -> Iterator[PageResult]:
    """`extract_page` for each source, in order. With `jobs` > 1, files are read and parsed by that
    many worker processes (a folder of saved pages is CPU-bound); URLs and stdin stay in this
    process, where the fetcher's politeness applies."""
    sources = list(sources)
    if jobs <= 1 or len(sources) < 2 * jobs or any(s == "-" or is_url(s) for s in sources):
        for source in sources:
            yield extract_page(source, base_url=base_url, fetcher=fetcher)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(jobs) as pool:
        yield from pool.imap(functools.partial(extract_page, base_url=base_url), sources, chunksize=4)


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def embed_row(source: str, embed: Embed) -> dict:
    """The `archiver extract` JSON line (issue #3 contract)."""
    return {
        "source": source,
        "platform": embed.platform,
        "id": embed.id,
        "url": embed.url,
        "forms": list(embed.forms),
        "context": embed.context,
    }
