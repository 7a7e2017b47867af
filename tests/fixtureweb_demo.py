"""Serve the tests' fixture web until Ctrl-C, to watch `archiver capture` work offline.

    python3 tests/fixtureweb_demo.py
    # then, in another shell, paste the printed `export` lines and run:
    archiver capture https://news.example/2019/10/14/isis-prisoners-escape --archive /tmp/demo-archive

It answers for news.example, twitter.com, t.co, cdn.syndication.twimg.com, publish.twitter.com and
pbs.twimg.com, over HTTPS with certificates from a throwaway CA, through a proxy on 127.0.0.1.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixtureweb import FixtureWeb  # noqa: E402
from twitterworld import SEED, SEED_BLOCKQUOTE, TwitterWorld, add_news_site, article_page  # noqa: E402

ARTICLE = "https://news.example/2019/10/14/isis-prisoners-escape"


def main() -> None:
    with FixtureWeb(Path(tempfile.mkdtemp(prefix="fixtureweb-"))) as web:
        TwitterWorld(web, [SEED])
        add_news_site(web)
        web.add(ARTICLE, body=article_page("<p>Kurdish forces said:</p>" + SEED_BLOCKQUOTE),
                headers=[("Content-Type", "text/html; charset=utf-8")])
        for key, value in web.env().items():
            print(f"export {key}={value}")
        print(f"# then: archiver capture {ARTICLE}")
        print("READY", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
