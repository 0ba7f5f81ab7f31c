"""Input checks at scale: ``rulekit validate`` on a large world and on many competing policies.

    python bench/world_scale.py [--agents 100000] [--small 10000] [--rule-files 2000] [--keep DIR]

Generates, in a temporary folder, a world of ``--agents`` agents shaped like the shipped
``rules/*/world.yaml`` (offices with cities and specialty cities, teams with members, agents
with MLS memberships, ZIP codes, cities, tags, calendars, capacities; listings and contacts), the
same world with ``--small`` agents, and ``--rule-files`` rule files that all claim one source
with the same precedence.  Runs ``rulekit validate`` on each in a subprocess and prints its wall
time and peak resident memory (``getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a process that runs
only that one validation) and its CPU time, the ratio to each target, and the growth from the
small world to the large one (linear growth: time and memory above the start-up cost grow about
as the agents do).  On a shared machine the wall time includes waiting for a core; the CPU time
does not.

Targets: the large world validates in under 60 s and under 600 MB.  Exit code 1 if a target is
missed or a run does not give the expected result.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_SECONDS = 60.0
TARGET_MB = 600.0

STATES = ["NC", "SC", "GA", "TN", "VA"]
BRANDS = ["RE/MAX", "Coldwell Banker", "Keller Williams", "Century 21"]
TAGS = ["trusted", "qualifier", "eteam", "luxury", "bilingual", "new-construction"]
FIRST = ["Avery", "Blake", "Casey", "Devon", "Emerson", "Finley", "Gray", "Harper", "Indigo",
         "Jordan", "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Riley",
         "Sage", "Taylor", "Uma", "Val", "Wren", "Zion"]
LAST = ["Jones", "Kim", "Diaz", "Reed", "Shaw", "Ortiz", "Patel", "Nguyen", "Brooks", "Lee",
        "Morgan", "Price", "Hayes", "Carter", "Ward", "Bell", "Foster", "Ellis", "Turner",
        "Ruiz", "Fields", "Chen", "Gomez", "Hart"]

CALENDARS = """\
calendars:
  evenings:
    timezone: America/New_York
    hours: {daily: '17:00-22:00'}
  office-hours:
    timezone: America/New_York
    hours:
      mon-fri: '09:00-17:00'
      sat: '10:00-14:00'
    holidays: {country: US, subdivision: NC}
  weekends:
    timezone: America/Chicago
    hours: {sat-sun: '08:00-20:00'}
