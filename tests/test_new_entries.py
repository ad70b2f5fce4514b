"""A new activation and optimizer are their registry entries and nothing else: with a
throwaway of each added (tests/throwaway_entries.py), the compiled loop agrees with NumPy for
them, the schemas (races included) take them and the page's menus offer them."""

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from engine import compiled
from engine.activations import ACTIVATIONS
from engine.errors import EngineError
from engine.optimizers import OPTIMIZERS
from tests.throwaway_entries import NAMES, SOFTSIGN, registered

ROOT = Path(__file__).resolve().parents[1]
# The registry checks, run again in a fresh interpreter that adds the throwaways before
# anything imports the registries (the schemas are made from them at import). Sessions and
# /api/step run in worker processes started from a fork server, which imports the app afresh
# without them: those checks stay with the real entries.
RUN_WITH_THROWAWAYS = ("import sys, pytest; from tests.throwaway_entries import registered; "
                       "added = registered(); added.__enter__(); "   # kept: its exit removes them
                       "sys.exit(pytest.main(sys.argv[1:]))")
CHECKS = ["tests/engine/test_compiled.py", "tests/app/schemas/test_registries.py"]
SELECTED = "(softsign or nesterov or test_registries) and not api_step and not data_set"


@pytest.fixture(scope="module")
def run():
    """pytest -v over CHECKS with the throwaways added: {test id: outcome}."""
    result = subprocess.run(
        [sys.executable, "-c", RUN_WITH_THROWAWAYS, "-v", "-p", "no:cacheprovider", "-k",
         SELECTED, *CHECKS], cwd=ROOT, capture_output=True, text=True, timeout=290)
    outcomes = dict(re.findall(r"^(tests/\S+) (PASSED|FAILED|ERROR|SKIPPED)", result.stdout, re.M))
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    return outcomes


def ran(outcomes, pattern):
    return [test for test, outcome in outcomes.items() if re.search(pattern, test)
            and outcome == "PASSED"]


def test_the_compiled_loop_agrees_with_numpy_for_them_in_every_combination(run):
    cases = ran(run, r"test_compiled_loop_matches_train_step_for_100_steps\[")
    # 6 hidden activations (softsign among them) × 8 output pairings (softsign with mse
    # among them) × 4 optimizers × 3 regularizations × 2 bias settings
    combinations = 6 * 8 * 4 * 3 * 2
    assert len([c for c in cases if "softsign" in c]) == combinations * (1 / 6 + 5 / 6 / 8)
    assert len([c for c in cases if "nesterov" in c]) == combinations / 4
    assert ran(run, r"diverges_at_the_same_step_and_keeps_theta\[nesterov\]")


def test_the_schemas_and_the_menus_take_them_races_included(run):
    for name in NAMES:
        assert ran(run, rf"test_a_race_can_vary_each_optimizer_and_hidden_activation\[\w+-{name}")
    assert ran(run, r"test_each_optimizer_has_a_model_with_its_hypers_and_a_state_with_its_"
               r"slots\[nesterov\]")
    assert ran(run, r"test_each_optimizer_hyper_has_a_control_shown_for_it\[nesterov\]")
    for check in ("test_every_name_registry_is_a_schema_literal",
                  "test_every_menu_on_the_page_lists_its_registry"):
        assert ran(run, check)


def test_the_kernel_is_built_for_the_registries_as_they_are():
    before = compiled.kernel_module()
    with registered():
        module = compiled.kernel_module()
        source = Path(module.__file__).read_text()
        assert "ACTIVATIONS['softsign'].g_at" in source and "OPTIMIZERS['nesterov']" in source
    assert module is not before and module.__name__ != before.__name__
    assert "softsign" not in ACTIVATIONS and "nesterov" not in OPTIMIZERS
    assert compiled.kernel_module() is before


def test_an_entry_without_its_scalar_form_is_refused_by_name(monkeypatch):
    monkeypatch.setitem(ACTIVATIONS, "softsign", replace(SOFTSIGN, dg_at=None))
    with pytest.raises(EngineError, match="softsign"):
        compiled.kernel_module()
