"""Notification templates: the shipped kinds, overrides, the sandbox, and what `rulekit
validate` reports about them (RK501-RK505) at file, line and column."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from command_line import run
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.exceptions import SecurityError, UndefinedError
from markupsafe import escape

from rulekit.config.lint import notify_templates
from rulekit.config.load import load_file
from rulekit.config.project import check_paths
from rulekit.errors import CODES, SourceLocation
from rulekit.notify.templates import (
    CC_COPY,
    DEFAULTS_DIR,
    VARIABLES,
    RenderError,
    TemplateContext,
    Templates,
    UnknownTemplate,
    check_templates,
    format_instant,
    make_context,
    sample_context,
    variables_table,
)

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
DOC = ROOT / "docs" / "notifications.md"
ERRORS_DOC = ROOT / "docs" / "errors.md"
FIXTURES = ROOT / "tests" / "fixtures" / "invalid"
DEFAULTS = Templates.for_folder(None)
#: The kinds the shipped rule folders and the docs name (``template: NAME``).
#: (docs/errors.md and this page's docs name unknown kinds on purpose).
USED = sorted({m for path in [*RULES.rglob("*.yaml"), *(ROOT / "docs").glob("*.md")]
               if path.name not in ("errors.md", "notifications.md")
               for m in re.findall(r"template: ([a-z-]+)", path.read_text(encoding="utf-8"))})
ASSIGNMENTS = ["dispatched-lead", "new-lead-assigned", "listing-inquiry", "qualified-lead",
               "manual-distribution", "inquiry-for-assigned-agent", "existing-contact-activity",
               "activity-added", "passive-activity-alert", "lead-alert"]
RULE = """\
rulekit: 1
policy: p
applies_to: {sources: [web]}
rules:
  - name: all
    steps:
      - notify: {template: TEMPLATE, to: [desk@example.com]}
      - queue: manual
