"""`archiver capture` as the CLI runs it, with settings the CLI does not offer (a short backoff).

tests/test_faults.py runs this in a subprocess so the capture's peak RSS is its own:

    python tests/chaos_capture.py '{"archive": "...", "timeout": 2, ...}' URL [URL...]

The first argument is the Config as JSON; stdout gets one JSON object per post (as
`archiver capture --json`), stderr the log and the summary (as the CLI prints it); the exit
status is the CLI's (0, or 1 when something failed).
"""

from __future__ import annotations

import json
import logging
import sys

from archiver.capture import capture
from archiver.cli import _post_json, _print_summary
from archiver.config import Config


def main(argv: list[str]) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(relativeCreated)7d %(levelname)s %(name)s %(message)s")
    config = Config(**json.loads(argv[1]))

    def on_post(post, result) -> None:
        print(json.dumps(_post_json(post, result), ensure_ascii=False), flush=True)

    def on_article(result) -> None:
        art = result.article
        print(f"failed: {art.url}: {art.error}" if art.error else f"captured {art.url} ({len(result.posts)} posts)",
              file=sys.stderr)
        for problem in result.problems:
            print(f"problem: {problem}", file=sys.stderr)

    summary = capture(config, argv[2:], on_post=on_post, on_article=on_article)
    _print_summary(summary)
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
