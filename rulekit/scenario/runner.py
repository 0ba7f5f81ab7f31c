"""Run a scenario on a virtual clock: the engine, a store, and time that moves only between
events — firing every timer that falls due on the way, at its due instant."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from rulekit.config.load import load_text
from rulekit.config.project import build_world, check_paths
from rulekit.config.schema import validate_document
from rulekit.engine import Engine, ManualClock
from rulekit.errors import Diagnostic, DiagnosticSink, SourceLocation
from rulekit.model import Lead
from rulekit.pipeline import Decision
from rulekit.pipeline.effects import (
    AssignLead,
    CloseOffer,
    DropLead,
    EnqueueLead,
    MakeOffer,
    RejectAction,
    ReportConflict,
    SendNotification,
)
from rulekit.pipeline.facts import contact_key, identity_key
from rulekit.ruleset import RuleSet
from rulekit.scenario.expect import Check, Observed, Refusal, agent_ref, check_expectation
from rulekit.scenario.spec import Event, Scenario, ScenarioError, load_scenario
from rulekit.storage.base import Store
from rulekit.trace import Trace, render_history
from rulekit.world import World


@dataclass
class TimelineItem:
    at: datetime
    type: str
    lead: str | None = None
    agent: str | None = None
    offer: str | None = None
    rule: str | None = None
    text: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "type": self.type, "lead": self.lead,
                "agent": self.agent, "offer": self.offer, "rule": self.rule, "text": self.text}


@dataclass
class Result:
    path: Path
    name: str
    checks: list[Check] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    timeline: list[TimelineItem] = field(default_factory=list)
    behaviour: str = ""
    engine: Engine | None = None
    #: Every lead's decision traces, kept when the run ends (its store is closed then).
    traces: dict[str, list[Trace]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.ok for c in self.checks)

    def explain(self, lead_id: str, zone: tzinfo = UTC) -> str:
        """Why a lead of the scenario went where it went (``KeyError`` for another lead)."""
        return render_history(self.traces[lead_id], zone)


def timeline_items(decision: Decision, lead_id: str, *, zone: tzinfo = UTC,
                   notifications: bool = True) -> Iterator[TimelineItem]:
    """What a decision did, as timeline lines (deadlines shown in ``zone``)."""
    at = decision.trace.at
    for effect in decision.effects:
        if isinstance(effect, MakeOffer):
            kind = {"broadcast": "broadcast", "qualify": "qualify"}.get(effect.mode, "offer")
            agent = effect.agents[0] if len(effect.agents) == 1 else None
            until = (f" until {effect.deadline.astimezone(zone):%a %Y-%m-%d %H:%M %Z}"
                     if effect.deadline else "")
            yield TimelineItem(at, kind, lead_id, agent, effect.offer_id, effect.rule,
                               f"{kind} to {agent or f'{len(effect.agents)} agents'}{until}")
        elif isinstance(effect, AssignLead):
            yield TimelineItem(at, "assigned", lead_id, effect.agent, None, effect.rule,
                               f"{effect.how} to {effect.agent}")
        elif isinstance(effect, CloseOffer):
            yield TimelineItem(at, f"offer_{effect.status.split(':')[0]}", lead_id,
                               effect.winner, effect.offer_id, None,
                               f"offer {effect.status}" + (f" by {effect.winner}"
                                                           if effect.winner else ""))
        elif isinstance(effect, EnqueueLead):
            yield TimelineItem(at, "queued", lead_id, None, None, effect.rule,
                               f"queue {effect.queue}: {effect.reason or ''}".rstrip(": "))
        elif isinstance(effect, DropLead):
            yield TimelineItem(at, "dropped", lead_id, None, None, effect.rule, effect.reason)
        elif isinstance(effect, SendNotification) and notifications:
            subject = f" “{effect.subject}”" if effect.subject else ""
            yield TimelineItem(at, "notification", lead_id, None, None, None,
                               f"{effect.template}{subject} to {', '.join(effect.to)}")
        elif isinstance(effect, ReportConflict):
            yield TimelineItem(at, "conflict", lead_id, effect.entered_by, None, None,
                               f"contact owned by {effect.owner}, entered by "
                               f"{effect.entered_by}")
        elif isinstance(effect, RejectAction):
            yield TimelineItem(at, "rejected", lead_id, effect.agent, None, None, effect.reason)


def _store(kind: str, workdir: Path) -> Store:
    if kind == "sqlite":
        from rulekit.storage.url import open_store

        return open_store(f"sqlite:///{workdir / 'scenario.db'}")
    from rulekit.storage import MemoryStore

    return MemoryStore()


class Runner:
    """Plays one scenario's events against an engine."""

    def __init__(self, scenario: Scenario, ruleset: RuleSet, world: World, store: Store) -> None:
        self.scenario = scenario
        self.clock = ManualClock(scenario.start)
        self.engine = Engine(ruleset, world, store, clock=self.clock)
        self.timeline: list[TimelineItem] = []
        self.revision = 0
        self.observed = Observed()

    def record(self, decision: Decision, lead_id: str, *, answer: str | None = None,
               offer: str | None = None) -> None:
        """Keep what the decision did: its timeline lines, the rule of its outcome, and the
        answers it refused (``answer``: the scripted action it decided)."""
        self.timeline.extend(timeline_items(decision, lead_id))
        for effect in decision.effects:
            if isinstance(effect, (AssignLead, EnqueueLead, DropLead, MakeOffer)):
                self.observed.rules[lead_id] = effect.rule
            elif isinstance(effect, RejectAction) and answer is not None:
                self.observed.refusals.append(Refusal(lead_id, effect.agent, answer, offer,
                                                      decision.trace.at, effect.reason))

    def agent(self, ref: Any) -> str:
        """An agent id of an event: an id, or ``{winner_of: LEAD}`` read now."""
        try:
            return agent_ref(self.engine, ref, yet=" yet")
        except ValueError as exc:
            raise ScenarioError([Diagnostic(
                "RK105", f"{self.current.kind if self.current else 'event'} event: {exc}",
                self.current.location if self.current else None)]) from None

    def advance(self, until: datetime) -> None:
        for decision in self.engine.tick(until):
            self.timeline.append(TimelineItem(decision.trace.at, "timer", decision.trace.lead_id,
                                              text="deadline or hold reached"))
            self.record(decision, decision.trace.lead_id)
        if until > self.clock.now():
            self.clock.set(until)

    def open_agent(self, lead_id: str, agent: str) -> tuple[str, str]:
        """The offer an answer goes to, and the answering agent: the lead's open offer; for a
        named agent it was not made to, the latest offer that was (a late answer is still
        delivered, and the engine refuses it); else the lead's latest offer."""
        state = self.engine.state(lead_id)
        offers = self.engine.store.offers(lead_id)
        pending = state.pending if state is not None else None
        if pending is not None and pending.offer_id and (
                agent == "offered" or agent in pending.agents):
            offer_id, agents = pending.offer_id, pending.agents
        elif mine := [o for o in offers if agent in o.agents]:
            offer_id, agents = mine[-1].offer_id, mine[-1].agents
        elif pending is not None and pending.offer_id:
            offer_id, agents = pending.offer_id, pending.agents
        else:
            if not offers:
                raise ScenarioError([Diagnostic(
                    "RK105", f"lead {lead_id} was never offered to anyone",
                    self.current.location if self.current else None)])
            offer_id, agents = offers[-1].offer_id, offers[-1].agents
        return offer_id, agents[0] if agent == "offered" else agent

    current: Event | None = None

    def play(self, event: Event) -> None:
        self.current = event
        self.advance(event.at)
        body = event.body
        kind = event.kind
        engine = self.engine
        at = event.at
        if kind == "lead":
            self._submit(dict(body), at)
        elif kind == "leads":
            prefix = body.get("prefix", "lead")
            for n in range(body["count"]):
                payload = {**body["template"], "id": f"{prefix}-{n}"}
                payload.setdefault("contact", {"email": f"{prefix}-{n}@example.com"})
                self._submit(payload, at)
        elif kind in ("accept", "decline"):
            offer, agent = self.open_agent(body["lead"], self.agent(body["agent"]))
            self.timeline.append(TimelineItem(at, kind, body["lead"], agent, offer,
                                              text=f"{agent} {kind}s offer {offer}"))
            handler = engine.accept if kind == "accept" else engine.decline
            self.record(handler(offer, agent, at), body["lead"], answer=kind, offer=offer)
        elif kind == "verdict":
            qualifier = self.agent(body.get("qualifier", "offered"))
            state = engine.state(body["lead"])
            asked = state.pending.offer_id if state and state.pending else None
            if qualifier == "offered":
                asked, qualifier = self.open_agent(body["lead"], "offered")
            self.timeline.append(TimelineItem(at, "verdict", body["lead"], qualifier,
                                              text=body["verdict"]))
            self.record(engine.verdict(body["lead"], body["verdict"], qualifier, at),
                        body["lead"], answer="verdict", offer=asked)
        elif kind == "reassign":
            self.record(engine.reassign(body["lead"], self.agent(body["agent"]),
                                        body.get("by", "admin"), body.get("reason"), at),
                        body["lead"], answer="reassign")
        elif kind == "activity":
            self._activity(body, at)
        elif kind == "contact":
            self._change_contact(body, at)
        elif kind == "pool":
            self._edit_pool(body, at)
        elif kind == "agent":
            self._edit_agent(body, at)
        elif kind == "policy":
            self._edit_policy(body, at)
        # "advance" only moves the clock, which advance() above did

    def _activity(self, body: dict[str, Any], at: datetime) -> None:
        """The lead's agent (by default its assignee now) logs a contact with the consumer."""
        lead_id = body["lead"]
        agent = self.agent(body.get("agent", {"winner_of": lead_id}))
        activity = body.get("kind", "call")
        self.timeline.append(TimelineItem(at, "activity", lead_id, agent,
                                          text=f"{agent} logs a {activity}"))
        self.record(self.engine.log_activity(lead_id, agent, activity, body.get("note", ""),
                                             at), lead_id, answer="activity")

    def _change_contact(self, body: dict[str, Any], at: datetime) -> None:
        """A contact lifecycle action (share, unshare, transfer, delete, status)."""
        if "email" in body:
            key = identity_key(body["email"], None)
        else:
            lead = self.engine.store.get_lead(body["lead"])
            if lead is None:
                raise KeyError(body["lead"])
            key = contact_key(lead)
        if key is None:
            raise ValueError("the lead has no email or phone, so no contact")
        agent = self.agent(body["agent"]) if "agent" in body else None
        action = body["action"]
        try:
            change = self.engine.change_contact(key, action, by=body.get("by", "concierge"),
                                                reason=body.get("reason", ""), agent=agent,
                                                status=body.get("status"),
                                                lead_id=body.get("lead"), now=at)
        except ValueError as exc:  # a refused action: the scenario asks for the impossible
            raise ScenarioError([Diagnostic("RK105", f"contact event: {exc}",
                                            self.current.location if self.current else None)
                                 ]) from None
        what = {"status": f"status {body.get('status')}"}.get(action, action)
        self.timeline.append(TimelineItem(at, "contact", body.get("lead"), agent,
                                          text=f"contact {key}: {what}"
                                          + (f" {agent}" if agent else "")))
        for given in change.leads:  # a resolved ownership conflict's waiting lead
            if given.routed:
                self.timeline.append(TimelineItem(at, "reassigned", given.lead_id, given.agent,
                                                  text=given.note))

    def _submit(self, payload: dict[str, Any], at: datetime) -> None:
        lead = Lead.model_validate({"received_at": at.isoformat(), **payload})
        self.timeline.append(TimelineItem(at, "lead", lead.id, text=f"lead from {lead.source}"
                                          + (f" ({lead.channel})" if lead.channel else "")))
        decision = self.engine.receive(lead, at)
        if decision is None:
            self.timeline.append(TimelineItem(at, "duplicate", lead.id,
                                              text="already received; first decision stands"))
        else:
            self.record(decision, lead.id)

    def _new_ruleset(self, ruleset: RuleSet) -> None:
        self.revision += 1
        self.engine.add_ruleset(dataclasses.replace(
            ruleset, version=f"{ruleset.version.split('+')[0]}+{self.revision}"))

    def _edit_pool(self, body: dict[str, Any], at: datetime) -> None:
        ruleset = self.engine.ruleset
        pool = ruleset.pools[body["name"]]
        members = list(pool.members if pool.members is not None else self.engine.world.agents)
        members = [m for m in members if m not in set(body.get("remove", ()))]
        members += [m for m in body.get("add", ()) if m not in members]
        pools = {**ruleset.pools, pool.name: dataclasses.replace(pool, members=tuple(members))}
        self._new_ruleset(dataclasses.replace(ruleset, pools=pools))
        self.timeline.append(TimelineItem(at, "admin", text=f"pool {pool.name} now "
                                          f"{', '.join(members)}"))

    def _edit_policy(self, body: dict[str, Any], at: datetime) -> None:
        ruleset = self.engine.ruleset
        ruleset.policy(body["name"])  # KeyError for an unknown policy
        policies = tuple(dataclasses.replace(p, enabled=body["enabled"])
                         if p.name == body["name"] else p for p in ruleset.policies)
        self._new_ruleset(dataclasses.replace(ruleset, policies=policies))
        self.timeline.append(TimelineItem(at, "admin", text=f"policy {body['name']} "
                                          f"{'enabled' if body['enabled'] else 'disabled'}"))

    def _edit_agent(self, body: dict[str, Any], at: datetime) -> None:
        world = self.engine.world
        agent = world.agents[body["id"]]
        changes = {k: v for k, v in body.items() if k != "id"}
        self.engine.world = world.with_agent(agent.id, **changes)
        self.timeline.append(TimelineItem(at, "admin", agent=agent.id,
                                          text=f"agent {agent.id} {changes}"))


