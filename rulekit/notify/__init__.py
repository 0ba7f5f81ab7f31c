"""Notifications: the templates that word them (:mod:`rulekit.notify.templates`) and the
channels that deliver them."""
