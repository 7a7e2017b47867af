"""Registry of platform plug-ins. Adding a platform = one module + one line in PLATFORMS."""

from __future__ import annotations

from archiver.platforms import twitter
from archiver.platforms import bluesky, mastodon, reddit, telegram
from archiver.platforms import facebook, instagram, threads, tiktok, youtube
from archiver.platforms.base import Platform, Profile

__all__ = ["PLATFORMS", "Platform", "Profile", "platform_for"]

# Detectors run in this order over the same parsed tree.
PLATFORMS: tuple[Platform, ...] = (  # type: ignore[assignment]  # modules satisfy Platform
    twitter,
    bluesky,
    mastodon,
    reddit,
    telegram,
    youtube,
    tiktok,
    instagram,
    facebook,
    threads,
)


def platform_for(name: str) -> Platform:
    """The registered platform called `name` (an Embed's `platform`); KeyError if none is."""
    for platform in PLATFORMS:
        if platform.name == name:
            return platform
    raise KeyError(f"no platform registered as {name!r}")
