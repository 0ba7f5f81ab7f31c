"""The contact lifecycle: how a contact's status, owner and shared agents change.

A contact's status (:class:`~rulekit.model.ContactStatus`) is kept by two hands:

* **routing** — a decision that makes an agent the contact's owner (a ``SetOwner`` effect)
  makes a contact that has no status yet ``assigned``, or ``agent_database`` when the lead was
  entered by hand by that very agent (:func:`owned_status`), in the decision's transaction;
* **actions** people take (:data:`ACTIONS`), each audited with its actor: ``share`` with an
  agent, ``unshare``, ``transfer`` to an agent, ``delete`` an agent's record of the contact, and
  ``status`` (mark ``pending`` — under contract —, ``closed``, or ``assigned`` again).

:func:`change` is the one pure function every store runs inside its transaction: from the
contact as stored (and the ownership conflicts reported on it) to the contact after the action,
or a :class:`ContactChangeError` that names the field at fault.  Which agents exist is the
world's business, checked by the caller (:func:`check_agent`) before the store is asked.

A change that makes the agent who entered a conflicting lead the contact's owner resolves that
ownership conflict (:func:`resolved`); :meth:`rulekit.engine.Engine.change_contact` then routes
the waiting lead to them and reports it in its :class:`ContactChange`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rulekit.model import Contact, ContactStatus, Lead
from rulekit.pipeline.facts import identity_key

SHARE, UNSHARE, TRANSFER, DELETE, STATUS = "share", "unshare", "transfer", "delete", "status"
#: The actions on a contact, in the order the docs list them.
ACTIONS = (SHARE, UNSHARE, TRANSFER, DELETE, STATUS)
#: The statuses the ``status`` action may set; ``agent_database`` and ``shared`` follow from
#: how the contact was entered and whom it is shared with.
SETTABLE = (ContactStatus.PENDING, ContactStatus.CLOSED, ContactStatus.ASSIGNED)
#: The scope key of the global owner (``Contact.owner``).
GLOBAL = "global"

_SHAREABLE = (ContactStatus.AGENT_DATABASE, ContactStatus.ASSIGNED, ContactStatus.SHARED)
_DEAL = (ContactStatus.PENDING, ContactStatus.CLOSED)


class ContactChangeError(ValueError):
    """An action a contact cannot take; ``field`` names the input at fault (``action``,
    ``agent``, ``status``, ``contact``) and ``code`` the kind of refusal."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class Conflict:
    """A reported ownership conflict: ``entered_by`` entered a contact ``owner`` owned (in
    the scope ``scope_key``), by the lead ``lead_id`` that waits for the agents to agree."""

    owner: str
    entered_by: str
    scope_key: str
    lead_id: str | None = None


#: The audit action of a waiting lead given to its entering agent when a contact change
#: resolved its ownership conflict (:class:`ConflictLead`).
CONFLICT_RESOLVED = "conflict_resolved"


@dataclass(frozen=True, slots=True)
class ConflictLead:
    """A lead whose ownership conflict a contact change resolved: the agent who entered it
    (``agent``) now owns the contact, so the lead was ``routed`` to them, or left as it was
    (already assigned); ``note`` says which, in words."""

    lead_id: str
    agent: str
    routed: bool
    note: str


@dataclass(frozen=True, slots=True)
class ContactChange:
    """What a contact lifecycle action did: the contact before (``None``: not on record) and
    after, and the leads whose ownership conflict it resolved (:func:`resolved`)."""

    before: Contact | None
    after: Contact
    leads: tuple[ConflictLead, ...] = ()

    @property
    def routed(self) -> tuple[str, ...]:
        """The ids of the leads the change routed to their entering agent."""
        return tuple(c.lead_id for c in self.leads if c.routed)


def owner_of(contact: Contact) -> str | None:
    """The contact's global owner (``Contact.owner``, or ``owners["global"]``)."""
    return contact.owner or contact.owners.get(GLOBAL)


def main_owner(contact: Contact) -> str | None:
    """The agent a contact is with: its global owner, else its first owner in a scope (a
    policy may record ownership per market or channel only)."""
    return owner_of(contact) or next(
        (a for s, a in contact.owners.items() if s != GLOBAL), None)


def owners_of(contact: Contact) -> set[str]:
    """Every agent owning the contact, in any scope."""
    found = {a for s, a in contact.owners.items() if s != GLOBAL}
    owner = owner_of(contact)
    return found | {owner} if owner else found


def owned_status(contact: Contact) -> ContactStatus | None:
    """The status a contact has from its ownership alone: none without an owner,
    ``agent_database`` when its owner entered it, ``assigned`` otherwise."""
    owner = main_owner(contact)
    if owner is None:
        return None
    if contact.entered_by == owner:
        return ContactStatus.AGENT_DATABASE
    return ContactStatus.ASSIGNED


def seeded(contact: Contact) -> Contact:
    """A known contact (from the world) as stored: a contact given no status takes the one
    its ownership gives it (:func:`owned_status`), ``shared`` when it is shared."""
    return contact if contact.status is not None else _resettled(contact)


