"""The UTC offset changes read from TZif files are exactly the ones ``datetime`` applies."""

from __future__ import annotations

import io
import struct
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest

from rulekit.calendars import build_calendar, business
from rulekit.calendars.transitions import parse_tzif, zone_changes

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


def offset(tz: zoneinfo.ZoneInfo, us: int) -> int:
    """The offset ``astimezone`` applies to the instant (its local wall time minus UTC)."""
    instant = EPOCH + us * US
    return (instant.astimezone(tz).replace(tzinfo=None) - instant.replace(tzinfo=None)) // US


def at(year: int) -> int:
    return (datetime(year, 1, 1, tzinfo=UTC) - EPOCH) // US


def test_every_zone_changes_where_datetime_does() -> None:
    lo, hi = at(1970), at(2100)
    for key in sorted(zoneinfo.available_timezones()):
        tz, changes = zoneinfo.ZoneInfo(key), zone_changes(key)
        assert changes is not None, key
        previous = lo
        for change in changes.changes_after(lo):
            if change.at > hi:
                break
            assert (offset(tz, change.at - 1), offset(tz, change.at)) == \
                (change.before, change.after), (key, EPOCH + change.at * US)
            middle = (previous + change.at) // 2
            assert offset(tz, middle) == change.before == changes.offset_at(middle), key
            previous = change.at
        for year in (2150, 3000, 9998):
            probe = at(year) + 200 * 86_400 * 10**6
            assert offset(tz, probe) == changes.offset_at(probe), (key, year)


def tzif(std_offset: int, footer: str) -> bytes:
    """A TZif file without transitions: one local time type and a TZ string."""
    counts = struct.pack(">6l", 0, 0, 0, 0, 1, 4)
    block = struct.pack(">lbB", std_offset, 0, 0) + b"STD\0"
    header = b"TZif2" + bytes(15) + counts
    return header + block + header + block + b"\n" + footer.encode() + b"\n"


@pytest.mark.parametrize(("std", "footer"), [
    (-5 * 3600, "EST5EDT,M3.2.0,M11.1.0"),
    (3600, "IST-1GMT0,M10.5.0,M3.5.0/1"),  # negative DST
    (-2 * 3600, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0"),  # negative transition time
    (10 * 3600, "AEST-10AEDT,M10.1.0,M4.1.0/3"),  # southern hemisphere
    (3600, "CET-1CEST,J60/25,J300/100"),  # Julian days, times past 24:00
    (3600, "CET-1CEST-2:30,100/1:30,250"),  # zero-based days, odd DST offset
    (-3 * 3600, "<-03>3<-02>,M1.1.0/0,M12.5.6/167"),  # near the turn of the year
    (12600, "<+0330>-3:30"),  # fixed
])
def test_tz_strings_are_read_as_zoneinfo_reads_them(std: int, footer: str) -> None:
    data = tzif(std, footer)
    tz = zoneinfo.ZoneInfo.from_file(io.BytesIO(data))
    changes = parse_tzif(data)
    lo, hi = at(2020), at(2032)
    previous = lo
    for change in changes.changes_after(lo):
        if change.at > hi:
            break
        assert (offset(tz, change.at - 1), offset(tz, change.at)) == \
            (change.before, change.after), EPOCH + change.at * US
        for probe in (previous + 1, (previous + change.at) // 2):
            assert offset(tz, probe) == change.before == changes.offset_at(probe)
        previous = change.at
    for k in range(0, 12 * 366, 5):  # every fifth day at 13:37 UTC
        probe = lo + k * 86_400 * 10**6 + 49_020 * 10**6
        assert offset(tz, probe) == changes.offset_at(probe)


def test_rules_that_keep_to_a_weekday_are_told_apart() -> None:
    assert parse_tzif(tzif(-5 * 3600, "EST5EDT,M3.2.0,M11.1.0")).weekly_windows() == [
        (6 * 1440 + 120, 6 * 1440 + 180), (6 * 1440 + 60, 6 * 1440 + 120)]
    assert parse_tzif(tzif(12600, "<+0330>-3:30")).weekly_windows() == []
    for footer in ("CET-1CEST,J60/25,J300/100", "<-03>3<-02>,M1.1.0/0,M12.5.6/167"):
        assert parse_tzif(tzif(3600, footer)).weekly_windows() is None
    for key in sorted(zoneinfo.available_timezones()):  # every zone can skip weeks
        changes = zone_changes(key)
        assert changes is not None and changes.weekly_windows() is not None, key


def test_unknown_or_unreadable_zones_give_none() -> None:
    assert zone_changes("No/Such_Zone") is None
    with pytest.raises(ValueError):
        parse_tzif(b"not a zone file")


def test_without_the_zone_data_long_durations_walk_and_agree(
        monkeypatch: pytest.MonkeyPatch) -> None:
    spec = {"timezone": "America/New_York", "hours": {"daily": "09:00-09:30"}}
    start, d = datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=900)
    skipped = build_calendar("c", spec).add_business(start, d)
    monkeypatch.setattr(business, "zone_changes", lambda key: None)
    walking = build_calendar("c", spec)
    assert walking._get_skipper() is None
    assert walking.add_business(start, d) == skipped
