"""The statements that store one decision in a SQL store, prepared before its transaction.

:func:`decision_writes` turns a decision (state, effects, trace) into :class:`Write` rows —
SQL text formatted once per dialect (:func:`statements`), parameters already in the
database's form (JSON text, instants as the store stamps them).  Preparing everything first
means a transaction holds the database's write lock only while its statements run back to
back, and the adapters differ only in how they send them (:meth:`Tx.write_all`).

The contract of :mod:`rulekit.storage.base` rests on the checked writes: a write that names a
problem must change exactly one row, else the store raises
:class:`~rulekit.storage.base.StaleState` and the transaction is rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from rulekit.model import Contact, Lead
from rulekit.pipeline.effects import (
    AdvanceRotation,
    AssignLead,
    CancelTimer,
    CloseOffer,
    Effect,
    EnqueueLead,
    MakeOffer,
    RecordAudit,
    ReportConflict,
    ScheduleTimer,
    SendNotification,
    SetOwner,
)
from rulekit.pipeline.facts import blank_contact
from rulekit.pipeline.state import LeadState
from rulekit.storage.sql_schema import Dialect
from rulekit.trace import Trace, encode_json

#: One statement of a decision's transaction: SQL, parameters in the database's form, and —
#: for a write whose row count is checked — the problem to report when it does not change
#: exactly one row (``None``: not checked).
Write = tuple[str, Sequence[Any], str | None]
#: How a store writes an instant (a UTC datetime, or text where instants are text).
Stamp = Callable[[datetime], Any]


# -- values ------------------------------------------------------------------------------------
def instant(value: datetime) -> datetime:
    """Instants are stored in UTC (a naive datetime is taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def state_json(state: LeadState) -> str:
    """``LeadState.to_dict()`` as JSON, without building the dict: the encoder writes the
    state and its pending offer as objects of their fields, instants as ISO 8601 text."""
    return encode_json(state)


def contact_json(contact: Contact) -> str:
    """A contact's own fields; its owners live in ``contact_owners``."""
    return contact.model_dump_json(exclude={"owner", "owners"})


# -- statements --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Statements:
    """The SQL of a decision's writes in one dialect."""

    lead: str
    first_state: str
    next_state: str
    trace: str
    assignment: str
    contact: str
    owner: str
    owned_status: str
    offer: str
    close_offer: str
    timer: str
    cancel_timer: str
    queue_item: str
    outbox: str
    rotation: str
    conflict: str
    audit: str

    @staticmethod
    @cache
    def agents(count: int) -> str:
        """Upsert of ``count`` agents' load and last offer, in one statement."""
        return ("INSERT INTO agents (agent, load, last_offered) VALUES "
                + ", ".join(["(?, ?, ?)"] * count)
                + " ON CONFLICT (agent) DO UPDATE SET"
                " load = agents.load + excluded.load,"
                " last_offered = COALESCE(excluded.last_offered, agents.last_offered)")


@cache
def statements(dialect: Dialect) -> Statements:
    j = dialect.json_param
    return Statements(
        lead=f"INSERT INTO leads (id, ruleset_version, lead) VALUES (?, ?, {j})"
        " ON CONFLICT (id) DO NOTHING",
        # the first decision: the row must not exist yet
        first_state=f"INSERT INTO lead_states (lead_id, serial, state) VALUES (?, ?, {j})"
        " ON CONFLICT (lead_id) DO NOTHING",
        next_state=f"UPDATE lead_states SET serial = ?, state = {j}"
        " WHERE lead_id = ? AND serial = ?",
        trace=f"INSERT INTO traces (lead_id, trace) VALUES (?, {j})",
        assignment="INSERT INTO assignments (lead_id, agent, how, at, rule)"
        " VALUES (?, ?, ?, ?, ?)",
        contact=f"INSERT INTO contacts (key, contact) VALUES (?, {j})"
        " ON CONFLICT (key) DO NOTHING",
        # the first owner stays
        owner="INSERT INTO contact_owners (contact_key, scope, agent) VALUES (?, ?, ?)"
        " ON CONFLICT (contact_key, scope) DO NOTHING",
        # a contact with no status takes the one its (first) owner gives it
        owned_status=owned_status_statement(dialect),
        # an offer id already stored means a racing decision of the same lead won
        offer="INSERT INTO offers (id, lead_id, agents, mode, status, created_at, deadline,"
        f" rule) VALUES (?, ?, {j}, ?, 'open', ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        close_offer="UPDATE offers SET status = ?, winner = ?, closed_at = ?"
        " WHERE id = ? AND status = 'open'",
        timer="INSERT INTO timers (id, lead_id, due, purpose) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET lead_id = excluded.lead_id,"
        " due = excluded.due, purpose = excluded.purpose",
        cancel_timer="DELETE FROM timers WHERE id = ?",
        queue_item="INSERT INTO queue_items (lead_id, queue, reason, at) VALUES (?, ?, ?, ?)",
        outbox="INSERT INTO outbox (lead_id, template, recipients, cc, subject, variables,"
        f" created_at, offer_id, deadline) VALUES (?, ?, {j}, {j}, ?, {j}, ?, ?, ?)",
        # one statement: a pool's first turn inserts the cursor; later turns move it only if
        # it is still where the decision read it (rows are never deleted, so a cursor read as
        # missing is missing or was inserted since — then 0 rows change)
        rotation="INSERT INTO rotations (pool_key, last_agent, last_index) VALUES (?, ?, ?)"
        " ON CONFLICT (pool_key) DO UPDATE SET last_agent = excluded.last_agent,"
        " last_index = excluded.last_index WHERE rotations.last_agent IS NOT DISTINCT FROM ?",
        conflict="INSERT INTO conflicts (lead_id, contact_key, owner, entered_by, scope_key)"
        " VALUES (?, ?, ?, ?, ?)",
        audit=f"INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, {j})",
    )


def owned_status_statement(dialect: Dialect) -> str:
    """Set a contact's status (parameter 1) when it has none and the owner in a scope
    (parameters 3, 4) is the agent (parameter 5), for the contact key (parameters 2, 3)."""
    if dialect.name == "postgresql":
        update = "contact = jsonb_set(contact, '{status}', to_jsonb(CAST(? AS TEXT)))"
        unset = "contact->>'status' IS NULL"
    else:
        update = "contact = json_set(contact, '$.status', ?)"
        unset = "json_extract(contact, '$.status') IS NULL"
    return (f"UPDATE contacts SET {update} WHERE key = ? AND {unset} AND EXISTS"
            " (SELECT 1 FROM contact_owners WHERE contact_key = ? AND scope = ? AND agent = ?)")


# -- one decision ------------------------------------------------------------------------------
def decision_writes(dialect: Dialect, stamp: Stamp, lead_id: str, expected_serial: int | None,
                    state: LeadState, effects: Sequence[Effect], trace: Trace, now: datetime,
                    lead: Lead | None = None) -> list[Write]:
    """The writes that store one decision, in order: the lead (with its first decision),
    its state (checked against ``expected_serial``), each effect, the agents' load and last
    offer (last, in one order, so concurrent decisions never deadlock on them), the trace."""
    sql = statements(dialect)
    at = stamp(now)
    writes: list[Write] = []
    if lead is not None:  # stored with its first decision (no-op if already there)
        writes.append((sql.lead, (lead.id, state.ruleset_version, lead.model_dump_json()),
                       None))
    changed = f"lead {lead_id} changed since it was read"
    if expected_serial is None:
        writes.append((sql.first_state, (lead_id, state.serial, state_json(state)), changed))
    else:
        writes.append((sql.next_state,
                       (state.serial, state_json(state), lead_id, expected_serial), changed))
    loads: dict[str, int] = {}
    offered: set[str] = set()
    for effect in effects:
        _effect_writes(sql, stamp, writes, lead_id, effect, at, loads, offered)
    if loads or offered:
        agents = sorted(loads.keys() | offered)
        values: list[Any] = []
        for agent in agents:
            values += (agent, loads.get(agent, 0), at if agent in offered else None)
        writes.append((Statements.agents(len(agents)), values, None))
    writes.append((sql.trace, (lead_id, trace.dumps()), None))
    return writes


def _effect_writes(sql: Statements, stamp: Stamp, writes: list[Write], lead_id: str,
                   effect: Effect, at: Any, loads: dict[str, int], offered: set[str]) -> None:
    add = writes.append
    if isinstance(effect, MakeOffer):
        add((sql.offer, (effect.offer_id, lead_id, encode_json(effect.agents), effect.mode, at,
                         stamp(effect.deadline) if effect.deadline else None, effect.rule),
             f"offer {effect.offer_id} exists already"))
        offered.update(effect.agents)
    elif isinstance(effect, ScheduleTimer):
        add((sql.timer, (effect.timer_id, lead_id, stamp(effect.due), effect.purpose), None))
    elif isinstance(effect, SendNotification):
        add((sql.outbox, (lead_id, effect.template, encode_json(effect.to), encode_json(effect.cc),
                          effect.subject, encode_json(dict(effect.variables)), at,
                          effect.offer_id,
                          None if effect.deadline is None else stamp(effect.deadline)), None))
    elif isinstance(effect, AssignLead):
        add((sql.assignment, (lead_id, effect.agent, effect.how, at, effect.rule), None))
        loads[effect.agent] = loads.get(effect.agent, 0) + 1
    elif isinstance(effect, CloseOffer):
        add((sql.close_offer, (effect.status, effect.winner, at, effect.offer_id),
             f"offer {effect.offer_id} is not open"))
    elif isinstance(effect, CancelTimer):
        add((sql.cancel_timer, (effect.timer_id,), None))
    elif isinstance(effect, SetOwner):
        add((sql.contact, (effect.contact_key, contact_json(blank_contact(effect.contact_key))),
             None))
        add((sql.owner, (effect.contact_key, effect.scope_key, effect.agent), None))
        add((sql.owned_status, (effect.status, effect.contact_key, effect.contact_key,
                                effect.scope_key, effect.agent), None))
    elif isinstance(effect, EnqueueLead):
        add((sql.queue_item, (lead_id, effect.queue, effect.reason, at), None))
    elif isinstance(effect, AdvanceRotation):
        add((sql.rotation, (effect.pool_key, effect.agent, effect.index, effect.previous),
             f"rotation of {effect.pool_key} moved"))
    elif isinstance(effect, ReportConflict):
        add((sql.conflict, (lead_id, effect.contact_key, effect.owner, effect.entered_by,
                            effect.scope_key), None))
    elif isinstance(effect, RecordAudit):
        add((sql.audit, (at, effect.actor, effect.action, encode_json(dict(effect.detail))),
             None))
    # DropLead and RejectAction change nothing stored: the state and trace say it all
