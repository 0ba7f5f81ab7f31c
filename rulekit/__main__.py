"""``python -m rulekit``."""

from rulekit.cli.main import entry

entry()
