"""`infraplan.cli.main.main` called from a program (a notebook, a test) hands back what it changes for the command:
the collector's thresholds (hP1) and the warning hook, also when the command fails (hQ2, session 36)."""

from __future__ import annotations

import gc
import warnings
from typing import Any

import pytest

from infraplan.cli import main


def _own_hook(*args: Any, **kwargs: Any) -> None:
    """A caller's own `warnings.showwarning`."""


@pytest.mark.parametrize("argv", [["--version"], ["collective", "all-reduce", "--system", "nope", "--gpus", "2",
                                                  "--bytes", "1MiB"]])
def test_the_callers_warning_hook_and_thresholds_come_back(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warnings, "showwarning", _own_hook)
    thresholds = gc.get_threshold()
    main(argv)
    main(argv)  # twice: the second call finds the first's state gone
    assert warnings.showwarning is _own_hook
    assert gc.get_threshold() == thresholds
