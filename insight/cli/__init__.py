"""The ``insight`` command line, less ``serve`` (added by ``api.cli``, the console script, which has the API)."""

from insight.cli.main import app, create_app

__all__ = ["app", "create_app"]
