"""``python -m insight.cli``: the command line without ``serve`` (``python -m api.cli`` has it)."""

from insight.cli.main import app

app()
