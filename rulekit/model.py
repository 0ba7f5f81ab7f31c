"""The domain model: leads, contacts, agents, staff, offices, teams, listings.

These pydantic models are the single source of truth for the data rulekit routes.  The lead
payload JSON Schema (``schemas/lead.schema.json``) is generated from :class:`Lead`, and the
expression DSL's field declarations (``rulekit.dsl.fields``) are derived from these classes, so a
field added here is at once accepted in payloads and usable in rule conditions.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

#: A lead's instants must lie in [LEAD_EARLIEST, LEAD_END): the years 1970 to 2200, in UTC.
LEAD_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LEAD_END = datetime(2201, 1, 1, tzinfo=UTC)
#: Characters no store can keep in text: NUL (PostgreSQL refuses it in text and JSONB) and
#: lone surrogates (not encodable as UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: A URL notifications can be posted to: ``https://`` with a host (no user name or password in
#: it), or plain ``http://`` to this machine only (``localhost``, ``127.0.0.1``: a local relay,
#: a test receiver).
WEBHOOK_URL = re.compile(
    r"^(?:https://[^\s/?#@:]+|http://(?:localhost|127\.0\.0\.1))(?::[0-9]{1,5})?(?:[/?#]\S*)?$")
#: The name of an environment variable (upper case, as the service's variables are).
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")

_WEBHOOK_DOC = ("The URL notifications are posted to, as signed JSON: https, or http to "
                "localhost or 127.0.0.1 only.")
_SECRET_ENV_DOC = ("The name of the environment variable that holds the webhook's signing "
                   "secret (upper-case letters, digits and '_'), never the secret itself. "
                   "Default: RULEKIT_WEBHOOK_SECRET.")
_WEBHOOK_EXAMPLE = "https://crm.example.com/hooks/rulekit"
_SECRET_ENV_EXAMPLE = "RULEKIT_WEBHOOK_SECRET_CRM"
#: A webhook URL (see :data:`WEBHOOK_URL`); the pattern's branch of the schema carries the
#: description, so that a URL that does not match is reported with it.
WebhookUrl = Annotated[str, Field(pattern=WEBHOOK_URL.pattern, description=_WEBHOOK_DOC,
                                  examples=[_WEBHOOK_EXAMPLE])]
#: The name of the environment variable holding a webhook's secret (see :data:`ENV_NAME`).
SecretEnvName = Annotated[str, Field(pattern=ENV_NAME.pattern, description=_SECRET_ENV_DOC,
                                     examples=[_SECRET_ENV_EXAMPLE])]


def _character_error(loc: tuple[str | int, ...], text: str, char: str,
                     what: str) -> InitErrorDetails:
    name = "a NUL character" if char == "\x00" else "a lone surrogate"
    return InitErrorDetails(
        type=PydanticCustomError(
            "unstorable_character",
            "{what} must not contain {name} (U+{code}), which databases cannot store",
            {"what": what, "name": name, "code": f"{ord(char):04X}"}),
        loc=loc, input=text)


def intake_problems(lead: BaseModel) -> list[InitErrorDetails]:
    """What a validated lead holds that rulekit refuses at intake, in one pass over it:
    unstorable characters in any string or mapping key, at any depth, and instants outside
    :data:`LEAD_EARLIEST` .. :data:`LEAD_END`.  Each problem's ``loc`` is its field path."""
    problems: list[InitErrorDetails] = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [
        ((name,), getattr(lead, name)) for name in reversed(type(lead).model_fields)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, str):
            if (found := UNSTORABLE.search(value)) is not None:
                problems.append(_character_error(loc, value, found.group(), "text"))
        elif isinstance(value, BaseModel):
            stack.extend(((*loc, name), getattr(value, name))
                         for name in reversed(type(value).model_fields))
        elif isinstance(value, dict):
            items = list(value.items())
            for key, item in reversed(items):
                stack.append(((*loc, key if isinstance(key, str | int) else str(key)), item))
            for key, _ in items:
                if isinstance(key, str) and (found := UNSTORABLE.search(key)) is not None:
                    problems.append(_character_error((*loc, key), key, found.group(), "a key"))
        elif isinstance(value, list | tuple | set | frozenset):
            stack.extend(((*loc, i), item) for i, item in reversed(list(enumerate(value))))
        elif isinstance(value, datetime) and value.tzinfo is not None \
                and not LEAD_EARLIEST <= value < LEAD_END:
            problems.append(InitErrorDetails(
                type=PydanticCustomError(
                    "instant_out_of_range",
                    "instant must be in the years 1970 to 2200 (UTC), got {value}",
                    {"value": value.isoformat()}),
                loc=loc, input=value))
    return problems


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Activity(enum.StrEnum):
    """Whether a lead is a consumer's direct request or passive account activity."""

    ACTIVE = "active"
    PASSIVE = "passive"


