"""Notification templates: the subject, plain-text body and HTML body of each notification.

A rule's ``notify: {template: KIND, …}`` names a **kind**.  Each kind has three Jinja2
templates, one file each: ``KIND.subject.j2`` (one line once rendered), ``KIND.txt.j2`` (the
plain-text body) and ``KIND.html.j2`` (the HTML body).  rulekit ships a default for every kind
its rule folders use (:data:`DEFAULTS_DIR`); a policy folder overrides any part of any kind with
a file of the same name in ``templates/`` beside its rule files, and may add kinds of its own
(all three parts then).  Files whose name starts with ``_`` are partials (layouts, macros,
shared fragments) that templates include, import or extend; ``defaults/NAME`` always names a
shipped file, so an override can extend the default it replaces.

Rendering is sandboxed (:class:`jinja2.sandbox.ImmutableSandboxedEnvironment`: no attribute
starting with ``_``, no method that changes a value, no file outside the template folders) and
strict (:class:`jinja2.StrictUndefined`: a variable or field that does not exist raises).  Only
the HTML body is autoescaped.  The variables every template sees are :data:`VARIABLES`; the
shape of their values is :class:`TemplateContext`, which :func:`make_context` builds and
:func:`sample_context` gives an example of.  A recipient of a copy (``recipient.role`` is
``cc``, and every rendering of the ``cc-copy`` kind) never gets a link: ``links`` is all null
for them, whatever the context says.  Beside Jinja2's own filters, templates have ``money``,
``local_time`` (an instant in the brokerage's zone), ``who``, ``greeting``, ``place`` and
``property_line``.

``rulekit validate`` runs :func:`check_templates` for each rule folder: a template that does
not parse (RK501), a variable or field no context has (RK502), a ``template:`` naming no kind
(RK503), a kind of a folder's own missing one of its parts (RK504), a file of ``templates/``
whose name is no template's (RK505, a warning).
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Final, Literal, TypedDict

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateNotFound,
    TemplateSyntaxError,
    meta,
    nodes,
    pass_context,
)
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import ValidationError

from rulekit.errors import CODES, Diagnostic, RulekitError, SourceLocation
from rulekit.model import ContactInfo, Lead, PropertyRef
from rulekit.suggest import closest, did_you_mean
from rulekit.world import zone_named

__all__ = [
    "CC_COPY",
    "DEFAULTS_DIR",
    "OVERRIDES_FOLDER",
    "PARKED_LEAD",
    "PARTS",
    "VARIABLES",
    "BrokerageVars",
    "ContactVars",
    "LinkVars",
    "OfferVars",
    "RecipientVars",
    "RenderError",
    "Rendered",
    "TemplateContext",
    "Templates",
    "UnknownTemplate",
    "check_templates",
    "format_instant",
    "make_context",
    "sample_context",
    "template_files",
    "variables_table",
]

#: The shipped templates.
DEFAULTS_DIR: Final = Path(__file__).resolve().with_name("defaults")
#: The folder beside a policy's rule files that holds its own templates.
OVERRIDES_FOLDER: Final = "templates"
#: The three parts of a kind, as they end its file names (``KIND.PART.j2``).
PARTS: Final = ("subject", "txt", "html")
Part = Literal["subject", "txt", "html"]
#: What carbon-copy recipients receive: the facts of the notification, never a link.
CC_COPY: Final = "cc-copy"
#: A lead that could not be routed, for the brokerage's admins.
PARKED_LEAD: Final = "parked-lead"
#: Template files larger than this are refused (RK005).
MAX_TEMPLATE_BYTES: Final = 256 << 10

_KIND = r"[A-Za-z0-9][A-Za-z0-9_-]*"
_FILE_NAME = re.compile(rf"(?P<kind>{_KIND})\.(?P<part>subject|txt|html)\.j2")


# -- the variables -----------------------------------------------------------------------------
class ContactVars(TypedDict):
    """The consumer behind the lead, as the lead gives them (each field may be null)."""

    name: str | None
    email: str | None
    phone: str | None


class OfferVars(TypedDict):
    """The offer a notification is about: its id and deadline (an ISO 8601 UTC instant)."""

    id: str
    deadline: str | None


class LinkVars(TypedDict):
    """The links of a notification (each a URL, or null when there is none)."""

    accept: str | None
    decline: str | None
    work: str | None


class RecipientVars(TypedDict):
    """Who this rendering is for."""

    id: str
    name: str | None
    email: str | None
    role: Literal["to", "cc"]


class BrokerageVars(TypedDict):
    """The brokerage: its name and time zone (an IANA name)."""

    name: str
    timezone: str


class TemplateContext(TypedDict):
    """The variables of a rendering (see :data:`VARIABLES`)."""

    lead: dict[str, Any]
    contact: ContactVars
    property: dict[str, Any] | None
    offer: OfferVars | None
    deadline: str | None
    links: LinkVars
    recipient: RecipientVars
    brokerage: BrokerageVars
    subject: str | None
    vars: dict[str, Any]


#: Every variable a template sees, with what it holds: the variables table of
#: ``docs/notifications.md`` is made from it (:func:`variables_table`), and ``rulekit validate``
#: reports any other name a template uses (RK502).
VARIABLES: Final[Mapping[str, str]] = {
    "lead": "the lead as its JSON: `id`, `source`, `received_at` (ISO 8601), `channel`, "
            "`entry`, `inquiry_type`, `activity`, `message` (the consumer's message, or null), "
            "`contact`, `property`, `site_owner`, `branding_agent`, `entered_by`, `office`, "
            "`attributes`",
    "contact": "the consumer: `name`, `email`, `phone` (each may be null)",
    "property": "the lead's property (`listing_id`, `brand`, `status`, `city`, `state`, `zip`, "
                "`mls`, `listing_agent`, `price`), or null when the lead names none",
    "offer": "the offer the notification is about: `id`, `deadline` (ISO 8601, or null); "
             "null when it is about no offer",
    "deadline": "the offer's deadline in the brokerage's time zone, such as "
                "`Wed 2 Dec 2026, 5:00 PM EST`; null when there is none",
    "links": "`accept`, `decline`, `work` (work with this lead): each a URL or null; all "
             "null for a copy",
    "recipient": "who this rendering is for: `id` (an agent id or an email address), `name`, "
                 "`email`, `role` (`to` or `cc`)",
    "brokerage": "`name`, `timezone` (the IANA zone times are shown in)",
    "subject": "the rule's `subject:`, or null when the rule gives none",
    "vars": "the values of the rule's `vars:`, by name",
}



def _no_links() -> LinkVars:
    return {"accept": None, "decline": None, "work": None}

#: Methods of a mapping a template may call on any variable (the checker lets them pass).
_MAPPING_METHODS: Final = frozenset({"get", "items", "keys", "values"})
#: The fields of the variables (and of ``lead.contact``, ``lead.property``) whose keys are
#: fixed: the checker reports any other (RK502).
_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    "lead": frozenset(Lead.model_fields) | {"message"},
    "lead.contact": frozenset(ContactInfo.model_fields),
    "lead.property": frozenset(PropertyRef.model_fields),
    "contact": frozenset(ContactVars.__annotations__),
    "property": frozenset(PropertyRef.model_fields),
    "offer": frozenset(OfferVars.__annotations__),
    "links": frozenset(LinkVars.__annotations__),
    "recipient": frozenset(RecipientVars.__annotations__),
    "brokerage": frozenset(BrokerageVars.__annotations__),
}


def variables_table() -> str:
    """The Markdown table of :data:`VARIABLES` (as ``docs/notifications.md`` prints it)."""
    rows = ["| variable | what it holds |", "|---|---|"]
    rows += [f"| `{name}` | {text} |" for name, text in VARIABLES.items()]
    return "\n".join(rows) + "\n"


_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                  "Dec")


def format_instant(instant: datetime, zone: tzinfo) -> str:
    """``instant`` as people read it in ``zone``: ``Wed 2 Dec 2026, 5:00 PM EST``."""
    local = instant.astimezone(zone)
    hour = local.hour % 12 or 12
    half = "AM" if local.hour < 12 else "PM"
    return (f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}, "
            f"{hour}:{local.minute:02d} {half} {local.tzname()}")


def _lead_json(lead: Lead | Mapping[str, Any]) -> dict[str, Any]:
    """The lead as its JSON, with every field of a lead (a stored lead that no longer
    validates keeps what it has, and null for the rest)."""
    if isinstance(lead, Lead):
        return lead.model_dump(mode="json")
    try:
        return Lead.model_validate(dict(lead)).model_dump(mode="json")
    except ValidationError:
        pass
    data: dict[str, Any] = dict.fromkeys(Lead.model_fields) | dict(lead)
    for key, model in (("contact", ContactInfo), ("property", PropertyRef)):
        given = data.get(key)
        given = given if isinstance(given, Mapping) else {}
        data[key] = {name: given.get(name) for name in model.model_fields} | dict(given)
    return data


def make_context(lead: Lead | Mapping[str, Any], *, recipient: RecipientVars,
                 brokerage: BrokerageVars, offer_id: str | None = None,
                 deadline: datetime | None = None, links: LinkVars | None = None,
                 subject: str | None = None,
                 variables: Mapping[str, Any] | None = None) -> TemplateContext:
    """The context of one rendering.

    ``lead`` is the lead or its JSON (as the store keeps it); ``lead.message`` is the payload's
    ``attributes.message`` when it does not have one of its own.  ``deadline`` (an aware
    instant) is shown in the brokerage's zone.  A ``cc`` recipient gets no link."""
    data = _lead_json(lead)
    attributes = data.get("attributes")
    message = attributes.get("message") if isinstance(attributes, dict) else None
    data.setdefault("message", message if isinstance(message, str) else None)
    given = data.get("contact")
    person = given if isinstance(given, dict) else {}
    contact: ContactVars = {"name": person.get("name"), "email": person.get("email"),
                            "phone": person.get("phone")}
    place = data.get("property")
    has_property = isinstance(place, dict) and any(v is not None for v in place.values())
    offer: OfferVars | None = None
    if offer_id is not None:
        offer = {"id": offer_id,
                 "deadline": deadline.astimezone(UTC).isoformat() if deadline else None}
    shown = format_instant(deadline, zone_named(brokerage["timezone"])) if deadline else None
    copy = recipient["role"] == "cc"
    return {
        "lead": data,
        "contact": contact,
        "property": dict(place) if has_property and isinstance(place, dict) else None,
        "offer": offer,
        "deadline": shown,
        "links": _no_links() if copy or links is None else links,
        "recipient": recipient,
        "brokerage": brokerage,
        "subject": subject,
        "vars": dict(variables or {}),
    }


