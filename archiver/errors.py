"""The archiver's exceptions and exit codes, in one place."""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    """Process exit codes (issue #2 contract)."""

    OK = 0  # every URL and every post reached a final state
    FAILURES = 1  # the run finished, but something ended `failed` and should be retried
    USAGE = 2  # unusable input: not a URL, unknown option, archive not writable


# HTTP answers that say "try again later", not anything about the resource: fetches retry them and
# a post's status is never decided from them.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class ArchiverError(Exception):
    """Base of everything the library raises on purpose."""


class UsageError(ArchiverError):
    """Input the archiver cannot work with (maps to exit 2)."""


class StorageError(ArchiverError):
    """The archive folder, a WARC file or the index cannot be written."""


class ArchiveLocked(StorageError):
    """Another archiver process is writing to this archive."""


class FetchError(ArchiverError):
    """A URL could not be fetched; `reason` is short and human readable."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class BlockedURL(FetchError):
    """A URL refused before any request: not http(s), or a private address."""