def check_action(action: str, agent: str | None, status: str | None) -> None:
    """The inputs an action needs, whatever the contact: an agent for share, unshare,
    transfer and delete, one of :data:`SETTABLE` for status."""
    if action not in ACTIONS:
        raise ContactChangeError("action", f"unknown action {action!r}; one of "
                                 f"{', '.join(ACTIONS)}")
    if action == STATUS:
        if status not in {s.value for s in SETTABLE}:
            raise ContactChangeError("status", f"{status!r} cannot be set; one of "
                                     f"{', '.join(s.value for s in SETTABLE)}")
    elif not agent:
        raise ContactChangeError("agent", f"the {action} action needs an agent")


def check_agent(agent: str | None, known: Collection[str]) -> None:
    """``agent`` (when given) is an agent of the world."""
    if agent is not None and agent not in known:
        raise ContactChangeError("agent", f"no agent {agent!r} in the world", "unknown-agent")


def _status_name(status: ContactStatus | None) -> str:
    return "with no status" if status is None else str(status.value)


def change(contact: Contact | None, key: str, action: str, *, agent: str | None = None,
           status: str | None = None, conflicts: Sequence[Conflict] = ()) -> Contact:
    """The contact after ``action`` (see the module docstring); ``contact`` is the contact as
    stored (``None``: not on record), ``conflicts`` the conflicts reported on it, oldest
    first.  Raises :class:`ContactChangeError` for an action it cannot take."""
    check_action(action, agent, status)
    if contact is None:
        raise ContactChangeError("contact", f"no contact {key!r} on record", "unknown-contact")
    owner = main_owner(contact)
    global_owner = owner_of(contact)
    owners = {s: a for s, a in contact.owners.items() if s != GLOBAL}
    shared = list(contact.shared_with)
    current = contact.status
    if action == SHARE:
        assert agent is not None
        if owner is None:
            raise ContactChangeError("contact", f"contact {key!r} has no owner to share it")
        if agent in owners_of(contact):
            raise ContactChangeError("agent", f"{agent} owns contact {key!r}: it cannot be "
                                     "shared with its owner")
        if agent in shared:
            raise ContactChangeError("agent", f"contact {key!r} is shared with {agent} "
                                     "already")
        if current not in _SHAREABLE and current is not None:
            raise ContactChangeError("status", f"contact {key!r} is {_status_name(current)}: "
                                     "only an agent_database, assigned or shared contact can "
                                     "be shared", "bad-transition")
        return contact.model_copy(update={"shared_with": [*shared, agent],
                                          "status": ContactStatus.SHARED})
    if action == UNSHARE:
        assert agent is not None
        if agent not in shared:
            raise ContactChangeError("agent", f"contact {key!r} is not shared with {agent}")
        shared.remove(agent)
        after = contact.model_copy(update={"shared_with": shared})
        return _resettled(after)
    if action == TRANSFER:
        assert agent is not None
        if agent == owner:
            raise ContactChangeError("agent", f"{agent} owns contact {key!r} already")
        # the scopes the contact's owner held move; a contact without any owner is given
        # to the agent globally
        moved = {s: (agent if a == owner else a) for s, a in owners.items()}
        new_global = agent if global_owner == owner else global_owner
        return transferred(contact.model_copy(update={"owner": new_global, "owners": moved}),
                           agent)
    if action == DELETE:
        assert agent is not None
        return _delete(contact, key, agent, global_owner, owners, shared, conflicts)
    assert status is not None  # checked by check_action
    wanted = ContactStatus(status)
    if owner is None:
        raise ContactChangeError("contact", f"contact {key!r} has no owner: only an owned "
                                 "contact has a deal status", "bad-transition")
    if wanted == current:
        raise ContactChangeError("status", f"contact {key!r} is {wanted.value} already",
                                 "bad-transition")
    if wanted == ContactStatus.PENDING and current == ContactStatus.CLOSED:
        raise ContactChangeError("status", f"contact {key!r} is closed: a closed contact "
                                 "cannot become pending (set it assigned first)",
                                 "bad-transition")
    if wanted == ContactStatus.ASSIGNED:
        if current not in _DEAL:
            raise ContactChangeError("status", f"contact {key!r} is {_status_name(current)}: "
                                     "only a pending or closed contact is set assigned again",
                                     "bad-transition")
        return _resettled(contact.model_copy(update={"status": None}))
    return contact.model_copy(update={"status": wanted})


def transferred(contact: Contact, to_agent: str) -> Contact:
    """A contact whose global ownership an ownership transfer gave to ``to_agent``
    (``Access.transfer_contacts``), as the ``transfer`` action leaves it: the new owner is no
    longer among the shared agents; status ``assigned`` (``shared`` while others share it), a
    pending or closed contact keeping its status."""
    shared = [a for a in contact.shared_with if a != to_agent]
    status = contact.status if contact.status in _DEAL else (
        ContactStatus.SHARED if shared else ContactStatus.ASSIGNED)
    return contact.model_copy(update={"shared_with": shared, "status": status})