class Entry(enum.StrEnum):
    """How the lead reached the system."""

    WEB = "web"
    MANUAL = "manual"
    IMPORT = "import"


class ContactInfo(_Model):
    """The consumer behind the lead, as given in the payload."""

    email: str | None = Field(None, description="Email address; the main identity key.",
                              examples=["pat.buyer@example.com"])
    phone: str | None = Field(None, description="Phone number as given.",
                              examples=["+1 704 555 0142"])
    name: str | None = Field(None, description="Full name as given.", examples=["Pat Buyer"])


class PropertyRef(_Model):
    """The subject property of the inquiry, if any."""

    listing_id: str | None = Field(None, description="Listing id in the world's listings.",
                                   examples=["CMLS-4021977"])
    brand: str | None = Field(None, description="Brand of the listing brokerage.",
                              examples=["RE/MAX"])
    status: str | None = Field(None, description="Listing status.", examples=["active"])
    city: str | None = Field(None, description="City of the property.", examples=["Charlotte"])
    state: str | None = Field(None, description="State or region code.", examples=["NC"])
    zip: str | None = Field(None, description="ZIP / postal code.", examples=["28202"])
    mls: str | None = Field(None, description="MLS (market) listing the property.",
                            examples=["CMLS"])
    listing_agent: str | None = Field(None, description="Agent id of the listing agent.",
                                      examples=["a-jordan-lee"])
    price: float | None = Field(None, description="Asking price.", examples=[325000], ge=0)


