"""Plain values passed between the stages: fetch -> extract -> platforms -> warc -> index."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

# Final states of a post (issue #2 status table). `failed` is the only one worth retrying.
STATUSES = ("available", "protected", "suspended", "deleted", "unavailable", "failed")

# How a post appeared in a page (issue #3 `forms`).
FORMS = ("blockquote", "iframe", "link", "pic", "tco", "script", "amp", "oembed-proxy", "bare-url")


@dataclass
class RecordRef:
    """Where one WARC record lives, so it can be verified and replayed later."""

    url: str
    warc: str  # file name inside DIR/warcs/, without the `.open` suffix
    offset: int  # of the gzip member that holds the record
    length: int  # compressed length of that member
    record_type: str  # response, request, revisit, resource, metadata
    record_id: str  # <urn:uuid:...>
    date: str  # WARC-Date
    payload_digest: Optional[str] = None  # sha1:BASE32
    http_status: Optional[int] = None
    content_type: Optional[str] = None
    truncated: Optional[str] = None  # WARC-Truncated value, if any


@dataclass
class Embed:
    """A post reference found in a page; `id` is None until a t.co / pic link is resolved."""

    platform: str
    id: Optional[str]
    url: str  # canonical post URL, or the short link for unresolved t.co / pic.twitter.com
    forms: list[str] = field(default_factory=list)
    context: str = ""
    author_handle: Optional[str] = None  # hint from the markup, e.g. the blockquote's @handle

    @property
    def key(self) -> tuple[str, str]:
        return (self.platform, self.id if self.id is not None else self.url)


@dataclass
class Media:
    """One media file a post names, and what became of fetching it."""

    url: str
    kind: str  # photo, video, gif, hls, avatar, thumbnail, card, poster
    sha256: Optional[str] = None  # hex, of the payload as stored
    size: Optional[int] = None
    captured: bool = False
    error: Optional[str] = None


@dataclass
class Post:
    """A post snapshot: what the platform said about it and the evidence records."""

    platform: str
    id: str
    url: str
    status: str = "failed"
    status_reason: Optional[str] = None
    author_handle: Optional[str] = None
    author_name: Optional[str] = None
    text: Optional[str] = None
    created_at: Optional[str] = None  # ISO 8601, UTC
    media: list[Media] = field(default_factory=list)
    records: list[RecordRef] = field(default_factory=list)
    # (relation, platform, id): quotes / reply_to, one level deep
    related: list[tuple[str, str, str]] = field(default_factory=list)
    data: Optional[dict] = None  # the platform's own JSON, as parsed


@dataclass
class Article:
    """One fetched article page."""

    url: str  # as asked for
    final_url: Optional[str] = None  # after redirects
    http_status: Optional[int] = None
    title: Optional[str] = None
    fetched_at: Optional[str] = None
    error: Optional[str] = None
    records: list[RecordRef] = field(default_factory=list)


@dataclass
class ArticleResult:
    """Everything one article's capture produced, written to the index in one transaction."""

    article: Article
    embeds: list[Embed] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    # profile references (twitter-timeline anchors etc.): recorded, not snapshotted
    profiles: list[str] = field(default_factory=list)
    requisites: list[RecordRef] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class ImportedFile:
    """A WARC or ARC file `archiver import` copied into DIR/warcs/, and where it came from."""

    name: str  # the copy's name inside DIR/warcs/
    size: int  # of the copy
    sha256: str  # hex, of the copy
    source_name: str  # the original's file name (no folder: an archive may travel)
    source_size: int
    source_sha256: str  # hex, of the original as read
    format: str  # what the original's bytes were: warc.gz, warc, arc.gz, arc
    reframed: bool = False  # records re-framed one per gzip member (else a byte-for-byte copy)
    software: Optional[str] = None  # as its warcinfo (or ARC version block) says
    problems: int = 0  # problems reported when it was read


@dataclass
class FileRows:
    """One file's rows for `Index.rebuild_records`: its records, and its `warc_files` row unless
    it was never closed (`.open`: size and sha256 None)."""

    name: str  # inside DIR/warcs/, without `.open`
    records: list[RecordRef] = field(default_factory=list)
    size: Optional[int] = None
    sha256: Optional[str] = None
    closed_at: Optional[str] = None  # for a file the index had no close time for


@dataclass
class RebuildOutcome:
    """What `Index.rebuild_records` changed, so `archiver reindex` can say it."""

    inserted: int = 0
    updated: int = 0  # rows that named another offset, length, URL... than the files do now
    unchanged: int = 0
    removed: dict[str, int] = field(default_factory=dict)  # file -> rows of records in no file any more
    removed_links: int = 0  # article/post links to those rows, gone with them
    # (record id, file, offset, file, offset of the copy kept): one id, two records
    duplicates: list[tuple[str, str, int, str, int]] = field(default_factory=list)
    # (name, old size, old sha256, new size, new sha256): closed files whose bytes changed
    changed_files: list[tuple[str, int, str, int, str]] = field(default_factory=list)
    dropped_files: list[tuple[str, int, str]] = field(default_factory=list)  # rows of files not found closed
