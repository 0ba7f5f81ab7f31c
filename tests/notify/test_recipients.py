"""Where a notification's recipient is reached: ``rulekit.notify.recipients.resolve``."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rulekit.model import Agent, Staff
from rulekit.notify.recipients import (
    DEFAULT_SECRET_ENV,
    Address,
    display_name,
    is_email_address,
    is_webhook_url,
    resolve,
)
from rulekit.world import World

WORLD = World.build(
    "charlotte",
    agents=[
        Agent(id="a-jordan-lee", name="Jordan Lee", email="jordan.lee@example.com",
              webhook="https://crm.example.com/hooks/rulekit",
              webhook_secret_env="RULEKIT_WEBHOOK_SECRET_CRM"),
        Agent(id="a-sam-park", name="Sam Park", email="sam.park@example.com"),
        Agent(id="a-casey-diaz", webhook="http://127.0.0.1:8080/hook"),
        Agent(id="a-quiet"),
    ],
    staff=[
        Staff(id="s-office-admin", name="Morgan Hale", email="office-admin@example.com",
              offices=["rmx-ballantyne"], roles=["office-admin"]),
        Staff(id="s-lead-desk", name="Lead Desk", webhook="https://desk.example.com/in",
              roles=["lead-desk"]),
        Staff(id="s-manager", name="Riley Moss", roles=["manager"]),
    ],
)


def test_an_agent_with_email_and_webhook_gets_both() -> None:
    assert resolve(WORLD, "a-jordan-lee") == [
        Address("email", "jordan.lee@example.com", name="Jordan Lee"),
        Address("webhook", "https://crm.example.com/hooks/rulekit",
                secret_env="RULEKIT_WEBHOOK_SECRET_CRM", name="Jordan Lee"),
    ]


def test_an_agent_with_one_channel_gets_one_address() -> None:
    assert resolve(WORLD, "a-sam-park") == [
        Address("email", "sam.park@example.com", name="Sam Park")]
    # no secret of its own: signed with the default secret; no name: none shown
    assert resolve(WORLD, "a-casey-diaz") == [Address("webhook", "http://127.0.0.1:8080/hook")]


def test_staff_are_resolved_by_id() -> None:
    assert resolve(WORLD, "s-office-admin") == [
        Address("email", "office-admin@example.com", name="Morgan Hale")]
    assert resolve(WORLD, "s-lead-desk") == [
        Address("webhook", "https://desk.example.com/in", name="Lead Desk")]


def test_a_person_nothing_reaches_is_only_logged() -> None:
    assert resolve(WORLD, "a-quiet") == [Address("log", "")]
    assert resolve(WORLD, "s-manager") == [Address("log", "", name="Riley Moss")]


def test_addresses_resolve_to_themselves() -> None:
    assert resolve(WORLD, "manager@realleads-office.example") == [
        Address("email", "manager@realleads-office.example")]
    assert resolve(None, "lead-desk@localhost") == [Address("email", "lead-desk@localhost")]
    assert resolve(WORLD, "https://hooks.example.com/leads?src=rulekit") == [
        Address("webhook", "https://hooks.example.com/leads?src=rulekit")]
    assert DEFAULT_SECRET_ENV == "RULEKIT_WEBHOOK_SECRET"


@pytest.mark.parametrize("name", [
    "a-nobody", "assignee", "", "office-admin@", "@example.com", "Pat <pat@example.com>",
    "pat@@example.com", "pat @example.com", "http://crm.example.com/hook", "ftp://x.example",
    "https://user:pw@crm.example.com/", "http://localhost.evil.example/",
])
def test_anything_else_is_only_logged(name: str) -> None:
    assert resolve(WORLD, name) == [Address("log", "")]


def test_without_a_world_ids_are_unknown() -> None:
    assert resolve(None, "a-jordan-lee") == [Address("log", "")]
    assert display_name(None, "a-jordan-lee") is None


def test_display_names() -> None:
    assert display_name(WORLD, "a-jordan-lee") == "Jordan Lee"
    assert display_name(WORLD, "s-office-admin") == "Morgan Hale"
    assert display_name(WORLD, "a-quiet") is None  # no name given
    assert display_name(WORLD, "jordan.lee@example.com") is None
    assert display_name(WORLD, "a-nobody") is None


@pytest.mark.parametrize(("url", "ok"), [
    ("https://crm.example.com", True),
    ("https://crm.example.com:8443/hooks/rulekit#x", True),
    ("http://localhost:8080/hook", True),
    ("http://127.0.0.1/hook", True),
    ("http://crm.example.com/hook", False),
    ("http://127.0.0.2/hook", False),
    ("https://", False),
    ("https://crm.example.com/a b", False),
])
def test_webhook_urls(url: str, ok: bool) -> None:
    assert is_webhook_url(url) is ok


LOCAL = st.text(string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~.-", min_size=1,
                max_size=30)
LABEL = st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=15)
EMAILS = st.builds(lambda local, labels: f"{local}@{'.'.join(labels)}",
                   LOCAL, st.lists(LABEL, min_size=1, max_size=4))


@given(EMAILS)
def test_any_email_address_resolves_to_one_email_address_equal_to_it(email: str) -> None:
    assert is_email_address(email)
    assert resolve(WORLD, email) == [Address("email", email)]
    assert resolve(None, email) == [Address("email", email)]


@given(st.text(max_size=40))
def test_every_recipient_resolves_to_some_address(name: str) -> None:
    found = resolve(WORLD, name)
    assert found
    assert all(a.channel in ("email", "webhook", "log") for a in found)
    assert all((a.address == "") == (a.channel == "log") for a in found)
    if found[0].channel == "log":
        assert len(found) == 1


@given(st.sampled_from(sorted([*WORLD.agents, *WORLD.staff])))
def test_a_person_gets_one_address_per_channel_they_have(person_id: str) -> None:
    person = WORLD.person(person_id)
    assert person is not None
    channels = [a.channel for a in resolve(WORLD, person_id)]
    expected = [c for c, v in (("email", person.email), ("webhook", person.webhook)) if v]
    assert channels == (expected or ["log"])
