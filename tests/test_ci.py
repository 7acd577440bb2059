"""CI's own checks: .ci/check_junit.py over real pytest JUnit reports (with the markers that
tests/conftest.py records), and the Makefile's refusal to let the browser/font tests skip quietly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKER = ROOT / ".ci" / "check_junit.py"

CONFTEST = "from tests.conftest import pytest_collection_modifyitems  # noqa: F401  (the hook under test)\n"
PYTEST_INI = """[pytest]
markers =
    llm: uses the real local LLM
    browser: drives a real Chromium
    server: needs a Chroma server
"""
TESTS = '''
import os
import pytest

@pytest.mark.llm
def test_model_answers():
    pass

@pytest.mark.browser
def test_page():
    if os.environ.get("FAKE_NO_CHROMIUM"):
        pytest.skip("no `chromium` on PATH")

@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def store(request):
    return request.param

def test_store(store):
    pass
'''
DOCUMENTS = '''
import os
import pytest

@pytest.mark.skipif(bool(os.environ.get("FAKE_NO_FONT")), reason="no CJK font installed")
def test_pdf_with_chinese_text():
    pass
'''


def run_checked(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a tiny real test suite under pytest with --junitxml, then the CI checker on its report."""
    suite = tmp_path / "suite"
    (suite / "tests").mkdir(parents=True)
    (suite / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
    (suite / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (suite / "tests" / "test_things.py").write_text(TESTS, encoding="utf-8")
    (suite / "tests" / "test_documents.py").write_text(DOCUMENTS, encoding="utf-8")
    report = tmp_path / "junit.xml"
    full_env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    full_env.update(env, PYTHONPATH=str(ROOT))
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", "tests"],
        capture_output=True, text=True, cwd=suite, env=full_env, timeout=300,
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    return subprocess.run([sys.executable, str(CHECKER), str(report)], capture_output=True, text=True,
                          env=full_env, timeout=60)  # fmt: skip


def test_checker_passes_when_the_marked_tests_ran(tmp_path: Path) -> None:
    out = run_checked(tmp_path)
    assert out.returncode == 0, out.stderr
    assert "5 tests ran (1 llm, 1 browser, 1 server), 0 skipped" in out.stdout


def test_checker_fails_when_the_browser_test_skipped(tmp_path: Path) -> None:
    # The old .ci/run accepted this run: tests ran and one "[server]" test ran.
    out = run_checked(tmp_path, FAKE_NO_CHROMIUM="1")
    assert out.returncode == 1
    assert "CI check failed: `browser` test test_things::test_page skipped: no `chromium` on PATH" in out.stderr


def test_checker_fails_when_addopts_deselect_the_llm_tests(tmp_path: Path) -> None:
    out = run_checked(tmp_path, PYTEST_ADDOPTS='-m "not llm"')
    assert out.returncode == 1
    assert "no test marked `llm` is in the report" in out.stderr and "PYTEST_ADDOPTS" in out.stderr


def test_checker_fails_when_the_chinese_pdf_test_skipped(tmp_path: Path) -> None:
    out = run_checked(tmp_path, FAKE_NO_FONT="1")
    assert out.returncode == 1
    assert "test_documents::test_pdf_with_chinese_text must run in CI and pass but skipped" in out.stderr


def test_checker_fails_without_a_report(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(CHECKER), str(tmp_path / "missing.xml")], capture_output=True, text=True)
    assert out.returncode == 1 and "no JUnit report" in out.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_stops_when_chromium_is_missing_and_it_cannot_install(tmp_path: Path) -> None:
    """Not root and no chromium: `make test`'s system-deps step fails loudly; under CI=true even with SYSTEM_DEPS=skip."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "id").write_text("#!/bin/sh\necho 1000\n", encoding="utf-8")  # not root
    (fake_bin / "id").chmod(0o755)
    make = [shutil.which("make") or "make", "-s", "-C", str(ROOT), "system-deps"]
    env = {"PATH": str(fake_bin), "HOME": str(tmp_path)}  # no chromium on this PATH

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*make, *args], capture_output=True, text=True, env={**env, **extra}, timeout=60)

    out = run()
    assert out.returncode != 0 and "ERROR: missing Debian packages" in out.stderr and "chromium" in out.stderr
    out = run("SYSTEM_DEPS=skip", CI="true")
    assert out.returncode != 0 and "ERROR: missing Debian packages" in out.stderr
    out = run("SYSTEM_DEPS=skip")
    assert out.returncode == 0 and "WARNING: missing" in out.stderr and "will skip" in out.stderr
