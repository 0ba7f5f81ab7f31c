"""Pausing agents a decision asked to pause (:class:`~rulekit.pipeline.effects.PauseAgent`:
an agent who missed too many first-contact SLAs), once the decision is committed.

The decision stays pure: it only emits the effect.  The engine then makes the same audited
world edit an administrator's pause makes — :func:`rulekit.storage.catalog.pause_agent`, a new
world version activated with an audit entry naming the reason — when its store keeps an
active world, and pauses the agent in the world it routes with at once, so its next decisions
pass them over.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from rulekit.pipeline.effects import Effect, PauseAgent
from rulekit.world import World

log = logging.getLogger("rulekit.engine")

#: Who the world edit names as its author.
ACTOR = "rulekit"


def paused_world(world: World, agent: str) -> World:
    """``world`` with ``agent`` paused (the same world if they are not in it or already
    paused)."""
    found = world.agents.get(agent)
    if found is None or found.paused:
        return world
    return world.with_agent(agent, paused=True)


def _edit_catalog(store: object, effect: PauseAgent, at: datetime) -> None:
    """The audited world edit, when the store keeps an active world; a failure is logged
    (the decision is committed already: the agent is still paused in the engine's world)."""
    versions = getattr(store, "active_versions", None)
    if versions is None:
        return
    from rulekit.storage.base import WORLD
    from rulekit.storage.catalog import CatalogError, pause_agent

    try:
        if WORLD not in versions():
            return
        pause_agent(store, effect.agent, True, by=ACTOR, now=at, reason=effect.reason)
    except CatalogError as error:
        log.error("could not pause agent %s in the stored world: %s", effect.agent, error)


def apply_pauses(store: object, world: World, effects: Sequence[Effect],
                 at: datetime) -> World:
    """Apply the decision's :class:`PauseAgent` effects; the world to route with next."""
    for effect in effects:
        if isinstance(effect, PauseAgent):
            found = world.agents.get(effect.agent)
            if found is None or found.paused:
                continue
            _edit_catalog(store, effect, at)
            world = paused_world(world, effect.agent)
            log.info("agent %s paused: %s", effect.agent, effect.reason)
    return world


__all__ = ["apply_pauses", "paused_world"]
