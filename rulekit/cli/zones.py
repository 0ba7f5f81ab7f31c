"""The ``--tz`` option of the commands that show times to people, and the brokerage's zone of
a store (its active world's, see :func:`~rulekit.world.brokerage_zone`)."""

from __future__ import annotations

import sys
from datetime import UTC, tzinfo

from rulekit.storage.base import RULESET, WORLD
from rulekit.storage.catalog import CatalogError, as_catalog, load_ruleset, load_world
from rulekit.world import brokerage_zone, zone_named


def chosen_zone(prog: str, name: str | None) -> tzinfo | None:
    """The zone ``--tz`` names (``None`` when not given); an unknown one is a usage error:
    one line on stderr and exit 2."""
    if not name:
        return None
    try:
        return zone_named(name)
    except LookupError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def store_zone(store: object) -> tzinfo:
    """The brokerage's zone for a store: :func:`~rulekit.world.brokerage_zone` of its active
    world and rule set; UTC when the store has neither (or they cannot be read)."""
    try:
        versions = as_catalog(store).active_versions()
        world = load_world(store, versions[WORLD]) if WORLD in versions else None
        if world is not None and (world.timezone is not None or world.calendars):
            return brokerage_zone(world)
        ruleset = (load_ruleset(store, versions[RULESET], world) if RULESET in versions
                   else None)
    except CatalogError:
        return UTC
    return brokerage_zone(world, ruleset)
