"""A recsys profile's host tier states its capacity: the catalog has no host DRAM size to fill it from.

hH66's walk: a part file (`extends: a100-80gb`, 40 GB) whose `recsys_profile` lists a host tier without
`capacity_bytes` answered dlrm-high with "does not fit a100-mine: ... the usable capacities are HBM3 36 GB": the host
tier, its efficiencies and usable share were dropped without a word (`recsys.embedding.resolve_tiers`: capacity 0).
With the capacity, the tables spill to it and the model runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.cli import main

HOST = "{name: host, label: host DRAM (PCIe), usable_fraction: 0.5, random_access_efficiency: 0.50%s}"


def _part(tmp_path: Path, host_extra: str) -> str:
    profile = tmp_path / "profile.yaml"
    profile.write_text("accelerator: mine\nsource: a test\ntiers:\n"
                       "  - {name: device, label: HBM3, usable_fraction: 0.90, random_access_efficiency: 0.40}\n"
                       f"  - {HOST % host_extra}\n")
    part = tmp_path / "part.yaml"
    part.write_text(f"extends: a100-80gb\nname: a100-mine\nmemory_bytes: 40GB\nrecsys_profile: {profile}\n")
    return str(part)


def test_a_host_tier_without_capacity_is_one_line_and_exit_2(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["recsys", "dlrm-high", "--accelerator", _part(tmp_path, "")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "a host tier needs capacity_bytes" in err and "does not fit" not in err


def test_with_its_capacity_the_tables_spill_to_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recsys", "dlrm-high", "--accelerator", _part(tmp_path, ", capacity_bytes: 256GB"), "--json"]) == 0
    placement = json.loads(capsys.readouterr().out)["placement"]
    assert placement["host"]["used_bytes"] > 0 and placement["host"]["capacity_bytes"] == 128e9  # 256 GB x 0.5