"""


def links_of(context: TemplateContext) -> list[str]:
    return [url for url in context["links"].values() if url]


def folder_with(tmp_path: Path, files: dict[str, str], template: str = "dispatched-lead"
                ) -> Path:
    """A rule folder: one rule file notifying ``template``, and ``files`` in templates/."""
    folder = tmp_path / "policy"
    (folder / "templates").mkdir(parents=True)
    (folder / "rules.yaml").write_text(RULE.replace("TEMPLATE", template), encoding="utf-8")
    for name, text in files.items():
        path = folder / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def problems(folder: Path) -> list[tuple[str, str, int, int]]:
    docs = [load_file(p) for p in sorted(folder.glob("*.yaml"))]
    return [(d.code, Path(d.location.path).name if d.location else "", d.location.line
             if d.location else 0, d.location.column if d.location else 0)
            for d in check_templates(folder, notify_templates(docs))]


# -- the shipped kinds -------------------------------------------------------------------------
def test_every_kind_the_rules_use_is_shipped() -> None:
    assert len(USED) >= 14
    assert set(USED) <= DEFAULTS.kinds()
    assert {CC_COPY, "parked-lead"} <= DEFAULTS.kinds()
    for kind in DEFAULTS.kinds():
        for part in ("subject", "txt", "html"):
            assert (DEFAULTS_DIR / f"{kind}.{part}.j2").is_file(), (kind, part)


@pytest.mark.parametrize("kind", sorted(DEFAULTS.kinds()))
def test_each_default_kind_renders_the_sample(kind: str) -> None:
    context = sample_context()
    rendered = DEFAULTS.render(kind, context)
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.subject == rendered.subject.strip()
    assert rendered.text.startswith("Hello Jordan Lee,\n\n")
    assert rendered.text.endswith("Times are shown in America/New_York time.\n")
    assert "\n\n\n" not in rendered.text
    for fact in ("Pat Buyer", "pat.buyer@example.com", "+1 704 555 0142", "Schedule Showing",
                 "ls-2026-12-02-0042", "Wed 2 Dec 2026, 2:05 PM EST", "$325,000",
                 "could we see the house on Saturday morning?"):
        assert fact in rendered.text, (kind, fact)
        assert fact in rendered.html, (kind, fact)
    assert rendered.html.startswith("<!DOCTYPE html>\n")
    assert rendered.html.rstrip().endswith("</html>")
    assert "RE/MAX Executive" in rendered.html


@pytest.mark.parametrize("kind", sorted(DEFAULTS.kinds()))
def test_each_default_kind_renders_a_bare_lead(kind: str) -> None:
    """A lead with nothing but its required fields, a recipient without a name, no offer and
    no links: nothing null breaks a default."""
    context = make_context(
        {"id": "L1", "received_at": "2026-07-01T12:00:00+00:00", "source": "web",
         "inquiry_type": "general", "contact": {}, "property": {}, "attributes": {}},
        recipient={"id": "desk@example.com", "name": None, "email": "desk@example.com",
                   "role": "to"},
        brokerage={"name": "Smith Realty", "timezone": "America/Chicago"})
    assert context["property"] is None and context["deadline"] is None
    rendered = DEFAULTS.render(kind, context)
    assert rendered.text.startswith("Hello,\n")
    assert "Wed 1 Jul 2026, 7:00 AM CDT" in rendered.text
    assert "None" not in rendered.text + rendered.subject
    assert "\n\n\n" not in rendered.text


def test_pending_lead_gives_the_deadline_in_the_brokerage_zone_and_both_links() -> None:
    context = sample_context()
    rendered = DEFAULTS.render("pending-lead", context)
    assert "You have until Wed 2 Dec 2026, 5:00 PM EST to accept it." in rendered.text
    for url in (context["links"]["accept"], context["links"]["decline"]):
        assert url and url in rendered.text and f'href="{url}"' in rendered.html
    assert "Accept this lead" in rendered.html


def test_last_chance_is_first_come_first_served() -> None:
    rendered = DEFAULTS.render("last-chance", sample_context())
    assert "first come, first served" in rendered.text
    assert "The offer ends at Wed 2 Dec 2026, 5:00 PM EST." in rendered.text


@pytest.mark.parametrize("kind", ASSIGNMENTS)
def test_assignments_and_manual_distribution_carry_the_work_link(kind: str) -> None:
    context = sample_context()
    rendered = DEFAULTS.render(kind, context)
    work = context["links"]["work"]
    assert f"Work with this lead: {work}" in rendered.text
    assert f'href="{work}"' in rendered.html and "Work with this lead" in rendered.html
    assert "/accept" not in rendered.text + rendered.html


def test_the_last_chance_subject_is_the_rules() -> None:
    """The seed's subject, as the LeadStreet rule file gives it."""
    doc = load_file(RULES / "leadstreet" / "charlotteproperty.yaml")
    subjects = [doc.get(loc_path) for loc_path in _notify_paths(doc.data)
                if doc.get((*loc_path[:-1], "template")) == "last-chance"]
    assert subjects == ["LeadStreet Pending Lead – Last Chance Offer"]
    context = sample_context()
    context["subject"] = subjects[0]
    assert DEFAULTS.render("last-chance", context).subject == \
        "LeadStreet Pending Lead – Last Chance Offer"
    assert DEFAULTS.render(CC_COPY, context).subject == \
        "Copy: LeadStreet Pending Lead – Last Chance Offer"
    context["subject"] = None
    assert DEFAULTS.render("last-chance", context).subject.startswith("Last chance: ")