def _resettled(contact: Contact) -> Contact:
    """The status of a contact whose sharing or ownership changed: a deal status stays while
    it has an owner; otherwise shared while shared, else what its ownership gives."""
    if contact.status in _DEAL and owned_status(contact) is not None:
        return contact
    status = owned_status(contact)
    if status is not None and contact.shared_with:
        status = ContactStatus.SHARED
    return contact.model_copy(update={"status": status})


def _delete(contact: Contact, key: str, agent: str, owner: str | None,
            owners: dict[str, str], shared: list[str],
            conflicts: Sequence[Conflict]) -> Contact:
    """Delete ``agent``'s record of the contact: a shared agent's share, or an owner's
    ownerships.  Where a conflict was reported against that owner (another agent entered the
    contact by hand), the entering agent's record stands: they own it in that scope, in their
    own database."""
    held = ([GLOBAL] if owner == agent else []) + [s for s, a in owners.items() if a == agent]
    if not held:
        if agent in shared:
            return _resettled(contact.model_copy(
                update={"shared_with": [a for a in shared if a != agent]}))
        raise ContactChangeError("agent", f"{agent} has no record of contact {key!r}")
    update: dict[str, Any] = {"shared_with": []}
    new_owner = None if owner == agent else owner
    for scope in held:
        heir = next((c.entered_by for c in reversed(conflicts)
                     if c.owner == agent and c.scope_key == scope), None)
        if scope == GLOBAL:
            new_owner = heir
        elif heir is None:
            owners.pop(scope)
        else:
            owners[scope] = heir
        if heir is not None:
            update["entered_by"] = heir
    update["owner"] = new_owner
    update["owners"] = owners
    update["status"] = None
    return _resettled(contact.model_copy(update=update))


def owner_in(contact: Contact | None, scope_key: str) -> str | None:
    """The contact's owner in one scope (``global``: :func:`owner_of`)."""
    if contact is None:
        return None
    return owner_of(contact) if scope_key == GLOBAL else contact.owners.get(scope_key)


def resolved(before: Contact | None, after: Contact,
             conflicts: Sequence[Conflict]) -> list[Conflict]:
    """The conflicts (with their lead) a change from ``before`` to ``after`` resolved: the
    agent who entered the contact owns it in the conflict's scope now, and did not before —
    one per lead, oldest first."""
    found: dict[str, Conflict] = {}
    for conflict in conflicts:
        if conflict.lead_id is None or conflict.lead_id in found:
            continue
        if owner_in(after, conflict.scope_key) == conflict.entered_by \
                and owner_in(before, conflict.scope_key) != conflict.entered_by:
            found[conflict.lead_id] = conflict
    return list(found.values())


def resolution_reason(conflict: Conflict, action: str, reason: str = "") -> str:
    """Why a resolved conflict's lead goes to its entering agent, for its reassignment."""
    how = (f"{conflict.owner}'s record of the contact was deleted" if action == DELETE
           else f"{conflict.owner} transferred the contact to {conflict.entered_by}"
           if action == TRANSFER else f"{conflict.entered_by} owns the contact now")
    return f"ownership conflict resolved: {how}" + (f" ({reason})" if reason else "")


def snapshot(contact: Contact | None) -> dict[str, Any]:
    """What an audit entry keeps of a contact before or after a change."""
    if contact is None:
        return {"status": None, "owner": None, "owners": {}, "shared_with": []}
    return {"status": None if contact.status is None else contact.status.value,
            "owner": owner_of(contact),
            "owners": {s: a for s, a in sorted(contact.owners.items()) if s != GLOBAL},
            "shared_with": list(contact.shared_with)}


def change_contact(store: Any, contact_key: str, action: str, *, by: str, reason: str,
                   at: datetime, agent: str | None = None, status: str | None = None,
                   lead_id: str | None = None,
                   agents: Collection[str] | None = None) -> tuple[Contact | None, Contact]:
    """Run ``action`` on a stored contact through ``store`` (an
    :class:`~rulekit.storage.base.Access`), audited as ``by``: the inputs are checked first,
    ``agent`` against ``agents`` (the world's agent ids) when given, then the store runs the
    action in one transaction.  The contact before and after."""
    check_action(action, agent, status)
    if agents is not None:
        check_agent(agent, agents)
    before, after = store.change_contact(contact_key, action, by=by, reason=reason, at=at,
                                         agent=agent, status=status, lead_id=lead_id)
    return before, after


def contact_view(key: str, contact: Contact) -> dict[str, Any]:
    """A stored contact as JSON values: its key, who it is, its status, owners and shares."""
    return {"key": key, "id": contact.id, "name": contact.name, "email": contact.email,
            "phone": contact.phone, **snapshot(contact), "lead_status": contact.lead_status,
            "entered_by": contact.entered_by}


def shared_with(store: Any, lead: Lead) -> list[str]:
    """The agents the contact behind ``lead`` is shared with (none without a contact)."""
    key = identity_key(lead.contact.email, lead.contact.phone)
    contact = store.facts().contact(key) if key else None
    return [] if contact is None else list(contact.shared_with)