class Lead(_Model):
    """One consumer action that reached the brokerage: an inquiry, a showing request, a saved
    search.  ``id`` is the idempotency key: submitting the same id twice yields one lead.
    No text of a lead, at any depth, may contain NUL or a lone surrogate (U+D800-U+DFFF), and
    its instants must fall in the years 1970 to 2200 (UTC)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        json_schema_extra={"$comment": "Generated from rulekit.model.Lead; do not edit by hand."},
    )

    id: str = Field(..., min_length=1, max_length=200,
                    description="Unique id of the lead; also its idempotency key.",
                    examples=["ls-2026-11-24-0001"])
    received_at: AwareDatetime = Field(..., description="When the lead arrived (with offset); "
                                       "in the years 1970 to 2200 (UTC).",
                                       examples=["2026-11-24T14:05:00-05:00"])
    source: str = Field(..., min_length=1, description="Lead source (site or system).",
                        examples=["remax.com"])
    channel: str | None = Field(
        None,
        description="Channel within the source, used for per-channel exclusivity "
        "(e.g. region-site, office-site, agent-site).",
        examples=["agent-site"],
    )
    entry: Entry = Field(Entry.WEB, description="How the lead was created.", examples=["web"])
    site_owner: str | None = Field(None, description="Agent id owning the site the lead came from.",
                                   examples=["a-jordan-lee"])
    branding_agent: str | None = Field(
        None, description="Agent id whose branding was in effect (personal app, SPAW).",
        examples=["a-jordan-lee"])
    entered_by: str | None = Field(None, description="Agent id who entered or imported the lead.",
                                   examples=["a-jordan-lee"])
    office: str | None = Field(None, description="Office id the lead is already attached to.",
                               examples=["rmx-ballantyne"])
    inquiry_type: str = Field("general", description="What the consumer asked for.",
                              examples=["Schedule Showing"])
    activity: Activity = Field(
        Activity.ACTIVE,
        description="active: a request to act on; passive: account activity.",
        examples=["active"])
    contact: ContactInfo = Field(
        default_factory=ContactInfo, description="The consumer's contact details.",
        examples=[{"email": "pat.buyer@example.com", "name": "Pat Buyer"}])
    property: PropertyRef = Field(
        default_factory=PropertyRef, description="The subject property, if any.",
        examples=[{"listing_id": "CMLS-4021977", "brand": "RE/MAX", "zip": "28277"}])
    attributes: dict[str, Any] = Field(default_factory=dict,
                                       description="Free-form attributes for custom rules.",
                                       examples=[{"campaign": "fall-open-house"}])

    @model_validator(mode="after")
    def _storable(self) -> Self:
        problems = intake_problems(self)
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self


class ContactStatus(enum.StrEnum):
    """Where a contact stands (see :mod:`rulekit.lifecycle`): in an agent's own database,
    assigned to an agent, shared with other agents, under contract (pending), or closed."""

    AGENT_DATABASE = "agent_database"
    ASSIGNED = "assigned"
    CLOSED = "closed"
    PENDING = "pending"
    SHARED = "shared"


class Contact(_Model):
    """A consumer known to the brokerage, with an owner per exclusivity scope."""

    id: str = Field(..., description="Contact id.", examples=["c-pat-buyer"])
    email: str | None = Field(None, description="Email, the identity key.",
                              examples=["pat.buyer@example.com"])
    phone: str | None = Field(None, description="Phone.", examples=["+1 704 555 0142"])
    name: str | None = Field(None, description="Name.", examples=["Pat Buyer"])
    owner: str | None = Field(None, description="Global owner (agent id).",
                              examples=["a-jordan-lee"])
    owners: dict[str, str] = Field(
        default_factory=dict,
        description="Owner per scope key (global, channel:<c>, market:<mls>, or custom).",
        examples=[{"market:CMLS": "a-jordan-lee"}])
    status: ContactStatus | None = Field(None, description="Contact status.",
                                         examples=["assigned"])
    shared_with: list[str] = Field(
        default_factory=list,
        description="Agent ids the owner shared the contact with (status shared).",
        examples=[["a-sam-ortiz"]])
    lead_status: Literal["active", "inactive"] = Field(
        "active", description="Whether update requests are sent to the owner.",
        examples=["active"])
    type: str | None = Field(None, description="Contact type (Buyer, Seller, ...).",
                             examples=["Buyer"])
    source: str | None = Field(None, description="Contact source (Broker, Agent, Realtor.com).",
                               examples=["Broker"])
    business_source: str | None = Field(None, description="Source of business.",
                                        examples=["Open House"])
    priority: Literal["hot", "warm", "cold", "dead"] | None = Field(
        None, description="Priority.", examples=["hot"])
    interest: int | None = Field(None, ge=0, le=5, description="Interest level, 0-5 stars.",
                                 examples=[4])
    time_frame: str | None = Field(None, description="When a transaction is expected.",
                                   examples=["3-6 months"])
    entered_by: str | None = Field(None, description="Agent who entered it manually.",
                                   examples=["a-jordan-lee"])


class Agent(_Model):
    """An agent who can be offered or assigned leads."""

    id: str = Field(..., min_length=1, description="Agent id.", examples=["a-jordan-lee"])
    name: str = Field("", description="Display name.", examples=["Jordan Lee"])
    email: str | None = Field(None, description="Notification address.",
                              examples=["jordan.lee@example.com"])
    offices: list[str] = Field(default_factory=list, description="Office ids.",
                               examples=[["rmx-ballantyne"]])
    teams: list[str] = Field(default_factory=list, description="Team ids.", examples=[["eteam"]])
    mls: list[str] = Field(default_factory=list, description="MLS memberships.",
                           examples=[["CMLS"]])
    zips: list[str] = Field(default_factory=list, description="ZIP codes of interest.",
                            examples=[["28277", "28226"]])
    cities: list[str] = Field(default_factory=list, description="Cities of interest.",
                              examples=[["Charlotte"]])
    tags: list[str] = Field(default_factory=list, description="Free tags (eteam, trusted, ...).",
                            examples=[["eteam", "trusted"]])
    paused: bool = Field(False, description="Paused agents receive no offers.", examples=[False])
    calendar: str | None = Field(None, description="Name of the agent's own calendar.",
                                 examples=["evenings"])
    capacity: int | None = Field(None, ge=0, description="Maximum open leads; none for no limit.",
                                 examples=[25])
    webhook: WebhookUrl | None = Field(None, description=_WEBHOOK_DOC,
                                       examples=[_WEBHOOK_EXAMPLE])
    webhook_secret_env: SecretEnvName | None = Field(None, description=_SECRET_ENV_DOC,
                                                     examples=[_SECRET_ENV_EXAMPLE])


class Staff(_Model):
    """Someone of the brokerage who is told about leads but never routed them: an office
    admin, a manager, a lead desk.  Notifications name them by id, as they name agents."""

    id: str = Field(..., min_length=1, description="Staff id, unlike every agent id.",
                    examples=["s-office-admin"])
    name: str = Field("", description="Display name.", examples=["Morgan Hale"])
    email: str | None = Field(None, description="Notification address.",
                              examples=["office-admin@remax-executive.example"])
    webhook: WebhookUrl | None = Field(None, description=_WEBHOOK_DOC,
                                       examples=[_WEBHOOK_EXAMPLE])
    webhook_secret_env: SecretEnvName | None = Field(None, description=_SECRET_ENV_DOC,
                                                     examples=[_SECRET_ENV_EXAMPLE])
    offices: list[str] = Field(default_factory=list, description="Ids of the offices they work "
                               "for.", examples=[["rmx-ballantyne"]])
    roles: list[str] = Field(default_factory=list,
                             description="Free words for what they do (manager, office-admin, "
                             "lead-desk, ...).", examples=[["office-admin", "manager"]])


class Office(_Model):
    """An office: a place, the cities it specialises in, and its agents."""

    id: str = Field(..., min_length=1, description="Office id.", examples=["rmx-ballantyne"])
    name: str = Field("", description="Display name.", examples=["RE/MAX Executive Ballantyne"])
    city: str | None = Field(None, description="City where the office is.",
                             examples=["Charlotte"])
    state: str | None = Field(None, description="State.", examples=["NC"])
    specialty_cities: list[str] = Field(default_factory=list,
                                        description="Other cities the office serves.",
                                        examples=[["Matthews", "Pineville"]])
    brand: str | None = Field(None, description="Brand.", examples=["RE/MAX"])
    tags: list[str] = Field(default_factory=list, description="Free tags.", examples=[["luxury"]])
    agent_count: int | None = Field(
        None, ge=0,
        description="Head count used for weighting; defaults to the number of agents listed.",
        examples=[200])
    calendar: str | None = Field(
        None, description="Office calendar name (its hours and holidays); rule files count in "
        "it with calendar: {expression: office.calendar}.", examples=["office-hours"])


class Team(_Model):
    """A named group of agents (an eTeam, a qualifier desk)."""

    id: str = Field(..., min_length=1, description="Team id.", examples=["eteam"])
    name: str = Field("", description="Display name.", examples=["eTeam"])
    members: list[str] = Field(default_factory=list, description="Agent ids.",
                               examples=[["a-jordan-lee"]])
    lead: str | None = Field(
        None, min_length=1,
        description="The team's lead agent: one of its members, who takes the team's turns "
        "in a rotation whose pool says 'team_pick: lead'.",
        examples=["a-jordan-lee"])


class Listing(_Model):
    """A listing known to the brokerage."""

    id: str = Field(..., min_length=1, description="Listing id.", examples=["CMLS-4021977"])
    mls: str | None = Field(None, description="MLS.", examples=["CMLS"])
    brand: str | None = Field(None, description="Brand of the listing brokerage.",
                              examples=["RE/MAX"])
    status: str = Field("active", description="Listing status.", examples=["active"])
    listing_agent: str | None = Field(None, description="Agent id.", examples=["a-jordan-lee"])
    city: str | None = Field(None, description="City.", examples=["Charlotte"])
    state: str | None = Field(None, description="State.", examples=["NC"])
    zip: str | None = Field(None, description="ZIP.", examples=["28202"])
    price: float | None = Field(None, ge=0, description="Price.", examples=[325000])