def sample_context() -> TemplateContext:
    """A complete, realistic context: a showing request offered to Jordan Lee of RE/MAX
    Executive until Wed 2 Dec 2026, 5:00 PM EST (for tests and the docs)."""
    lead = Lead.model_validate({
        "id": "ls-2026-12-02-0042",
        "received_at": "2026-12-02T14:05:00-05:00",
        "source": "charlotteproperty.com",
        "channel": "region-site",
        "inquiry_type": "Schedule Showing",
        "contact": {"name": "Pat Buyer", "email": "pat.buyer@example.com",
                    "phone": "+1 704 555 0142"},
        "property": {"listing_id": "CMLS-4021977", "brand": "RE/MAX", "status": "active",
                     "city": "Charlotte", "state": "NC", "zip": "28277", "mls": "CMLS",
                     "listing_agent": "a-jordan-lee", "price": 325000},
        "attributes": {"message": "Hello, could we see the house on Saturday morning? We are "
                                  "pre-approved and would like to move before the spring."},
    })
    site = "https://leads.remax-executive.example"
    offer = "of-ls-2026-12-02-0042-1"
    return make_context(
        lead,
        recipient={"id": "a-jordan-lee", "name": "Jordan Lee",
                   "email": "jordan.lee@remax-executive.example", "role": "to"},
        brokerage={"name": "RE/MAX Executive", "timezone": "America/New_York"},
        offer_id=offer,
        deadline=datetime(2026, 12, 2, 22, 0, tzinfo=UTC),
        links={"accept": f"{site}/offers/{offer}/accept",
               "decline": f"{site}/offers/{offer}/decline",
               "work": f"{site}/leads/ls-2026-12-02-0042"},
    )


