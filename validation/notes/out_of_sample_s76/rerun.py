"""Run an earlier out-of-sample script at HEAD, unedited from its own folder (hO, session 76).

Three stopped running on moved modules only: `infraplan.validation.serving_roofline` was merged into
`validation.serving_row_rules` (hR62, 57612299: out_of_sample_s53/serving_oos.py, out_of_sample_s56/serving_oos2.py)
and `BUS_FACTORS` moved from `network.collective_schedules` to `network.collective_algorithms` (hD61, 6ce5031d:
out_of_sample_s55/oos_collectives.py and band_coverage.py, which imports it). `load` aliases both, then imports the
script from its folder. One row more: Kimi K2's EP 96 `-deepep` twin of serving_oos.py (its stack file,
examples/stacks/sglang-deepep-tbo.yaml, holds 32 redundant experts; 384 + 32 = 416 physical experts do not divide
over EP 96, which `serve` refuses since hW70, 395a5aeb: sglang 0.5.9 srt/eplb/expert_location.py:204) runs on
sglang-deepep-tbo-r96.yaml beside this file (96: the fewest whole slots; ASSUMPTION, the LMSYS post's count is not
recalled).
Run from the repository root:
    PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s76/rerun.py SCRIPT [its arguments]
SCRIPT: serving_oos (~12 s), serving_oos2 (~12 s), oos_collectives (~1 s), band_coverage (~15 s)."""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

NOTES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FOLDERS = {"serving_oos": "s53", "serving_oos2": "s56", "oos_collectives": "s55", "band_coverage": "s55"}
TBO_R96 = "validation/notes/out_of_sample_s76/sglang-deepep-tbo-r96.yaml"


def load(script: str) -> ModuleType:
    """The script's module, imported from its own folder once the moved names are put back."""
    from infraplan.network import collective_algorithms, collective_schedules
    from infraplan.validation import serving_row_rules

    sys.modules.setdefault("infraplan.validation.serving_roofline", serving_row_rules)
    if not hasattr(collective_schedules, "BUS_FACTORS"):
        collective_schedules.BUS_FACTORS = collective_algorithms.BUS_FACTORS  # type: ignore[attr-defined]
    sys.path.insert(0, os.path.join(NOTES, f"out_of_sample_{FOLDERS[script]}"))
    module = importlib.import_module(script)
    for case in getattr(importlib.import_module("serving_oos"), "WIDE_EP", []) if "serving" in script else []:
        if case["model"] == "kimi-k2" and case["id"].endswith("-deepep"):
            case["stack"] = TBO_R96
    return module


if __name__ == "__main__":
    name, args = sys.argv[1], sys.argv[2:]
    sys.argv = [sys.argv[0], *args]  # oos_collectives reads its options from sys.argv
    mod = load(name)
    mod.main(args) if name.startswith("serving") else mod.main()
