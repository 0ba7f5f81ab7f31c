"""Input checks whose work grows with the input, not with its square: world indexes,
competing policies, hand-off cycles and unknown-name hints."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from rulekit import world as world_module
from rulekit.config import project
from rulekit.config.project import check_paths
from rulekit.model import Agent
from rulekit.world import World


class CountingId(str):
    """An agent id that counts how often it is compared."""

    __slots__ = ()
    comparisons = 0

    def __eq__(self, other: object) -> bool:
        CountingId.comparisons += 1
        return str.__eq__(self, other)

    def __hash__(self) -> int:
        return str.__hash__(self)


def test_world_index_does_not_compare_every_pair_of_agents() -> None:
    count = 2_000
    pairs = [("CMLS", CountingId(f"a{i}")) for i in range(count)]
    pairs += [("CMLS", CountingId("a7")), ("YCMLS", CountingId("a1"))]
    CountingId.comparisons = 0
    index = world_module._index(pairs)
    assert CountingId.comparisons < 4 * count
    assert index["CMLS"] == tuple(f"a{i}" for i in range(count))
    assert index["YCMLS"] == ("a1",)


def test_world_indexes_keep_order_and_drop_repeats() -> None:
    agents = [Agent(id="a1", mls=["M", "M"], zips=["1", "2"], offices=["o"]),
              Agent(id="a2", mls=["M"], zips=["2"], offices=["o"], teams=["t"])]
    built = World.build("w", agents=agents)
    assert built.by_mls == {"M": ("a1", "a2")}
    assert built.by_zip == {"1": ("a1",), "2": ("a1", "a2")}
    assert built.by_team == {"t": ("a2",)}


def rule_file(name: str, extra: str = "", sources: str = "[remax.com]") -> str:
    return (f"rulekit: 1\npolicy: {name}\n{extra}applies_to:\n  sources: {sources}\n"
            "rules:\n  - name: all\n    steps:\n      - queue: manual\n")


def write_policies(folder: Path, count: int, **kwargs: str) -> None:
    folder.mkdir(exist_ok=True)
    for i in range(count):
        (folder / f"p{i:04d}.yaml").write_text(rule_file(f"p{i:04d}", **kwargs))


def conflicts(folder: Path) -> list[str]:
    return [f"{d.location}: {d.message}" for d in check_paths([folder]).diagnostics
            if d.code == "RK306"]


def test_many_policies_claiming_one_source_are_one_finding(tmp_path: Path) -> None:
    write_policies(tmp_path / "rules", 300)
    [finding] = conflicts(tmp_path / "rules")
    assert "p0000" in finding and "p0004" in finding
    assert "p0005" not in finding
    assert "… and 295 more" in finding
    assert "source 'remax.com'" in finding
    assert finding.startswith(f"{tmp_path / 'rules' / 'p0001.yaml'}:2:9: ")


def test_two_policies_keep_the_pair_message(tmp_path: Path) -> None:
    write_policies(tmp_path / "rules", 2, sources="[remax.com, spaw]")
    assert [f.split(": ", 1)[1] for f in conflicts(tmp_path / "rules")] == [
        "policies 'p0000' and 'p0001' both claim source 'remax.com', 'spaw' with the same "
        "precedence"]


def test_only_policies_that_overlap_are_listed(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    for i in range(200):  # one channel each: none overlaps another
        (folder / f"site{i:03d}.yaml").write_text(
            rule_file(f"site{i:03d}", sources="[agent-site]").replace(
                "sources: [agent-site]\n", f"sources: [agent-site]\n  channels: [c{i}]\n"))
    (folder / "any-channel.yaml").write_text(rule_file("any-channel", sources="[remax.com]"))
    (folder / "precise.yaml").write_text(rule_file("precise", extra="precedence: 10\n"))
    assert conflicts(folder) == []
    (folder / "also-any.yaml").write_text(rule_file("also-any"))
    [finding] = conflicts(folder)
    assert "'also-any' and 'any-channel'" in finding


def test_precedence_groups_are_reported_apart(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    write_policies(folder, 3)
    for i in range(3):
        (folder / f"q{i}.yaml").write_text(rule_file(f"q{i}", extra="precedence: 5\n"))
    found = conflicts(folder)
    assert len(found) == 2
    assert any("'p0000', 'p0001' and 'p0002'" in f for f in found)
    assert any("'q0', 'q1' and 'q2'" in f for f in found)


def test_a_knot_of_hand_offs_is_one_finding(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    names = [f"h{i}" for i in range(9)]
    for i, name in enumerate(names):
        steps = "".join(f"      - use_policy: {other}\n" for other in names if other != name)
        (folder / f"{name}.yaml").write_text(
            f"rulekit: 1\npolicy: {name}\napplies_to:\n  sources: [s{i}]\nrules:\n"
            f"  - name: all\n    steps:\n{steps}")
    found = [d for d in check_paths([folder]).diagnostics if d.code == "RK311"]
    assert len(found) == 1
    assert found[0].message.endswith("h0 → h1 → h0")


def hints_asked(module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names ``module.did_you_mean`` is asked about from now on (it still answers)."""
    calls: list[str] = []
    real = module.did_you_mean

    def counting(name: str, candidates: object) -> str | None:
        calls.append(name)
        return real(name, candidates)  # type: ignore[no-any-return]

    monkeypatch.setattr(module, "did_you_mean", counting)
    return calls


def test_unknown_references_in_a_big_world_ask_for_few_hints(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = hints_asked(project, monkeypatch)
    agents = "".join(f"- {{id: a{i}}}\n" for i in range(2_000))
    members = ", ".join(f"x{i}" for i in range(500))
    world = tmp_path / "world.yaml"
    world.write_text(f"rulekit: 1\nworld: w\nteams:\n- {{id: t, members: [{members}]}}\n"
                     f"agents:\n{agents}")
    diagnostics = check_paths([world]).diagnostics
    assert len([d for d in diagnostics if d.code == "RK310"]) == 500
    assert len(calls) <= 50


def test_undefined_pools_in_many_rule_files_ask_for_few_hints(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rulekit.config import build

    calls = hints_asked(build, monkeypatch)
    folder = tmp_path / "rules"
    folder.mkdir()
    for i in range(300):
        (folder / f"p{i:03d}.yaml").write_text(
            f"rulekit: 1\npolicy: p{i:03d}\npools:\n  pool-{i}: {{of: agents}}\n"
            f"applies_to:\n  sources: [s{i}]\nrules:\n  - name: all\n    steps:\n"
            f"      - round_robin: {{pool: missing-{i}}}\n      - queue: manual\n")
    diagnostics = check_paths([folder]).diagnostics
    undefined = [d for d in diagnostics if d.code == "RK301"]
    assert len(undefined) == 300
    assert len(calls) <= 50
    assert all(d.hint for d in undefined)