# -- rendering ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered notification: a one-line subject, a plain-text body and an HTML body."""

    subject: str
    text: str
    html: str


class UnknownTemplate(LookupError):
    """``render`` was asked for a kind that has neither a default nor an override."""

    def __init__(self, kind: str, known: Iterable[str]) -> None:
        hint = did_you_mean(kind, known)
        super().__init__(f"no notification template '{kind}'" + (f" ({hint})" if hint else ""))
        self.kind = kind


class RenderError(RulekitError):
    """A template failed while rendering: a variable or field the context does not have, an
    access the sandbox refuses, a template that does not parse.  ``location`` is the template
    file and line when known; ``__cause__`` is Jinja2's exception.  A run-time problem: it has
    no code of the catalogue."""

    def __init__(self, kind: str, part: str, reason: str,
                 location: SourceLocation | None = None) -> None:
        super().__init__(f"notification template '{kind}' ({part}): {reason}", location)
        self.kind = kind
        self.part = part
        self.reason = reason


def _is_html(name: str | None) -> bool:
    return name is not None and name.endswith(".html.j2")


class _FolderLoader(FileSystemLoader):
    """A file loader that refuses files outside its folder (a symbolic link out of it)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder))
        self.root = folder.resolve()

    def get_source(self, environment: Environment, template: str
                   ) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        if not Path(filename).resolve().is_relative_to(self.root):
            raise TemplateNotFound(template)
        return source, filename, uptodate


def _field(value: object, name: str) -> Any:
    return value.get(name) if isinstance(value, Mapping) else None


def _who(contact: object) -> str:
    """The consumer as a sentence names them: their name, else email, else phone."""
    return str(_field(contact, "name") or _field(contact, "email") or _field(contact, "phone")
               or "the consumer")


def _greeting(recipient: object) -> str:
    """``Hello Jordan Lee,`` (``Hello,`` for a recipient without a name)."""
    name = _field(recipient, "name")
    return f"Hello {name}," if name else "Hello,"


def _place(place: object) -> str:
    """``Charlotte, NC 28277``."""
    town = ", ".join(str(v) for v in (_field(place, "city"), _field(place, "state")) if v)
    return " ".join(v for v in (town, str(_field(place, "zip") or "")) if v)


def _property_line(place: object) -> str:
    """``listing CMLS-4021977 · Charlotte, NC 28277 · $325,000``."""
    listing = _field(place, "listing_id")
    parts = [f"listing {listing}" if listing else "", _place(place),
             _money(_field(place, "price"))]
    return " · ".join(p for p in parts if p) or "(no details)"


def _money(value: object) -> str:
    """``325000`` → ``$325,000`` (cents when there are any); null → empty."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"${value:,.0f}" if float(value).is_integer() else f"${value:,.2f}"
    return str(value)


