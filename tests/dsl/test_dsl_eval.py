"""Compiled evaluation on real model instances: operators, null semantics, every function."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dsl_helpers import NOW, FakeRuntime, compile_, make_lead

from rulekit.dsl import ANY, NUMBER, STRING, Env
from rulekit.model import Agent, Contact, Listing, Office

AGENT = Agent(
    id="a-jordan-lee",
    zips=["28277", "28202"],
    offices=["rmx-ballantyne", "rmx-2"],
    tags=["eteam", "trusted"],
    capacity=25,
)
CONTACT = Contact(id="c-1", owner="a-jordan-lee", owners={"global": "a-jordan-lee"}, interest=4)
OFFICE = Office(id="rmx-ballantyne", tags=["luxury"], city="Charlotte")


def run(text: str, context: str = "agent", *, expected: object = "bool", **env: object) -> object:
    values: dict[str, object] = {
        "lead": make_lead(),
        "now": NOW,
        "runtime": FakeRuntime(),
        "agent": AGENT,
        "agent_load": 3,
        "office": OFFICE,
        "office_agent_count": 12,
    }
    values.update(env)
    if context == "office":
        values.pop("agent")
    kwargs = {} if expected == "bool" else {"expected": expected}
    expr = compile_(text, context, **kwargs)  # type: ignore[arg-type]
    return expr(Env(**values))  # type: ignore[arg-type]


def test_basic_condition_on_a_lead() -> None:
    text = (
        'lead.source in ["remax.com", "spaw"] and lead.property.brand == "RE/MAX" '
        'and lead.property.price >= 250000 and lead.inquiry_type != "general"'
    )
    assert run(text) is True
    assert run(text, lead=make_lead(source="zillow.com")) is False
    assert run(text, lead=make_lead(inquiry_type="general")) is False
    assert run(text, lead=make_lead(property={"brand": "RE/MAX", "price": 100})) is False


def test_agent_and_office_computed_fields() -> None:
    assert run("agent.load == 3 and agent.office == 'rmx-ballantyne'") is True
    assert run("agent.load < 3") is False
    assert run("agent.office == null", agent=Agent(id="x")) is True
    assert run("office.agent_count * 2", "office", expected=NUMBER) == 24
    assert run("office.city == lead.property.city", "office") is True


@pytest.mark.parametrize(
    ("text", "result"),
    [
        # == and != treat null like any other value
        ("lead.channel == null", True),
        ("lead.channel != null", False),
        ("null == null", True),
        ("lead.channel == 'web'", False),
        ("lead.channel != 'web'", True),
        # ordering with null is false, whichever way round
        ("lead.property.price > 1", False),
        ("lead.property.price < 1", False),
        ("lead.property.price <= 1", False),
        ("1 <= lead.property.price", False),
        ("not (lead.property.price >= 1)", True),
        ("null < 1", False),
        # in with null value or list is false
        ("lead.channel in ['web', 'app']", False),
        ("lead.channel in ['web', null]", False),
        ("lead.channel not in ['web', null]", True),
        ("'x' in contact.owner", False),
        ("lead.channel in lead.attributes.missing", False),
        # arithmetic with null gives null
        ("lead.property.price + 1 == null", True),
        ("-lead.property.price == null", True),
        ("10 / 0 == null", True),
        # not null is true; and/or treat null as false
        ("not lead.attributes.missing", True),
        ("lead.attributes.missing or true", True),
        ("lead.attributes.missing and true", False),
        ("contact.owner == null and listing.status == null", True),
    ],
)
def test_null_semantics(text: str, result: bool) -> None:
    lead = make_lead(property={"zip": "28202"})
    value = run(text, lead=lead, contact=None, listing=None)
    assert value is result


def test_nullable_roots_present() -> None:
    listing = Listing(id="CMLS-1", status="active", price=400000)
    assert run("contact.owner == 'a-jordan-lee' and contact.interest >= 4", contact=CONTACT)
    assert run("listing.price > 300000 and listing.status == 'active'", listing=listing)
    assert run("contact.owners.global == 'a-jordan-lee'", contact=CONTACT) is True
    assert run("contact.owners.market == null", contact=CONTACT) is True


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("lower(lead.property.brand) == 're/max'", True),
        ("upper(lead.source) == 'REMAX.COM'", True),
        ("lower(lead.channel) == null", True),
        ("len(lead.source) == 9 and len(agent.zips) == 2", True),
        ("contains(lead.source, 'max')", True),
        ("contains(agent.zips, '28202')", True),
        ("contains(agent.zips, lead.channel)", False),
        ("starts_with(lead.property.zip, '282')", True),
        ("starts_with(lead.channel, '')", False),
        ("ends_with(lead.source, '.com')", True),
        ("coalesce(lead.channel, lead.source) == 'remax.com'", True),
        ("min(3, lead.property.price, 1) == 1", True),
        ("max(3, lead.property.price) == 325000", True),
        ("min(lead.channel, 'b') == 'b'", True),
        ("abs(0 - 5) == 5", True),
        ("round(2.567, 2) == 2.57 and round(2.5) == 2", True),
        ("overlaps(agent.tags, ['eteam', 'other'])", True),
        ("overlaps(agent.tags, ['x'])", False),
        ("any(z in agent.zips: starts_with(z, '282'))", True),
        ("all(z in agent.zips: starts_with(z, '282'))", True),
        ("all(z in agent.zips: z == '28277')", False),
        ("any(o in agent.offices: any(t in agent.tags: o == 'rmx-2' and t == 'eteam'))", True),
        ("lead.received_at > now - 6h", True),
        ("now - lead.received_at > 20m and now - lead.received_at < 30m", True),
        ("lead.attributes.campaign == 'fall-open-house'", True),
        ("lead.attributes.score > 5 and (lead.attributes.campaign > 3) == false", True),
        ("'fall' in lead.attributes.campaign", True),
        ("lead.attributes.score * 2 == 14", True),
    ],
)
def test_functions_and_operators(text: str, result: bool) -> None:
    assert run(text) is result


def test_ordering_on_any_is_false_when_types_differ() -> None:
    assert run("lead.attributes.campaign > 3") is False
    assert run("lead.attributes.campaign + 1 == null") is True


def test_owner_in_asks_the_runtime() -> None:
    runtime = FakeRuntime({"global": "a-jordan-lee", "market:CMLS": "a-sam"})
    assert run("owner_in('global') == agent.id", runtime=runtime) is True
    assert run("owner_in('market:' + lead.property.mls) == 'a-sam'", runtime=runtime) is True
    assert run("owner_in('channel') == null", runtime=runtime) is True


@pytest.mark.parametrize(
    ("now", "text", "result"),
    [
        (datetime(2026, 11, 24, 19, 30, tzinfo=UTC), 'is_open("office-hours")', True),
        (datetime(2026, 11, 24, 23, 30, tzinfo=UTC), 'is_open("office-hours")', False),
        (datetime(2026, 11, 24, 23, 30, tzinfo=UTC), 'after_hours("office-hours")', True),
        (datetime(2026, 12, 25, 15, 0, tzinfo=UTC), 'is_holiday("office-hours")', True),
        (datetime(2026, 12, 24, 15, 0, tzinfo=UTC), 'is_holiday("office-hours")', False),
        (datetime(2026, 11, 24, 19, 30, tzinfo=UTC), 'day_of_week("office-hours") == "tue"', True),
        (datetime(2026, 11, 25, 3, 0, tzinfo=UTC), 'day_of_week("office-hours") == "tue"', True),
        (datetime(2026, 11, 24, 19, 30, tzinfo=UTC), 'local_hour("office-hours") == 14', True),
        (
            datetime(2026, 11, 24, 13, 0, tzinfo=UTC),
            'local_time_between("office-hours", "08:00", "12:00")',
            True,
        ),
        (
            datetime(2026, 11, 24, 17, 0, tzinfo=UTC),
            'local_time_between("office-hours", "08:00", "12:00")',
            False,
        ),
        (
            datetime(2026, 11, 25, 4, 0, tzinfo=UTC),
            'local_time_between("evenings", "22:00", "06:00")',
            True,
        ),
        (
            datetime(2026, 11, 24, 20, 0, tzinfo=UTC),
            'local_time_between("evenings", "22:00", "06:00")',
            False,
        ),
    ],
)
def test_calendar_functions(now: datetime, text: str, result: bool) -> None:
    runtime = FakeRuntime()
    assert run(text, now=now, runtime=runtime) is result
    assert runtime.asked and set(runtime.asked) <= {"office-hours", "evenings"}


def test_non_boolean_results() -> None:
    assert run("lead.property.price / 1000", expected=NUMBER) == 325.0
    assert run("coalesce(contact.owner, lead.site_owner, 'nobody')", expected=STRING) == "nobody"
    assert run("lead.attributes.score", expected=ANY) == 7
    assert run("[1, 2] == [1, 2]") is True
    assert run("agent.zips == ['28277', '28202']") is True
    assert run("agent.zips != ['28277']") is True


def test_compiled_expression_metadata_and_read_fields() -> None:
    expr = compile_(
        "agent.load < 5 and lead.property.price > 1 and agent.office != null and "
        "contact.owner == null and lead.attributes.campaign != null",
        "agent",
    )
    assert expr.fields == (
        "agent.load",
        "lead.property.price",
        "agent.office",
        "contact.owner",
        "lead.attributes.campaign",
    )
    assert expr.location.line == 1 and expr.location.column == 1
    env = Env(make_lead(), agent=AGENT, agent_load=2)
    assert expr.read_fields(env) == {
        "agent.load": 2,
        "lead.property.price": 325000.0,
        "agent.office": "rmx-ballantyne",
        "contact.owner": None,
        "lead.attributes.campaign": "fall-open-house",
    }
    assert expr(env) is True
    assert expr.function(*env.arguments()) is True
    with pytest.raises(AttributeError):
        expr.text = "x"  # type: ignore[misc]


def test_non_null_fields_compare_directly() -> None:
    expr = compile_('lead.source == "a" and lead.property.price > 1')
    assert "lead.source == 'a'" in expr.source
    assert "is not None" in expr.source  # price is nullable
    assert "is not None and lead.source" not in expr.source
