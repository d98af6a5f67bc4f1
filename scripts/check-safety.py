#!/usr/bin/env python3
"""Checks that SAFETY.md's hazard log is tied to tests that ran.

Reads SAFETY.md and the logs of one run of the test command (the cargo test
output and the web tests' TAP file), then fails when:
  - a test named as evidence does not exist, was ignored or skipped, or did
    not run and pass in that run;
  - a hazard's stated rating is not what the risk matrix gives for its
    likelihood and consequence;
  - a hazard lacks one of the fields DCB0129 expects.
It also lists every hazard whose residual risk is above 2 with no further
control planned. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

LIKELIHOODS = ["Very low", "Low", "Medium", "High", "Very high"]
CONSEQUENCES = ["Minor", "Significant", "Considerable", "Major", "Catastrophic"]
# The NHS matrix, rows by likelihood (very low first), columns by consequence.
MATRIX = [
    [1, 1, 2, 2, 3],
    [1, 2, 2, 3, 4],
    [2, 2, 3, 3, 4],
    [2, 3, 3, 4, 5],
    [3, 4, 4, 5, 5],
]
FIELDS = [
    "Hazard",
    "Clinical impact",
    "Causes",
    "Existing controls",
    "Initial risk",
    "Design controls",
    "Test controls",
    "Training and business process (deploying trust)",
    "Residual risk",
    "Further controls",
    "Owner",
    "Status",
]

HAZARD = re.compile(r"^### (HAZ-\d+): (.+)$")
FIELD = re.compile(r"^- \*\*([^*]+):\*\*\s*(.*)$")
RISK = re.compile(r"^likelihood (.+?), consequence (\w+): (\d)\s*$")
EVIDENCE = re.compile(r"`((?:rust|web):[^`]+)`")


class Hazard:
    def __init__(self, ident: str, title: str, line: int):
        self.ident = ident
        self.title = title
        self.line = line
        self.fields: dict[str, str] = {}
        self.evidence: list[str] = []


def parse_safety(text: str) -> list[Hazard]:
    hazards: list[Hazard] = []
    current: Hazard | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            current = None
        m = HAZARD.match(line)
        if m:
            current = Hazard(m.group(1), m.group(2), number)
            hazards.append(current)
            continue
        if current is None:
            continue
        f = FIELD.match(line)
        if f:
            current.fields[f.group(1)] = f.group(2)
        current.evidence.extend(EVIDENCE.findall(line))
    return hazards


def rust_results(log: str) -> dict[str, str]:
    """Maps `binary::test path` to ok / ignored / FAILED from cargo test output."""
    results: dict[str, str] = {}
    binary = None
    running = re.compile(r"^\s*Running (?:unittests )?\S+ \((?:.*/)?deps/([A-Za-z0-9_]+)-[0-9a-f]+\)")
    result = re.compile(r"^test (\S+) \.\.\. (ok|ignored|FAILED)")
    for line in log.splitlines():
        m = running.match(line)
        if m:
            binary = m.group(1)
            continue
        r = result.match(line)
        if r and binary:
            results[f"{binary}::{r.group(1)}"] = r.group(2)
    return results


def web_results(tap: str) -> dict[str, str]:
    """Maps `suite > test` to ok / skipped / failed from node's TAP output."""
    results: dict[str, str] = {}
    stack: list[str] = []
    subtest = re.compile(r"^(\s*)# Subtest: (.+)$")
    outcome = re.compile(r"^(\s*)(ok|not ok) \d+ - (.+?)(\s+# (SKIP|TODO).*)?$")
    for line in tap.splitlines():
        s = subtest.match(line)
        if s:
            depth = len(s.group(1)) // 4
            del stack[depth:]
            stack.append(s.group(2))
            continue
        o = outcome.match(line)
        if o:
            depth = len(o.group(1)) // 4
            path = " > ".join(stack[:depth] + [o.group(3)])
            del stack[depth:]
            if o.group(5):
                status = "skipped"
            else:
                status = "ok" if o.group(2) == "ok" else "failed"
            results[path] = status
    return results


def rust_status(ref: str, results: dict[str, str]) -> str:
    """A Rust reference names its binary and the test's function name; the
    module path between them may change without breaking the link."""
    binary, _, name = ref.partition("::")
    found = [
        status
        for key, status in results.items()
        if key.split("::", 1)[0] == binary and key.rsplit("::", 1)[-1] == name
    ]
    if not found:
        return "did not run (no such test in this run)"
    if any(s != "ok" for s in found):
        return "was " + ", ".join(sorted(set(found)))
    return "ok"


def rating(field: str) -> tuple[int, int, str] | None:
    m = RISK.match(field)
    if not m:
        return None
    likelihood, consequence, stated = m.group(1), m.group(2), int(m.group(3))
    if likelihood not in LIKELIHOODS or consequence not in CONSEQUENCES:
        return None
    expected = MATRIX[LIKELIHOODS.index(likelihood)][CONSEQUENCES.index(consequence)]
    return stated, expected, f"{likelihood} x {consequence}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--safety", default="SAFETY.md", type=Path)
    parser.add_argument("--logs", required=True, type=Path, help="folder with rust.log and web.tap")
    args = parser.parse_args()

    hazards = parse_safety(args.safety.read_text(encoding="utf-8"))
    rust_log = args.logs / "rust.log"
    web_tap = args.logs / "web.tap"
    rust = rust_results(rust_log.read_text(encoding="utf-8", errors="replace")) if rust_log.exists() else {}
    web = web_results(web_tap.read_text(encoding="utf-8", errors="replace")) if web_tap.exists() else {}
    problems: list[str] = []
    if not rust:
        problems.append(f"no Rust test results in {rust_log}")
    if not web:
        problems.append(f"no web test results in {web_tap}")
    if not hazards:
        problems.append(f"no hazards found in {args.safety}")

    unmitigated: list[str] = []
    refs = 0
    for h in hazards:
        where = f"{args.safety}:{h.line} {h.ident}"
        for name in FIELDS:
            if name not in h.fields:
                problems.append(f"{where}: no '{name}' field")
        for name in ("Initial risk", "Residual risk"):
            if name not in h.fields:
                continue
            r = rating(h.fields[name])
            if r is None:
                problems.append(f"{where}: '{name}' must read 'likelihood L, consequence C: N' with words from the matrix")
            elif r[0] != r[1]:
                problems.append(f"{where}: {name} {r[2]} is {r[1]} on the matrix, not {r[0]}")
        if not h.evidence:
            problems.append(f"{where}: no test named as evidence")
        for ref in h.evidence:
            refs += 1
            kind, _, name = ref.partition(":")
            status = rust_status(name, rust) if kind == "rust" else web.get(name, "did not run (no such test in this run)")
            if status != "ok":
                problems.append(f"{where}: `{ref}` {status}")
        residual = rating(h.fields.get("Residual risk", ""))
        further = h.fields.get("Further controls", "").strip().lower()
        if residual and residual[0] > 2 and further in ("", "none", "none."):
            unmitigated.append(f"{h.ident} ({h.title}): residual {residual[0]}, no further control planned")

    print(f"safety: {len(hazards)} hazards, {refs} pieces of test evidence checked")
    if unmitigated:
        print("safety: hazards above 2 with no further control:")
        for line in unmitigated:
            print(f"  {line}")
    else:
        print("safety: every hazard above 2 has a further control planned")
    if problems:
        print("safety: the hazard log is not tied to the tests:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