@pass_context
def _local_time(context: Context, value: object, zone: str | None = None) -> str:
    """An instant (ISO 8601 text or a datetime) in the brokerage's zone (or ``zone``)."""
    if value is None:
        return ""
    instant = value
    if isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(instant, datetime) or instant.tzinfo is None:
        return str(value)
    if zone is None:
        brokerage = context.get("brokerage")
        zone = brokerage.get("timezone") if isinstance(brokerage, Mapping) else None
    try:
        where = zone_named(zone) if isinstance(zone, str) else UTC
    except LookupError:
        where = UTC
    return format_instant(instant, where)


def _environment(overrides: Path | None) -> ImmutableSandboxedEnvironment:
    loaders: list[BaseLoader] = [PrefixLoader({"defaults": _FolderLoader(DEFAULTS_DIR)})]
    if overrides is not None:
        loaders.append(_FolderLoader(overrides))
    loaders.append(_FolderLoader(DEFAULTS_DIR))
    env = ImmutableSandboxedEnvironment(
        loader=ChoiceLoader(loaders), undefined=StrictUndefined, autoescape=_is_html,
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=_money, local_time=_local_time, who=_who, greeting=_greeting,
                       place=_place, property_line=_property_line)
    return env


def _kind_files(folder: Path | None) -> dict[str, dict[str, Path]]:
    """The parts each kind has in ``folder`` (its top level only)."""
    found: dict[str, dict[str, Path]] = {}
    if folder is None or not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        match = _FILE_NAME.fullmatch(path.name)
        if match and path.is_file():
            found.setdefault(match["kind"], {})[match["part"]] = path
    return found


def _template_line(exc: BaseException) -> tuple[str, int] | None:
    """The template file and line a rendering failed at (Jinja2 puts them in the traceback)."""
    found = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename.endswith(".j2"):
            found = (frame.f_code.co_filename, line)
    return found