def _notify_paths(data: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of the ``subject`` of every notify mapping in ``data``."""
    found = []
    if isinstance(data, dict):
        if path and path[-1] == "notify" and "subject" in data:
            found.append((*path, "subject"))
        for key, value in data.items():
            found += _notify_paths(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _notify_paths(value, (*path, i))
    return found


def test_the_cc_copy_has_no_link() -> None:
    context = sample_context()
    rendered = DEFAULTS.render(CC_COPY, context)
    assert "copy for your information" in rendered.text
    for url in links_of(context):
        assert url not in rendered.subject + rendered.text + rendered.html
    assert "href=\"https://" not in rendered.html


def test_a_cc_recipient_never_gets_a_link_even_from_an_override(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {
        "cc-copy.txt.j2": "accept: {{ links.accept }} work: {{ links.work }}\n"})
    context = sample_context()
    rendered = Templates.for_folder(folder).render(CC_COPY, context)
    assert rendered.text == "accept: None work: None\n"
    context["recipient"] = {**context["recipient"], "role": "cc"}
    pending = Templates.for_folder(folder).render("pending-lead", context)
    for url in links_of(sample_context()):
        assert url not in pending.text + pending.html


def test_make_context_gives_a_cc_recipient_no_link() -> None:
    sample = sample_context()
    context = make_context(sample["lead"], recipient={**sample["recipient"], "role": "cc"},
                           brokerage=sample["brokerage"], links=sample["links"])
    assert context["links"] == {"accept": None, "decline": None, "work": None}


def test_unknown_kind() -> None:
    with pytest.raises(UnknownTemplate, match="did you mean 'dispatched-lead'"):
        DEFAULTS.render("dispatch-lead", sample_context())


# -- strict, sandboxed, escaped -----------------------------------------------------------------
def test_a_missing_variable_raises() -> None:
    context: dict[str, Any] = dict(sample_context())
    del context["deadline"]
    with pytest.raises(RenderError) as caught:
        DEFAULTS.render("pending-lead", context)  # type: ignore[arg-type]
    assert isinstance(caught.value.__cause__, UndefinedError)
    assert "'deadline' is undefined" in str(caught.value)
    assert caught.value.location is not None
    assert caught.value.location.path.endswith("pending-lead.txt.j2")


def test_a_missing_field_raises_at_its_template_line(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"dispatched-lead.txt.j2": "Hello\n{{ lead.nosuch }}\n"})
    with pytest.raises(RenderError) as caught:
        Templates.for_folder(folder).render("dispatched-lead", sample_context())
    assert isinstance(caught.value.__cause__, UndefinedError)
    location = caught.value.location
    assert location is not None
    assert (Path(location.path).name, location.line) == ("dispatched-lead.txt.j2", 2)


@pytest.mark.parametrize("expression", [
    "lead.__class__", "lead.__class__.__mro__", "lead.items.__globals__", "vars.__init__",
    "lead.update({'id': 'x'})", "vars.clear()", "(lead.contact).pop('name')",
])
def test_the_sandbox_refuses(tmp_path: Path, expression: str) -> None:
    folder = folder_with(tmp_path, {"dispatched-lead.txt.j2": f"{{{{ {expression} }}}}\n"})
    with pytest.raises(RenderError) as caught:
        Templates.for_folder(folder).render("dispatched-lead", sample_context())
    assert isinstance(caught.value.__cause__, SecurityError | UndefinedError)


def test_no_file_outside_the_template_folders(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password\n", encoding="utf-8")
    folder = folder_with(tmp_path, {"dispatched-lead.txt.j2": '{% include "_x.j2" %}\n'})
    (folder / "templates" / "_x.j2").symlink_to(secret)
    for name in ("_x.j2", "../secret.txt", str(secret)):
        (folder / "templates" / "dispatched-lead.txt.j2").write_text(
            f'{{% include "{name}" %}}\n', encoding="utf-8")
        with pytest.raises(RenderError, match=r"secret|_x"):
            Templates.for_folder(folder).render("dispatched-lead", sample_context())


def test_the_html_body_escapes_the_consumers_message() -> None:
    context = sample_context()
    context["lead"]["message"] = '<script>alert("hi")</script> & <b>bold</b>'
    context["contact"]["name"] = "<img src=x onerror=alert(1)>"
    rendered = DEFAULTS.render("pending-lead", context)
    assert "<script>" not in rendered.html and "<img" not in rendered.html
    assert "&lt;script&gt;alert(&#34;hi&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" \
        in rendered.html
    assert '<script>alert("hi")</script> & <b>bold</b>' in rendered.text
    assert "<img src=x onerror=alert(1)>" in rendered.subject


@settings(max_examples=60, deadline=None)
@given(message=st.text(min_size=1).filter(lambda s: s.strip() != ""))
def test_any_message_is_escaped_in_html_and_verbatim_in_text(message: str) -> None:
    context = sample_context()
    context["lead"]["message"] = message
    rendered = DEFAULTS.render("dispatched-lead", context)
    assert str(escape(message)) in rendered.html
    assert f"Message from Pat Buyer:\n{message}\n" in rendered.text


@settings(max_examples=60, deadline=None)
@given(name=st.text(), subject=st.none() | st.text())
def test_the_subject_is_always_one_line(name: str, subject: str | None) -> None:
    context = sample_context()
    context["contact"]["name"] = name
    context["subject"] = subject
    for kind in ("pending-lead", "last-chance", CC_COPY):
        rendered = DEFAULTS.render(kind, context).subject
        assert rendered == " ".join(rendered.split())
        if subject and subject.split() and kind != CC_COPY:
            assert rendered == " ".join(subject.split())


# -- overrides ---------------------------------------------------------------------------------
def test_an_override_of_one_part_keeps_the_other_defaults(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {
        "dispatched-lead.subject.j2":
            "Real Leads: {{ lead.inquiry_type }} for {{ recipient.name }}\n"})
    templates = Templates.for_folder(folder)
    context = sample_context()
    rendered = templates.render("dispatched-lead", context)
    default = DEFAULTS.render("dispatched-lead", context)
    assert rendered.subject == "Real Leads: Schedule Showing for Jordan Lee"
    assert (rendered.text, rendered.html) == (default.text, default.html)
    assert templates.source("dispatched-lead", "subject").parent == folder / "templates"
    assert templates.source("dispatched-lead", "txt").parent == DEFAULTS_DIR
    assert templates.render("pending-lead", context) == DEFAULTS.render("pending-lead", context)


def test_an_override_can_extend_the_default_it_replaces(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"pending-lead.html.j2": (
        '{% extends "defaults/pending-lead.html.j2" %}\n'
        "{% block footer %}Questions? Call the lead desk at 704-555-0100.{% endblock %}\n")})
    rendered = Templates.for_folder(folder).render("pending-lead", sample_context()).html
    assert "Questions? Call the lead desk at 704-555-0100." in rendered
    assert "Times are shown in" not in rendered
    assert "You have until <strong>Wed 2 Dec 2026, 5:00 PM EST</strong>" in rendered


def test_the_filters(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"dispatched-lead.txt.j2": (
        "{{ property.price | money }}|{{ 1234.5 | money }}|{{ lead.received_at | local_time }}|"
        "{{ lead.received_at | local_time('Europe/Paris') }}|{{ contact | who }}|"
        "{{ recipient | greeting }}|{{ property | place }}|{{ property | property_line }}\n")})
    rendered = Templates.for_folder(folder).render("dispatched-lead", sample_context()).text
    assert rendered.split("|") == [
        "$325,000", "$1,234.50", "Wed 2 Dec 2026, 2:05 PM EST", "Wed 2 Dec 2026, 8:05 PM CET",
        "Pat Buyer", "Hello Jordan Lee,", "Charlotte, NC 28277",
        "listing CMLS-4021977 · Charlotte, NC 28277 · $325,000\n"]


def test_macros_of_an_html_partial_escape(tmp_path: Path) -> None:
    """What the docs say: an HTML body's macros escape when their partial is HTML."""
    folder = folder_with(tmp_path, {
        "_macros.html.j2": "{% macro shout(text) %}<b>{{ text }}</b>{% endmacro %}",
        "dispatched-lead.html.j2": '{% from "_macros.html.j2" import shout %}'
                                   "{{ shout(contact.name) }}\n"})
    context = sample_context()
    context["contact"]["name"] = "<i>Pat</i>"
    html = Templates.for_folder(folder).render("dispatched-lead", context).html
    assert html == "<b>&lt;i&gt;Pat&lt;/i&gt;</b>\n"


def test_a_kind_of_the_folders_own(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {
        "open-house.subject.j2": "Open house: {{ vars.address }}\n",
        "open-house.txt.j2": "{{ contact.name }} asked about the open house.\n",
        "open-house.html.j2": "<p>{{ contact.name }} asked about the open house.</p>\n",
    }, template="open-house")
    templates = Templates.for_folder(folder)
    assert "open-house" in templates.kinds() and "open-house" not in DEFAULTS.kinds()
    context = sample_context()
    context["vars"] = {"address": "12 Elm St"}
    rendered = templates.render("open-house", context)
    assert rendered == type(rendered)("Open house: 12 Elm St",
                                      "Pat Buyer asked about the open house.\n",
                                      "<p>Pat Buyer asked about the open house.</p>\n")
    assert problems(folder) == []


# -- the variables and the docs ------------------------------------------------------------------
def test_the_variables_are_the_context() -> None:
    assert list(VARIABLES) == list(TemplateContext.__annotations__)
    assert set(sample_context()) == set(VARIABLES)


def test_the_docs_print_the_variables_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = re.search(r"<!-- variables -->\n(.*?)<!-- /variables -->", text, re.DOTALL)
    assert table is not None
    assert table.group(1) == variables_table(), "regenerate the table with variables_table()"


def test_the_docs_list_the_shipped_kinds() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = re.search(r"<!-- kinds -->\n(.*?)<!-- /kinds -->", text, re.DOTALL)
    assert table is not None
    assert set(re.findall(r"^\| `([a-z-]+)` \|", table.group(1), re.MULTILINE)) == \
        DEFAULTS.kinds()


def test_the_docs_example_override_renders_as_shown(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    example = re.search(r"<!-- example override: ([\w.-]+) -->\n```jinja\n(.*?)^```$", text,
                        re.DOTALL | re.MULTILINE)
    output = re.search(r"<!-- example output -->\n```text\n(.*?)^```$", text,
                       re.DOTALL | re.MULTILINE)
    assert example is not None and output is not None
    folder = folder_with(tmp_path, {example.group(1): example.group(2)})
    assert problems(folder) == []
    rendered = Templates.for_folder(folder).render("dispatched-lead", sample_context())
    assert rendered.text == output.group(1)
    assert rendered.html == DEFAULTS.render("dispatched-lead", sample_context()).html


def test_the_error_docs_show_the_fixture_templates() -> None:
    text = ERRORS_DOC.read_text(encoding="utf-8")
    shown = re.findall(r"^<!-- template: ([\w./-]+) -->\n```jinja\n(.*?)^```$", text,
                       re.DOTALL | re.MULTILINE)
    assert len(shown) >= 4
    for name, body in shown:
        assert body == (FIXTURES / name).read_text(encoding="utf-8"), name


def test_the_codes_are_registered() -> None:
    assert [c for c in CODES if c.startswith("RK5")] == [
        "RK501", "RK502", "RK503", "RK504", "RK505"]
    assert CODES["RK505"].severity == "warning"


def test_format_instant() -> None:
    new_york = ZoneInfo("America/New_York")
    assert format_instant(datetime(2026, 12, 2, 22, 0, tzinfo=UTC), new_york) == \
        "Wed 2 Dec 2026, 5:00 PM EST"
    assert format_instant(datetime(2026, 7, 1, 4, 5, tzinfo=UTC), new_york) == \
        "Wed 1 Jul 2026, 12:05 AM EDT"
    assert format_instant(datetime(2026, 7, 1, 16, 30, tzinfo=UTC), UTC) == \
        "Wed 1 Jul 2026, 4:30 PM UTC"


def test_make_context() -> None:
    sample = sample_context()
    assert sample["deadline"] == "Wed 2 Dec 2026, 5:00 PM EST"
    assert sample["offer"] == {"id": "of-ls-2026-12-02-0042-1",
                               "deadline": "2026-12-02T22:00:00+00:00"}
    assert sample["lead"]["message"] is not None
    assert sample["lead"]["message"].startswith("Hello, could we see the house")
    assert sample["property"] is not None and sample["property"]["zip"] == "28277"
    json.dumps(sample)  # plain JSON values only


# -- rulekit validate ----------------------------------------------------------------------------
def test_the_shipped_defaults_check_clean(tmp_path: Path) -> None:
    folder = tmp_path / "policy"
    folder.mkdir()
    shutil.copytree(DEFAULTS_DIR, folder / "templates")
    used = [(kind, SourceLocation("rules.yaml", 1, 1)) for kind in sorted(DEFAULTS.kinds())]
    assert check_templates(folder, used) == []


@pytest.mark.parametrize("folder", sorted(p for p in RULES.iterdir() if p.is_dir()),
                         ids=lambda p: p.name)
def test_the_shipped_rule_folders_validate_clean(folder: Path) -> None:
    code, output = run("validate", str(folder))
    assert code == 0, output
    assert "no problems" in output


def test_validate_finds_every_template_the_shipped_rules_name() -> None:
    """Steps' own notify, notify steps, qualify branches: as many as the rule files hold."""
    result = check_paths([RULES])
    found = list(notify_templates(list(result.documents.values())))
    written = [m for path in sorted(RULES.rglob("*.yaml")) if "scenarios" not in path.parts
               for m in re.findall(r"template: ([a-z-]+)", path.read_text(encoding="utf-8"))]
    assert sorted(name for name, _ in found) == sorted(written)
    for name, location in found:
        line = Path(location.path).read_text(encoding="utf-8").splitlines()[location.line - 1]
        assert line[location.column - 1:].startswith(name), (name, location)


def test_a_template_that_does_not_parse(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {
        "dispatched-lead.txt.j2": "Hello\n{% if links.work %}\n  {{ links.work }\n{% endif %}\n",
        "dispatched-lead.html.j2": "<p>\n{{ lead.id | nosuch }}</p>\n",
        "dispatched-lead.subject.j2": "{% for x in lead %}\n{{ x }}\n",
    })
    assert problems(folder) == [
        ("RK501", "dispatched-lead.html.j2", 2, 14),
        ("RK501", "dispatched-lead.subject.j2", 2, 1),
        ("RK501", "dispatched-lead.txt.j2", 3, 17),
    ]


def test_an_unknown_variable_and_field(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {
        "dispatched-lead.txt.j2": (
            "Hello {{ agent.name }}, agent,\n"
            "{% set greeting = 'Hi' %}{{ greeting }} {{ contact.name }}\n"
            "{% for x in lead.attributes %}{{ x }}{% endfor %}  {{ leed.id }} {{ vars.anything }}\n"
            "{{ lead.inquiry_typ }} and {{ lead.contact.emial }} {{ lead.get('x') }}\n"
            "{{ property.zip if property else '' }}, {{ links.work }} {{ brokerage.zone }}\n"),
        "_part.j2": "{% macro m(who) %}{{ who.name }}{% endmacro %}{{ m(recipient) }} {{ x }}\n",
    })
    assert problems(folder) == [
        ("RK502", "_part.j2", 1, 69),                   # x
        ("RK502", "dispatched-lead.txt.j2", 1, 10),     # agent
        ("RK502", "dispatched-lead.txt.j2", 3, 55),     # leed
        ("RK502", "dispatched-lead.txt.j2", 4, 9),      # lead.inquiry_typ
        ("RK502", "dispatched-lead.txt.j2", 4, 44),     # lead.contact.emial
        ("RK502", "dispatched-lead.txt.j2", 5, 71),     # brokerage.zone
    ]


def test_a_rule_naming_a_kind_there_is_no_template_of(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"open-house.txt.j2": "x\n",
                                    "pending-lead.text.j2": "x\n",
                                    "_partial.txt.j2": "x\n"}, template="dispatch-lead")
    assert problems(folder) == [
        ("RK503", "rules.yaml", 7, 28),
        ("RK504", "open-house.txt.j2", 1, 1),
        ("RK505", "pending-lead.text.j2", 1, 1),
    ]


def test_a_misspelt_override_gets_a_hint(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"dispatched-led.txt.j2": "x\n", "pending-lead.text.j2": "x\n"})
    found = check_templates(folder, [])
    assert [(d.code, d.hint) for d in found] == [
        ("RK504", "did you mean 'dispatched-lead.txt.j2'? (an override of the shipped kind "
                  "'dispatched-lead')"),
        ("RK505", "did you mean 'pending-lead.txt.j2'?"),
    ]
    assert found[1].severity == "warning"


