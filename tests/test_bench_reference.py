"""The benchmark's time budget for reference steps: a step over budget is stopped, whatever it catches."""

from __future__ import annotations

import sys
import time

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def reference():
    sys.path.insert(0, str(ROOT / "bench"))
    import reference

    return reference


def _swallowing_loop(seconds: float) -> None:
    """Busy for `seconds`, dropping every Exception, as a library's broad `except` would."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            while time.monotonic() < end:
                pass
        except Exception:
            pass


def test_a_step_over_budget_is_stopped_even_if_it_catches_exceptions(reference):
    with pytest.raises(reference.OverBudget), reference.budget(0.2):
        _swallowing_loop(10)


def test_a_step_within_budget_runs_to_its_end_and_leaves_no_alarm(reference):
    with reference.budget(5):
        _swallowing_loop(0.01)
    _swallowing_loop(0.3)  # an alarm left armed would raise here


def test_no_budget_means_no_limit(reference):
    with reference.budget(None):
        _swallowing_loop(0.01)