class Templates:
    """The templates of one policy folder: the defaults, and the folder's ``templates/``."""

    def __init__(self, overrides: Path | None = None) -> None:
        self.overrides = overrides if overrides is not None and overrides.is_dir() else None
        self._defaults = _kind_files(DEFAULTS_DIR)
        self._own = _kind_files(self.overrides)
        self._env = _environment(self.overrides)

    @classmethod
    def for_folder(cls, folder: Path | None) -> Templates:
        """The defaults plus the overrides in ``folder/templates`` (``None``: defaults only)."""
        return cls(folder / OVERRIDES_FOLDER if folder is not None else None)

    def kinds(self) -> set[str]:
        """The kinds that can be rendered: every default, and every kind of the folder's own
        that has its three parts."""
        own = {kind for kind, parts in self._own.items() if len(parts) == len(PARTS)}
        return set(self._defaults) | own

    def source(self, kind: str, part: Part) -> Path:
        """The file a part of a kind is rendered from (an override, else the default)."""
        path = self._own.get(kind, {}).get(part) or self._defaults.get(kind, {}).get(part)
        if path is None:
            raise UnknownTemplate(kind, self.kinds())
        return path

    def render(self, kind: str, context: TemplateContext) -> Rendered:
        """The three parts of ``kind`` rendered with ``context``; the subject on one line.

        Raises :class:`UnknownTemplate` for a kind there is no template of, and
        :class:`RenderError` when a template fails."""
        if kind not in self.kinds():
            raise UnknownTemplate(kind, self.kinds())
        values: dict[str, Any] = dict(context)
        recipient = values.get("recipient")
        if kind == CC_COPY or (isinstance(recipient, Mapping) and recipient.get("role") == "cc"):
            values["links"] = _no_links()
        subject = " ".join(self._render(kind, "subject", values).split())
        return Rendered(subject, self._render(kind, "txt", values),
                        self._render(kind, "html", values))

    def _render(self, kind: str, part: str, values: Mapping[str, Any]) -> str:
        try:
            return self._env.get_template(f"{kind}.{part}.j2").render(values)
        except Exception as exc:
            where = _template_line(exc)
            if isinstance(exc, TemplateSyntaxError) and exc.filename and exc.lineno:
                where = (exc.filename, exc.lineno)
            location = SourceLocation(where[0], where[1], 1) if where else None
            raise RenderError(kind, part, str(exc) or type(exc).__name__, location) from exc


# -- checking ----------------------------------------------------------------------------------
def template_files(folder: Path | None) -> list[Path]:
    """The template files (``*.j2``) under a rule folder's ``templates/``, hidden ones aside,
    in name order."""
    if folder is None:
        return []
    root = folder / OVERRIDES_FOLDER
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*.j2") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def _declared(ast: nodes.Template, *, scoped: bool) -> set[str]:
    """Names a template defines: imports, macros and ``set`` targets (a child template's
    imports and ``set`` outside its blocks are seen inside them too, whatever
    :func:`jinja2.meta.find_undeclared_variables` says); with ``scoped``, also loop targets and
    macro and call-block parameters (names that may shadow a variable somewhere)."""
    names: set[str] = set()
    for node in ast.find_all((nodes.Macro, nodes.Import, nodes.FromImport, nodes.Assign,
                              nodes.AssignBlock, nodes.Name)):
        if isinstance(node, nodes.Macro):
            names.add(node.name)
        elif isinstance(node, nodes.Import):
            names.add(node.target)
        elif isinstance(node, nodes.FromImport):
            names.update(n[1] if isinstance(n, tuple) else n for n in node.names)
        elif isinstance(node, nodes.Assign | nodes.AssignBlock):
            names.update(n.name for n in node.target.find_all(nodes.Name))
        elif scoped and isinstance(node, nodes.Name) and node.ctx in ("store", "param"):
            names.add(node.name)
    return names


_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