def _what(kind: str) -> str:
    return {"pool": "pool", "agent": "agent", "policy": "policy"}.get(kind, "lead or agent")


def _load_world(scenario: Scenario, sink: DiagnosticSink) -> World | None:
    if isinstance(scenario.world, dict):
        import yaml

        doc = load_text(yaml.safe_dump(scenario.world), f"{scenario.path} (inline world)")
        problems = validate_document(doc, "world")
        if problems:
            sink.items.extend(problems)
            return None
        return build_world(doc, sink)
    result = check_paths([scenario.world])
    sink.items.extend(result.diagnostics)
    return result.worlds.get(str(scenario.world))


def run_scenario(path: Path | str) -> Result:
    """Run one scenario file; problems (invalid file or rules) make it fail with diagnostics."""
    path = Path(path)
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        return Result(path, path.name, problems=exc.diagnostics)
    result = Result(path, scenario.name, behaviour=scenario.behaviour)
    rule_files = sorted(p for p in scenario.rules.glob("*.y*ml")
                        if p.is_file() and p != scenario.world)
    checked = check_paths(rule_files)
    errors = [d for d in checked.diagnostics if d.severity == "error"]
    if errors or str(scenario.rules) not in checked.rulesets:
        result.problems = errors or [Diagnostic(
            "RK303", f"no rule files in {scenario.rules}", SourceLocation(str(path), 1, 1))]
        return result
    sink = DiagnosticSink()
    world = _load_world(scenario, sink)
    if world is None:
        result.problems = sink.items or [Diagnostic("RK008", f"no world at {scenario.world}")]
        return result
    with tempfile.TemporaryDirectory() as tmp:
        store = _store(scenario.store, Path(tmp))
        runner = Runner(scenario, checked.rulesets[str(scenario.rules)], world, store)
        try:
            for event in scenario.events:
                try:
                    runner.play(event)
                except KeyError as exc:  # an unknown lead, pool, agent or policy
                    name = exc.args[0] if exc.args else "?"
                    raise ScenarioError([Diagnostic(
                        "RK105", f"{event.kind} event: unknown {_what(event.kind)} '{name}'",
                        event.location)]) from None
            if scenario.end is not None:
                runner.advance(scenario.end)
        except ScenarioError as exc:
            result.problems = exc.diagnostics
        result.timeline = runner.timeline
        result.engine = runner.engine
        if not result.problems:
            result.checks = [check_expectation(runner.engine, scenario, spec, location,
                                               runner.observed)
                             for spec, location in scenario.expect]
        result.traces = {lead_id: store.traces(lead_id) for lead_id in store.lead_ids()}
        close = getattr(store, "close", None)
        if close is not None:
            close()
    return result