"""


def generate_world(n_agents: int, seed: int = 7) -> str:
    """The text of a realistic world file with ``n_agents`` agents."""
    rng = random.Random(seed)
    n_offices = max(6, n_agents // 200)
    n_mls = max(2, n_offices // 25)
    n_teams = max(2, n_agents // 500)
    cities = [f"City {i}" for i in range(max(10, n_offices // 2))]
    mls_names = [f"MLS{i}" for i in range(n_mls)]
    office_city = [rng.choice(cities) for _ in range(n_offices)]
    office_mls = [mls_names[i % n_mls] for i in range(n_offices)]
    office_zips = [[f"{(i * 7 + j) % 90000 + 10000:05d}" for j in range(6)]
                   for i in range(n_offices)]
    out = ["# yaml-language-server: $schema=../../schemas/world.schema.json",
           "rulekit: 1", f"world: scale-{n_agents}",
           f"description: 'Generated: {n_offices} offices, {n_agents:,} agents.'",
           CALENDARS.rstrip("\n"), "offices:"]
    for i in range(n_offices):
        specialty = ", ".join(rng.sample(cities, 2))
        out += [f"- id: o-{i:05d}",
                f"  name: Office {i}",
                f"  city: {office_city[i]}",
                f"  state: {STATES[i % len(STATES)]}",
                f"  specialty_cities: [{specialty}]",
                f"  brand: {BRANDS[i % len(BRANDS)]}"]
        if i % 3 == 0:
            out.append(f"  agent_count: {rng.randint(20, 400)}")
        if i % 4 == 0:
            out.append("  calendar: office-hours")
    agents_of_team: list[list[int]] = [[] for _ in range(n_teams)]
    agent_lines: list[str] = []
    for i in range(n_agents):
        o = rng.randrange(n_offices)
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        mls = office_mls[o] if i % 5 else f"{office_mls[o]}, {rng.choice(mls_names)}"
        zips = ", ".join(f"'{z}'" for z in rng.sample(office_zips[o], rng.randint(2, 3)))
        agent_lines += [f"- id: a-{i:06d}",
                        f"  name: {first} {last}",
                        f"  email: {first.lower()}.{last.lower()}.{i}@example.com",
                        f"  offices: [o-{o:05d}]",
                        f"  mls: [{mls}]",
                        f"  zips: [{zips}]",
                        f"  cities: [{office_city[o]}, {rng.choice(cities)}]"]
        if i % 3 == 0:
            agent_lines.append(f"  tags: [{rng.choice(TAGS)}]")
        if i % 10 == 0:
            team = rng.randrange(n_teams)
            agents_of_team[team].append(i)
            agent_lines.append(f"  teams: [t-{team:04d}]")
        if i % 7 == 0:
            agent_lines.append(f"  calendar: {rng.choice(['evenings', 'weekends'])}")
        if i % 11 == 0:
            agent_lines.append(f"  capacity: {rng.randint(5, 40)}")
        if i % 50 == 0:
            agent_lines.append("  paused: true")
    out.append("teams:")
    for t in range(n_teams):
        members = ", ".join(f"a-{i:06d}" for i in agents_of_team[t][:20])
        out += [f"- id: t-{t:04d}", f"  name: Team {t}", f"  members: [{members}]"]
    out.append("agents:")
    out += agent_lines
    out.append("listings:")
    for i in range(max(5, n_agents // 20)):
        o = rng.randrange(n_offices)
        agent = f"a-{rng.randrange(n_agents):06d}" if i % 4 else "null"
        out.append(f"- {{id: L-{i:07d}, mls: {office_mls[o]}, brand: {BRANDS[i % len(BRANDS)]}, "
                   f"status: {'active' if i % 5 else 'sold'}, listing_agent: {agent}, "
                   f"city: {office_city[o]}, state: {STATES[o % len(STATES)]}, "
                   f"zip: '{rng.choice(office_zips[o])}', price: {rng.randint(150, 900)}000}}")
    out.append("contacts:")
    for i in range(max(5, n_agents // 20)):
        owner = f"a-{rng.randrange(n_agents):06d}"
        out += [f"- id: c-{i:07d}",
                f"  email: consumer{i}@example.net",
                f"  owners: {{'market:{rng.choice(mls_names)}': {owner}}}",
                f"  type: {'Buyer' if i % 2 else 'Seller'}",
                "  source: Broker"]
    return "\n".join(out) + "\n"


def generate_rule_file(index: int, source: str = "remax.com") -> str:
    """A small, valid rule file claiming ``source`` (no precedence: every one competes)."""
    return (f"rulekit: 1\npolicy: claim-{index:05d}\n"
            f"applies_to:\n  sources: [{source}]\n"
            "rules:\n  - name: all\n    steps:\n      - queue: manual\n")


def measure(argv: list[str]) -> dict[str, object]:
    """Run ``argv`` in a fresh process that runs only it; wall time, peak RSS, output."""
    wrapper = (
        "import json, resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "wall = time.perf_counter() - start\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "rss, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime\n"
        "print(json.dumps({'seconds': wall, 'cpu': cpu, 'rss_kb': rss, 'code': done.returncode,\n"
        "                  'stdout': done.stdout, 'stderr': done.stderr}))\n"
    )
    done = subprocess.run([sys.executable, "-c", wrapper, *argv], capture_output=True,
                          text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def rulekit(*args: str) -> list[str]:
    return [sys.executable, "-m", "rulekit", "validate", "--format", "json",
            "--max-problems", "100000", *args]


def mb(result: dict[str, object]) -> float:
    kb = result["rss_kb"]
    assert isinstance(kb, int)
    return kb / 1024 if sys.platform != "darwin" else kb / (1 << 20)


def seconds(result: dict[str, object], key: str = "seconds") -> float:
    value = result[key]
    assert isinstance(value, float)
    return value


def findings(result: dict[str, object]) -> list[dict[str, object]]:
    text = result["stdout"]
    assert isinstance(text, str)
    found: list[dict[str, object]] = json.loads(text) if text.strip() else []
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--rule-files", type=int, default=2_000)
    parser.add_argument("--keep", metavar="DIR", help="write the files here and keep them")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rulekit-scale-") as tmp:
        root = Path(args.keep or tmp)
        worlds: dict[int, Path] = {}
        sizes: dict[int, float] = {0: 0.0}
        for n in (args.small, args.agents):
            folder = root / f"world-{n}"
            folder.mkdir(parents=True, exist_ok=True)
            worlds[n] = folder / "world.yaml"
            worlds[n].write_text(generate_world(n), encoding="utf-8")
            sizes[n] = worlds[n].stat().st_size / 1e6
        rules = root / "claims"
        rules.mkdir(parents=True, exist_ok=True)
        for i in range(args.rule_files):
            path = rules / f"claim-{i:05d}.yaml"
            path.write_text(generate_rule_file(i), encoding="utf-8")
            sizes[0] += path.stat().st_size / 1e6
        empty = root / "baseline"
        empty.mkdir(parents=True, exist_ok=True)
        (empty / "one.yaml").write_text(generate_rule_file(0), encoding="utf-8")

        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; files in {root}")
        base = measure(rulekit(str(empty)))
        small = measure(rulekit(str(worlds[args.small])))
        large = measure(rulekit(str(worlds[args.agents])))
        claims = measure(rulekit(str(rules)))

    ok = True
    for name, result in (("baseline", base), ("small world", small), ("large world", large)):
        if result["code"] != 0:
            print(f"{name}: expected no problems, got exit {result['code']}:\n"
                  f"{str(result['stdout'])[:2000]}{result['stderr']}")
            ok = False
    conflicts = [f for f in findings(claims) if f.get("code") == "RK306"]
    if claims["code"] != 1 or len(conflicts) != 1:
        print(f"claims: expected exit 1 with one RK306 finding; got exit {claims['code']} "
              f"with {len(conflicts)}:\n{str(claims['stderr'])[:2000]}")
        ok = False

    print()
    print(f"{'run':<36}{'file MB':>9}{'time (s)':>10}{'CPU (s)':>9}{'peak RSS (MB)':>15}")
    rows = [("start-up (one rule file)", 0.0, base),
            (f"world, {args.small:,} agents", sizes[args.small], small),
            (f"world, {args.agents:,} agents", sizes[args.agents], large),
            (f"{args.rule_files:,} rule files, one source", sizes[0], claims)]
    for label, size, result in rows:
        print(f"{label:<36}{size:>9.1f}{seconds(result):>10.2f}{seconds(result, 'cpu'):>9.2f}"
              f"{mb(result):>15.1f}")
    print()
    factor = args.agents / args.small
    t_ratio = seconds(large) / seconds(small)
    m_ratio = mb(large) / mb(small)
    t_net = (seconds(large) - seconds(base)) / max(seconds(small) - seconds(base), 1e-9)
    m_net = (mb(large) - mb(base)) / max(mb(small) - mb(base), 1e-9)
    print(f"growth {args.agents:,} / {args.small:,} agents (x{factor:g}): "
          f"time x{t_ratio:.1f} (x{t_net:.1f} above start-up), "
          f"memory x{m_ratio:.1f} (x{m_net:.1f} above start-up)")
    t_target = seconds(large) / TARGET_SECONDS
    m_target = mb(large) / TARGET_MB
    c_ratio = seconds(large, "cpu") / max(seconds(small, "cpu"), 1e-9)
    print(f"growth in CPU time (not slowed by other processes): x{c_ratio:.1f}")
    print(f"{args.agents:,}-agent world vs targets: time {seconds(large):.1f} s / "
          f"{TARGET_SECONDS:.0f} s = {t_target:.2f} (CPU {seconds(large, 'cpu'):.1f} s = "
          f"{seconds(large, 'cpu') / TARGET_SECONDS:.2f}); memory {mb(large):.0f} MB / "
          f"{TARGET_MB:.0f} MB = {m_target:.2f}")
    if conflicts:
        print(f"claims: {len(conflicts)} RK306 finding: {str(conflicts[0]['message'])[:160]}")
    if t_target > 1 or m_target > 1:
        print("target missed")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