class _Source:
    """A template's text, to find where a name is on a line (inside a tag, not in the text)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def line(self, number: int) -> str:
        lines = self.text.split("\n")
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def column(self, line: int, pattern: re.Pattern[str], group: int = 0) -> int:
        """The 1-based column of the first match of ``pattern`` in a tag on ``line`` (the first
        character of the line that is not blank when there is none)."""
        if 0 < line <= len(self.starts):
            begin = self.starts[line - 1]
            end = self.starts[line] if line < len(self.starts) else len(self.text)
            for tag in _TAG.finditer(self.text):
                if tag.end() <= begin or tag.start() >= end:
                    continue
                for match in pattern.finditer(self.text, tag.start(), tag.end()):
                    if begin <= match.start(group) < end:
                        return match.start(group) - begin + 1
        text = self.line(line)
        return len(text) - len(text.lstrip()) + 1 if text.strip() else 1


def _syntax_column(source: _Source, line: int, message: str) -> int:
    """Best effort: where the token a Jinja2 syntax error quotes is on its line."""
    quoted = re.findall(r"'([^']+)'", message)
    text = source.line(line)
    for token in ([quoted[-1]] if "got '" in message else quoted[:1]):
        at = text.find(token)
        if at >= 0:
            return at + 1
    return len(text) - len(text.lstrip()) + 1 if text.strip() else 1


def _name_pattern(*chain: str) -> re.Pattern[str]:
    """``lead.contact.emial`` as it may be written in a tag; group 1 is its last name."""
    parts = [re.escape(c) for c in chain]
    head = r"\s*\.\s*".join(parts[:-1])
    last = rf"({parts[-1]})(?!\w)"
    return re.compile(rf"(?<![\w.]){head}\s*\.\s*{last}" if head else rf"(?<![\w.]){last}")


def _check_source(env: Environment, text: str, shown: str, name: str) -> list[Diagnostic]:
    """The problems of one template file's text (RK501, RK502)."""
    source = _Source(text)
    try:
        ast = env.parse(text, name, shown)
        env.compile(ast, name, shown)  # unknown filters and tests
    except TemplateSyntaxError as exc:
        line = min(max(exc.lineno or 1, 1), len(source.starts))
        hint = None
        unknown = re.match(r"No (filter|test) named '([^']+)'", exc.message or "")
        if unknown:
            known = env.filters if unknown[1] == "filter" else env.tests
            hint = did_you_mean(unknown[2], known)
        return [Diagnostic("RK501", f"template syntax error: {exc.message}",
                           SourceLocation(shown, line, _syntax_column(source, line,
                                                                      exc.message or "")),
                           hint=hint)]
    problems: list[Diagnostic] = []
    allowed = set(VARIABLES) | set(env.globals) | _declared(ast, scoped=False)
    shadowed = _declared(ast, scoped=True)
    unknown_names = meta.find_undeclared_variables(ast) - allowed
    loads = [n for n in ast.find_all(nodes.Name) if n.ctx == "load"]
    for unknown_name in unknown_names:
        line = min((n.lineno for n in loads if n.name == unknown_name), default=1)
        column = source.column(line, _name_pattern(unknown_name), 1)
        problems.append(Diagnostic(
            "RK502", f"unknown template variable '{unknown_name}'",
            SourceLocation(shown, line, column),
            hint=did_you_mean(unknown_name, VARIABLES)
            or "the variables are " + ", ".join(VARIABLES) + " (see docs/notifications.md)"))
    reported: set[tuple[str, int]] = set()
    for node in ast.find_all(nodes.Getattr):
        chain = _attribute_chain(node)
        if chain is None or chain[0] in shadowed or node.attr in _MAPPING_METHODS:
            continue
        owner = ".".join(chain[:-1])
        fields = _FIELDS.get(owner)
        if fields is None or node.attr in fields or (owner, node.lineno) in reported:
            continue
        reported.add((owner, node.lineno))
        problems.append(Diagnostic(
            "RK502", f"unknown field '{node.attr}' of {owner}",
            SourceLocation(shown, node.lineno, source.column(node.lineno, _name_pattern(*chain),
                                                             1)),
            hint=did_you_mean(node.attr, fields)
            or f"the fields of {owner} are " + ", ".join(sorted(fields))))
    return problems


def _attribute_chain(node: nodes.Getattr) -> tuple[str, ...] | None:
    """``lead.contact.email`` → ``("lead", "contact", "email")``; ``None`` for anything that
    does not start with a variable's name."""
    chain = [node.attr]
    current: nodes.Node = node.node
    while isinstance(current, nodes.Getattr):
        chain.append(current.attr)
        current = current.node
    if not isinstance(current, nodes.Name) or len(chain) > 2:
        return None
    return (current.name, *reversed(chain))


