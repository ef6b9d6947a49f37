"""The developers' hard cap on module length: every module of the package is at most 400 lines (split it past that).

Before this guard only five training modules were held to it (tests/training/test_hot_path_hP13.py); session 44's
renames (hK45) took validation/serving_hopper.py to 401 lines and validation/inference_frontier.py to 402 unseen.
"""

from __future__ import annotations

from pathlib import Path

import infraplan

MAX_MODULE_LINES = 400  # the project guide's hard cap


def test_no_module_of_the_package_passes_400_lines() -> None:
    root = Path(infraplan.__file__).parent
    modules = sorted(root.rglob("*.py"))
    assert len(modules) > 100  # the package itself, not an empty folder
    over = {str(p.relative_to(root)): n for p in modules if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not over, f"modules over {MAX_MODULE_LINES} lines (split them): {over}"
