"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import trustme

from fixtureweb import FixtureWeb, shared_ca


# ----------------------------------------------------------------- fixture web (tests/fixtureweb.py)


@pytest.fixture(scope="session")
def fixtureweb_ca() -> trustme.CA:
    """One throwaway CA for the session: leaf certs per host are cached against it too."""
    return shared_ca()


@pytest.fixture
def web(tmp_path_factory: pytest.TempPathFactory, fixtureweb_ca: trustme.CA) -> Iterator[FixtureWeb]:
    """A started FixtureWeb (local forward proxy answering for every host); stopped after the test."""
    # Its own tmp dir, so the CA file never shows up in a test's tmp_path listing.
    with FixtureWeb(tmp_path_factory.mktemp("fixtureweb"), ca=fixtureweb_ca) as w:
        yield w


@pytest.fixture
def web_env(web: FixtureWeb, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Route every requests-based client in this process through ``web`` (proxy env + CA bundle)."""
    env = web.env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # A developer's own bundle override would otherwise compete with ours.
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    return env