def _read(path: Path, shown: str) -> tuple[str | None, Diagnostic | None]:
    location = SourceLocation(shown, 1, 1)
    try:
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            return None, Diagnostic("RK005", f"template file too large: over "
                                    f"{MAX_TEMPLATE_BYTES >> 10} KiB", location,
                                    hint="split it into partials (files starting with '_')")
        return path.read_text(encoding="utf-8"), None
    except UnicodeDecodeError as exc:
        return None, Diagnostic("RK008", f"template file is not UTF-8: {exc.reason}", location)
    except OSError as exc:
        return None, Diagnostic("RK008", f"template file cannot be read: {exc.strerror}",
                                location)


def check_templates(folder: Path | None,
                    used: Iterable[tuple[str, SourceLocation]]) -> list[Diagnostic]:
    """The problems of a rule folder's templates and of the kinds its rules name.

    ``folder`` is the rule folder (its ``templates/`` holds the overrides; ``None``: none);
    ``used`` gives each ``template:`` of its rule files with its location.  Reports, at the
    template file: a file that does not parse (RK501), a variable or field no context has
    (RK502), a kind of the folder's own without its three parts (RK504), a file whose name is
    no template's (RK505, a warning); at the rule file: a ``template:`` naming a kind there is
    no template of (RK503)."""
    problems: list[Diagnostic] = []
    root = folder / OVERRIDES_FOLDER if folder is not None else None
    env = _environment(root if root is not None and root.is_dir() else None)
    own: dict[str, dict[str, Path]] = {}
    defaults = _kind_files(DEFAULTS_DIR)
    for path in template_files(folder):
        assert root is not None
        relative = path.relative_to(root)
        shown = str(path)
        match = _FILE_NAME.fullmatch(path.name) if len(relative.parts) == 1 else None
        if match:
            own.setdefault(match["kind"], {})[match["part"]] = path
        elif len(relative.parts) == 1 and not path.name.startswith("_"):
            problems.append(_misnamed(path.name, shown, defaults))
        text, problem = _read(path, shown)
        if problem is not None:
            problems.append(problem)
        elif text is not None:
            problems.extend(_check_source(env, text, shown, relative.as_posix()))
    known = set(defaults)
    incomplete: set[str] = set()
    for kind, parts in own.items():
        if kind in defaults:
            continue
        missing = [f"{kind}.{part}.j2" for part in PARTS if part not in parts]
        if not missing:
            known.add(kind)
            continue
        incomplete.add(kind)
        first = next(parts[part] for part in PARTS if part in parts)
        problems.append(Diagnostic(
            "RK504", f"notification template '{kind}' has no default, so it needs all three "
            f"parts: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing",
            SourceLocation(str(first), 1, 1),
            hint=_incomplete_hint(kind, first.name, missing, defaults)))
    for name, location in used:
        if name in known or name in incomplete:
            continue
        where = (f"{root}/ has no {name}.*.j2" if root is not None and root.is_dir()
                 else f"there is no {OVERRIDES_FOLDER}/ folder beside the rule files")
        problems.append(Diagnostic(
            "RK503", f"no notification template '{name}': it is not a shipped kind, and "
            f"{where}", location,
            hint=did_you_mean(name, known) or f"add {name}.subject.j2, {name}.txt.j2 and "
            f"{name}.html.j2 to the folder's {OVERRIDES_FOLDER}/, or use a shipped kind "
            "(see docs/notifications.md)"))
    return sorted(problems, key=Diagnostic.sort_key)


def _incomplete_hint(kind: str, name: str, missing: list[str],
                     defaults: Mapping[str, Mapping[str, Path]]) -> str:
    close = closest(kind, defaults, cutoff=0.8)
    if close is not None:
        return (f"did you mean '{name.replace(kind, close, 1)}'? (an override of the shipped "
                f"kind '{close}')")
    return f"add {' and '.join(missing)} beside it"


def _misnamed(name: str, shown: str, defaults: Mapping[str, Mapping[str, Path]]) -> Diagnostic:
    """RK505 for a file of ``templates/`` whose name is neither a part nor a partial's."""
    names = [f"{kind}.{part}.j2" for kind in defaults for part in PARTS]
    close = closest(name, names, cutoff=0.8)
    hint = (f"did you mean '{close}'?" if close else
            "a template is KIND.subject.j2, KIND.txt.j2 or KIND.html.j2; a partial's name "
            "starts with '_'")
    severity = CODES["RK505"].severity
    return Diagnostic("RK505", f"'{name}' is not the name of a template: it is never used",
                      SourceLocation(shown, 1, 1), severity, hint)