def test_validate_reports_them_at_file_line_and_column(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {
        "dispatched-lead.txt.j2": "Hello {{ recipent.name }}\n{{ x }\n",
        "pending-lead.txt.j2": "Hello\n\n  {{ recipent.name }}\n",
    }, template="dispatch-lead")
    code, output = run("validate", "--format", "json", str(folder))
    assert code == 1
    found = [(Path(p["path"]).relative_to(folder).as_posix(), p["line"], p["column"],
              p["code"], p["hint"]) for p in json.loads(output)]
    assert found == [
        ("rules.yaml", 7, 28, "RK503", "did you mean 'dispatched-lead'?"),
        ("templates/dispatched-lead.txt.j2", 2, 6, "RK501", None),
        ("templates/pending-lead.txt.j2", 3, 6, "RK502", "did you mean 'recipient'?"),
    ]
    code, output = run("validate", str(folder))
    assert f"{folder}/templates/pending-lead.txt.j2:3:6: error[RK502]: unknown template " \
           "variable 'recipent'\n 3 |   {{ recipent.name }}\n   |      ^\n" in output
    assert output.endswith("3 files checked: 3 errors\n")


def test_validate_changed_checks_the_folders_templates(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"dispatched-lead.txt.j2": "{{ x }\n"})
    code, output = run("validate", "--changed", str(folder / "rules.yaml"))
    assert code == 1
    assert "templates/dispatched-lead.txt.j2:1:6: error[RK501]" in output


def test_validate_in_a_subprocess_finds_the_package_defaults(tmp_path: Path) -> None:
    """The defaults are package data: a process started anywhere finds them."""
    folder = folder_with(tmp_path, {})
    done = subprocess.run(["rulekit", "validate", str(folder)], capture_output=True, text=True,
                          cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
