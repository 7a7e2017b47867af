"""What a platform plug-in looks like: detection now, snapshotting later (issue #3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Protocol, Union

from archiver.models import Embed

if TYPE_CHECKING:  # extract imports the registry, so only type checkers may import it back
    from archiver.extract import Document


@dataclass(frozen=True)
class Profile:
    """An account referenced by a page (timeline widget, profile link): recorded, never a post.

    Detectors yield these next to Embeds so the tree is walked once; `find_embeds` sorts them out.
    """

    platform: str
    url: str


Detected = Union[Embed, Profile]


class Platform(Protocol):
    """A platform module: `name` plus functions. A module with these names satisfies it."""

    name: str
    # Literals `detect` looks up in the raw page (`Document.hits`/`has`/`where`), matched in any
    # ASCII case. The page is scanned for every platform's at once; a marker holding one of them
    # costs no scan of its own, any other marker one more pass over the page.
    LITERALS: tuple[bytes, ...]

    def detect(self, doc: Document) -> Iterable[Detected]:
        """Every post (and profile) of this platform in the parsed page, in document order.

        Use `doc.is_chrome(el)`, `doc.absolute(href)` and `doc.context(el, needle)`; do not parse
        again and do not walk the whole tree in Python.
        """
        ...

    # snapshot(...) is added by the capture stage: fetch one Embed's post data and media into
    # the WARC and return a models.Post. Its signature is owned by that stage, not by detection.
