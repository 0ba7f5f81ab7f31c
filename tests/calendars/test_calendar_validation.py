"""Validation: every problem becomes a diagnostic with its code, its path and a useful hint."""

from __future__ import annotations

from typing import Any

import pytest

from rulekit.calendars import build_calendar, build_calendars
from rulekit.errors import Diagnostic, RulekitErrors, SourceLocation

BASE: dict[str, Any] = {"timezone": "America/New_York", "hours": {"mon-fri": "09:00-17:00"}}


class FakeAt:
    """Stands in for the YAML loader: records the paths and gives each a distinct location."""

    def __init__(self) -> None:
        self.paths: list[tuple[str | int, ...]] = []

    def __call__(self, path: tuple[str | int, ...]) -> SourceLocation | None:
        self.paths.append(path)
        return SourceLocation("rules.yaml", len(self.paths), 1)


def problems(spec: Any) -> tuple[list[Diagnostic], FakeAt]:
    at = FakeAt()
    with pytest.raises(RulekitErrors) as info:
        build_calendar("office", spec, at=at)
    return info.value.diagnostics, at


def only(spec: Any) -> tuple[Diagnostic, tuple[str | int, ...]]:
    found, at = problems(spec)
    assert len(found) == 1, [d.headline() for d in found]
    assert len(at.paths) == 1
    assert found[0].location == SourceLocation("rules.yaml", 1, 1)
    return found[0], at.paths[0]


