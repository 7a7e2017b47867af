"""embed-archiver: preserve social-media posts cited by news articles in WARC files."""

__version__ = "0.1.0"
