"""Under CI=true a skip fails unless its reason is allowed (tests/conftest.py), so nothing that
can run in CI is silently left out; ../shared readers must carry the ``shared`` marker."""

import os
import subprocess
import sys

from tests.conftest import REPO

SUITE = '''
import pytest
from tests.conftest import need_shared

def test_skips_for_a_missing_tool():
    pytest.skip("needs some tool")

def test_skips_for_want_of_a_gpu():
    pytest.skip("needs a GPU (CUDA)")

def test_reads_shared_without_the_marker():
    need_shared("data")
'''


def _run(tmp_path, ci: str) -> str:
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_runtest_makereport, pytest_runtest_setup\n")
    (tmp_path / "test_suite.py").write_text(SUITE)
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    return done.stdout


def test_under_ci_a_skip_fails_unless_its_reason_is_allowed(tmp_path):
    out = _run(tmp_path, "true")
    assert "2 failed, 1 skipped" in out, out
    assert "skipped under CI=true, where it must run: Skipped: needs some tool" in out
    assert "lacks @pytest.mark.shared" in out


def test_outside_ci_skips_stay_skips(tmp_path):
    assert "1 failed, 2 skipped" in _run(tmp_path, ""), "only the unmarked ../shared reader fails"