def with_(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


def test_valid_definition_builds() -> None:
    at = FakeAt()
    calendar = build_calendar("office", {
        "timezone": "America/New_York",
        "hours": {"mon-fri": "09:00-17:00", "sat": ["10:00-12:00", "13:00-15:00"],
                  "sun": "closed"},
        "holidays": {"country": "US", "subdivision": "NC", "dates": ["2026-12-24"]},
        "exceptions": [{"date": "2026-12-05", "hours": "10:00-14:00"},
                       {"date": "2026-12-31", "hours": "closed"}],
        "windows": [{"cron": "0 8 * * mon-fri", "duration": "2h"}],
    }, at=at)
    assert calendar.name == "office"
    assert at.paths == []


def test_rk401_unknown_zone_with_did_you_mean() -> None:
    diag, path = only(with_(timezone="America/New_Yrok"))
    assert (diag.code, path, diag.field_path) == ("RK401", ("timezone",), "timezone")
    assert diag.hint == "did you mean 'America/New_York'?"
    diag, _ = only(with_(timezone="Mars/Olympus"))
    assert diag.code == "RK401" and diag.hint and "IANA" in diag.hint


def test_rk402_unknown_country_and_subdivision() -> None:
    diag, path = only(with_(holidays={"country": "USA2"}))
    assert (diag.code, path) == ("RK402", ("holidays", "country"))
    assert diag.hint == "did you mean 'US'?"
    diag, path = only(with_(holidays={"country": "US", "subdivision": "NX"}))
    assert (diag.code, path) == ("RK402", ("holidays", "subdivision"))
    assert diag.hint and "NC" in diag.hint
    diag, path = only(with_(holidays={"country": "US", "subdivision": "nc"}))
    assert diag.hint == "did you mean 'NC'?"
    diag, path = only(with_(holidays={"subdivision": "NC"}))
    assert (diag.code, path) == ("RK402", ("holidays", "subdivision"))


def test_rk403_overlaps_name_both_intervals() -> None:
    diag, path = only(with_(hours={"mon-fri": "09:00-17:00", "mon": "12:00-18:00"}))
    assert (diag.code, path, diag.field_path) == ("RK403", ("hours", "mon"), "hours.mon")
    assert diag.hint and "09:00-17:00" in diag.hint and "12:00-18:00" in diag.hint
    assert "mon-fri" in diag.hint
    diag, path = only(with_(hours={"weekdays": "09:00-17:00", "mon-fri": "16:00-18:00"}))
    assert "mon, tue, wed, thu, fri" in diag.message  # one diagnostic for all five days
    diag, path = only(with_(hours={"fri": "22:00-06:00", "sat": ["05:00-07:00"]}))
    assert (diag.code, path) == ("RK403", ("hours", "sat", 0))  # overnight spill-over
    diag, path = only(with_(hours={"sun": "22:00-06:00", "mon": "05:00-07:00"}))
    assert diag.code == "RK403"  # the week wraps around
    diag, path = only(with_(exceptions=[{"date": "2026-12-05",
                                         "hours": ["09:00-12:00", "11:00-13:00"]}]))
    assert (diag.code, path) == ("RK403", ("exceptions", 0, "hours", 1))
    # touching intervals are fine
    build_calendar("ok", with_(hours={"mon": ["09:00-12:00", "12:00-13:00"],
                                      "tue": "18:00-24:00", "wed": "00:00-02:00"}))


def test_rk404_never_open() -> None:
    diag, path = only({"timezone": "UTC"})
    assert (diag.code, path) == ("RK404", ())
    diag, path = only({"timezone": "UTC", "hours": {"daily": "closed"},
                       "exceptions": [{"date": "2026-12-05", "hours": "closed"}]})
    assert (diag.code, path) == ("RK404", ("hours",))
    build_calendar("x", {"timezone": "UTC", "exceptions": [{"date": "2026-12-05",
                                                            "hours": "10:00-12:00"}]})
    build_calendar("x", {"timezone": "UTC", "windows": [{"cron": "0 8 * * *", "duration": "1h"}]})


@pytest.mark.parametrize(("value", "path"), [
    ("9:00-17:00", ("hours", "mon")),
    ("09:00-25:00", ("hours", "mon")),
    ("09:60-17:00", ("hours", "mon")),
    ("24:00-02:00", ("hours", "mon")),
    ("09:00", ("hours", "mon")),
    ("10:00-10:00", ("hours", "mon")),
    (["09:00-12:00", "oops"], ("hours", "mon", 1)),
    (["closed", "09:00-12:00"], ("hours", "mon", 0)),
    (900, ("hours", "mon")),
])
def test_rk405_bad_times(value: Any, path: tuple[str | int, ...]) -> None:
    diag, got = only(with_(hours={"mon": value}))
    assert (diag.code, got) == ("RK405", path)
    assert diag.hint


def test_rk405_bad_day_keys_and_durations() -> None:
    diag, path = only(with_(hours={"mon-fry": "09:00-17:00"}))
    assert (diag.code, path) == ("RK405", ("hours", "mon-fry"))
    diag, path = only(with_(hours={"weekday": "09:00-17:00"}))
    assert diag.hint and diag.hint.startswith("did you mean 'weekdays'?")
    diag, path = only(with_(windows=[{"cron": "0 8 * * *", "duration": "2x"}]))
    assert (diag.code, path) == ("RK405", ("windows", 0, "duration"))
    diag, path = only(with_(windows=[{"cron": "0 8 * * *", "duration": "0m"}]))
    assert diag.code == "RK405"


@pytest.mark.parametrize("cron", ["0 8 * *", "a b c d e", "0 8 * * * *", "0 0 30 2 *", 5, ""])
def test_rk406_bad_cron(cron: Any) -> None:
    diag, path = only(with_(windows=[{"cron": cron, "duration": "2h"}]))
    assert (diag.code, path, diag.field_path) == ("RK406", ("windows", 0, "cron"),
                                                  "windows.0.cron")
    assert diag.hint


def test_rk407_bad_dates() -> None:
    diag, path = only(with_(holidays={"dates": ["2026-12-24", "2026-02-30"]}))
    assert (diag.code, path, diag.field_path) == ("RK407", ("holidays", "dates", 1),
                                                  "holidays.dates.1")
    diag, path = only(with_(exceptions=[{"date": "26-12-05", "hours": "closed"}]))
    assert (diag.code, path) == ("RK407", ("exceptions", 0, "date"))
    diag, path = only(with_(exceptions=[{"date": "2026-12-05", "hours": "closed"},
                                        {"date": "2026-12-05", "hours": "09:00-10:00"}]))
    assert (diag.code, path) == ("RK407", ("exceptions", 1, "date"))


def test_all_problems_are_reported_together() -> None:
    found, at = problems({
        "timezone": "Europe/Berlln",
        "hours": {"mon": "9-5", "tue": ["09:00-12:00", "11:00-13:00"]},
        "holidays": {"country": "XX", "dates": ["tomorrow"]},
        "windows": [{"cron": "every day", "duration": "2h"}],
        "colour": "blue",
    })
    assert sorted(d.code for d in found) == ["RK102", "RK401", "RK402", "RK403", "RK405",
                                            "RK406", "RK407"]
    assert len(at.paths) == len(found)
    assert all(d.location is not None for d in found)


@pytest.mark.parametrize("spec", [
    None, 5, "office", [], {"timezone": None}, {"timezone": 5, "hours": [1]},
    {"timezone": "UTC", "hours": {"mon": {"a": 1}}, "holidays": 3, "exceptions": {"a": 1},
     "windows": "x"},
    {"timezone": "UTC", "hours": {5: "09:00-10:00"}, "exceptions": [5, {"hours": "closed"}],
     "windows": [5, {}], "holidays": {"country": 5, "dates": "2026-01-01"}},
    {"timezone": "/etc/localtime"}, {"timezone": "../../etc/passwd"}, {"timezone": ""},
])
def test_odd_input_is_a_diagnostic_not_a_crash(spec: Any) -> None:
    found, _at = problems(spec)
    assert found
    assert all(d.code.startswith("RK") for d in found)


def test_build_calendars_prefixes_paths_with_the_name() -> None:
    at = FakeAt()
    with pytest.raises(RulekitErrors) as info:
        build_calendars({"good": BASE, "bad": with_(timezone="Nowhere/City")}, at=at)
    assert at.paths == [("bad", "timezone")]
    assert [d.field_path for d in info.value.diagnostics] == ["bad.timezone"]
