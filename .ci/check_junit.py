"""Check a pytest JUnit report for CI: tests ran, and the real-component tests ran and passed.

Usage: python .ci/check_junit.py REPORT.xml

`tests/conftest.py` records each test's `llm`, `browser` and `server` markers as a `markers`
property of its <testcase>. This script fails (exit 1, one message per problem) when

- the report is missing or holds no test that ran;
- no test carrying one of those markers is in the report (a `-m "not llm"` in PYTEST_ADDOPTS,
  or a marker dropped from the tests, would otherwise pass unnoticed);
- any test carrying one of them was skipped, failed or errored (a missing package or browser
  must not turn into a quiet skip);
- a test listed in MUST_RUN is missing or did not pass (the Chinese-font PDF test skips without
  a CJK font).

Every other skip is listed, not failed.
"""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

REQUIRED_MARKERS = ("llm", "browser", "server")
# Tests (substrings of "file::name") that skip when a system package is missing; CI must run them.
MUST_RUN = ("test_documents::test_pdf_with_chinese_text",)


@dataclass
class Case:
    """One <testcase>: its id, outcome and recorded markers."""

    id: str
    outcome: str  # passed | skipped | failed | error
    markers: set[str] = field(default_factory=set)
    reason: str = ""


def read_cases(path: Path) -> list[Case]:
    """The test cases of a JUnit XML report."""
    cases: list[Case] = []
    for tc in ET.parse(path).iter("testcase"):
        module = (tc.get("classname") or "").rsplit(".", 1)[-1] if tc.get("classname") else ""
        cid = f"{module}::{tc.get('name', '')}"
        outcome, reason = "passed", ""
        for kind in ("failure", "error", "skipped"):
            child = tc.find(kind)
            if child is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[kind]
                reason = child.get("message", "") or (child.text or "")
                break
        markers: set[str] = set()
        for prop in tc.iter("property"):
            if prop.get("name") == "markers" and prop.get("value"):
                markers |= set(prop.get("value", "").split(","))
        cases.append(Case(cid, outcome, markers, reason.strip()[:200]))
    return cases


def problems(cases: list[Case], addopts: str = "") -> list[str]:
    """What is wrong with a CI run of these cases; empty when it may pass."""
    found: list[str] = []
    ran = [c for c in cases if c.outcome != "skipped"]
    if not ran:
        found.append("pytest ran no tests")
    hint = f" (PYTEST_ADDOPTS={addopts!r})" if addopts.strip() else ""
    for marker in REQUIRED_MARKERS:
        marked = [c for c in cases if marker in c.markers]
        if not marked:
            found.append(f"no test marked `{marker}` is in the report: they were deselected or not collected{hint}")
        for c in marked:
            if c.outcome != "passed":
                found.append(f"`{marker}` test {c.id} {c.outcome}: {c.reason}")
    for name in MUST_RUN:
        matching = [c for c in cases if name in c.id]
        if not matching:
            found.append(f"{name} must run in CI but is not in the report{hint}")
        for c in matching:
            if c.outcome != "passed":
                found.append(f"{c.id} must run in CI and pass but {c.outcome}: {c.reason}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = Path(argv[1])
    if not path.is_file():
        print(f"CI check: no JUnit report at {path} (was --junitxml overridden?)", file=sys.stderr)
        return 1
    cases = read_cases(path)
    found = problems(cases, os.environ.get("PYTEST_ADDOPTS", ""))
    skipped = [c for c in cases if c.outcome == "skipped"]
    for c in skipped:
        print(f"skipped: {c.id}: {c.reason}")
    counts = {m: sum(m in c.markers and c.outcome == "passed" for c in cases) for m in REQUIRED_MARKERS}
    summary = ", ".join(f"{n} {m}" for m, n in counts.items())
    if found:
        for line in found:
            print(f"CI check failed: {line}", file=sys.stderr)
        return 1
    print(f"{len(cases) - len(skipped)} tests ran ({summary}), {len(skipped)} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
