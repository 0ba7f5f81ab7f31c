"""The changes people made that bear on a lead, for its explanation.

A lead's traces tell its decisions; the audit history tells what people changed around it.  An
audit entry bears on a lead when it

* edited the rule set into the version one of the lead's decisions used (a pool's members, a
  policy's switch, a rule's carbon copies);
* edited the world that was active when one of its decisions was made (an agent paused or
  active again): the latest world activation at or before the decision, when it was an edit;
* changed the consumer behind the lead: its lead status, a transfer that moved one of its
  ownerships, or a contact lifecycle action (shared, unshared, transferred, a record deleted,
  marked pending or closed).

Loads of rule and world files are not listed: the explanation names its rule set version.
Entries the lead's own decisions wrote (a parked lead, a retry) are already in its traces and
are not repeated.  Everything here is pure: the caller reads the audit history and the traces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, tzinfo
from typing import Any

from rulekit.model import Lead
from rulekit.pipeline.facts import contact_key
from rulekit.storage.base import (
    CONTACT_CHANGED,
    CONTACTS_TRANSFERRED,
    LEAD_STATUS_SET,
    RULESET,
    WORLD,
    AuditEntry,
)
from rulekit.trace import Trace, render_history

#: Audit actions written by a lead's own decisions, which its traces already show.
DECISION_ACTIONS = frozenset({"lead_parked", "lead_retried"})


def activated(entry: AuditEntry) -> dict[str, str]:
    """The versions an activation entry activated, by kind (``ruleset``, ``world``)."""
    if "activated" not in entry.action:
        return {}
    found: dict[str, str] = {}
    for kind in (RULESET, WORLD):
        value = entry.detail.get(kind)
        if isinstance(value, Mapping):
            value = value.get("version")
        if isinstance(value, str):
            found[kind] = value
    return found


def is_edit(entry: AuditEntry) -> bool:
    """Whether an activation was an edit of the active versions (a pause, a pool's members,
    a switch, a cc list) rather than a load of files: its detail says what was edited."""
    return bool(set(entry.detail) - {RULESET, WORLD})


def _touches_contact(entry: AuditEntry, contact_key: str | None) -> bool:
    if contact_key is None:
        return False
    if entry.action in (LEAD_STATUS_SET, CONTACT_CHANGED):
        return entry.detail.get("contact") == contact_key
    if entry.action == CONTACTS_TRANSFERRED:
        return any(pair and pair[0] == contact_key for pair in entry.detail.get("moved", ()))
    return False


def bearing(entries: Sequence[AuditEntry], traces: Sequence[Trace],
            contact_key: str | None) -> list[AuditEntry]:
    """The entries of ``entries`` (in history order) that bear on the lead of ``traces``."""
    versions = {trace.ruleset_version for trace in traces}
    chosen: set[int] = set()
    worlds = [e for e in entries if WORLD in activated(e)]
    for trace in traces:
        before = [e for e in worlds if e.at <= trace.at]
        if before and is_edit(before[-1]):
            chosen.add(before[-1].seq)
    for entry in entries:
        if entry.action in DECISION_ACTIONS:
            continue
        if (activated(entry).get(RULESET) in versions and is_edit(entry)) \
                or _touches_contact(entry, contact_key):
            chosen.add(entry.seq)
    return [e for e in entries if e.seq in chosen]


def describe(entry: AuditEntry) -> str:
    """One entry as a sentence: what changed, and why when a reason was given."""
    detail: Mapping[str, Any] = entry.detail
    if entry.action == LEAD_STATUS_SET:
        text = (f"the consumer's lead status was set from {detail.get('before')} to "
                f"{detail.get('after')}")
    elif entry.action == CONTACTS_TRANSFERRED:
        text = (f"the consumer's contact was transferred from {detail.get('from')} to "
                f"{detail.get('to')}")
    elif entry.action == CONTACT_CHANGED:
        text = _contact_change(detail)
    else:
        text = entry.action
    reason = detail.get("reason")
    return f"{text} (why: {reason})" if reason else text


def _contact_change(detail: Mapping[str, Any]) -> str:
    """A ``contact_changed`` entry as a sentence (see :mod:`rulekit.lifecycle`)."""
    action, agent = detail.get("action"), detail.get("agent")
    before = detail.get("before") or {}
    after = detail.get("after") or {}
    if action == "share":
        text = f"the consumer's contact was shared with {agent}"
    elif action == "unshare":
        text = f"the consumer's contact was no longer shared with {agent}"
    elif action == "transfer":
        text = (f"the consumer's contact was transferred from {before.get('owner')} to "
                f"{after.get('owner')}")
    elif action == "delete":
        text = f"{agent}'s record of the consumer's contact was deleted"
        if after.get("owner") not in (None, before.get("owner")):
            text += f"; it stays with {after.get('owner')}"
    else:
        text = "the consumer's contact status was changed"
    if before.get("status") != after.get("status") and action != "status":
        text += f" (status {before.get('status')} → {after.get('status')})"
    elif action == "status":
        text = (f"the consumer's contact status went from {before.get('status')} to "
                f"{after.get('status')}")
    return text


def render_changes(entries: Sequence[AuditEntry], zone: tzinfo = UTC) -> str:
    """The section of an explanation listing ``entries``; empty when there are none."""
    if not entries:
        return ""
    lines = ["Changes people made that bear on this lead:"]
    for entry in entries:
        when = entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
        lines.append(f"  {when} — {entry.actor}: {describe(entry)}")
    return "\n".join(lines)


def changes_json(entries: Sequence[AuditEntry]) -> list[dict[str, Any]]:
    """``entries`` as JSON values: seq, at, actor, action, the sentence, and the detail."""
    return [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
             "text": describe(e), "detail": e.detail} for e in entries]


def lead_changes(store: Any, lead_id: str, traces: Sequence[Trace], *,
                 lead: Lead | None = None) -> list[AuditEntry]:
    """The audit entries of ``store`` bearing on a stored lead (none for a store that keeps
    no audit history); ``lead``: the lead when the caller has it (it is not read again)."""
    audit = getattr(store, "audit", None)
    if lead is None:
        lead = store.get_lead(lead_id)
    if audit is None or lead is None:
        return []
    return bearing(audit(), traces, contact_key(lead))


def explanation(store: Any, lead_id: str, zone: tzinfo = UTC, *, lead: Lead | None = None,
                traces: Sequence[Trace] | None = None) -> str:
    """A stored lead's explanation: its decisions, then the changes that bear on it.  A caller
    that has the lead and all its traces already (a lead just decided) passes them, and they
    are not read back from the store."""
    if traces is None:
        traces = store.traces(lead_id)
    text = render_history(list(traces), zone)
    changes = render_changes(lead_changes(store, lead_id, traces, lead=lead), zone)
    return f"{text}\n\n{changes}" if changes else text
