"""hR (session 68 review): a count beyond a user's system inside one rail unit is refused, as before hN68.

hN68 let a rail unit's partial count pass the system's total (a user's file of 17 DGX is built on the leaves of the
fabric the catalog's SuperPOD builds at 136 GPUs, widened to them), and with it dropped the check that refused more
GPUs than the file holds: `network dgx17.yaml --gpus 144` built a 144-GPU fabric where the session's base said
"144 GPUs requested but dgx17 has 136" (exit 2).
"""

from __future__ import annotations

import json

import pytest
import yaml

from infraplan.catalog import load_system
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.network.costs import describe_fabric
from infraplan.network.rail_leaves import partial_unit_gpus

H100 = load_system("dgx-h100-superpod")
DGX17 = H100.model_copy(update={"name": "dgx17", "total_accelerators": 136})


def test_more_gpus_than_the_file_holds_is_refused(tmp_path, capsys) -> None:
    path = tmp_path / "dgx17.yaml"
    path.write_text(yaml.safe_dump({**json.loads(DGX17.model_dump_json())}))
    assert main(["network", str(path), "--gpus", "144"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["infraplan: error: 144 GPUs requested but dgx17 has 136"]
    assert main(["network", str(path), "--gpus", "136", "--json"]) == 0  # its own count: the unit's leaves
    assert json.loads(capsys.readouterr().out)["switches_total"] == 12


def test_the_rule_leaves_a_count_beyond_the_system_to_the_builder() -> None:
    assert partial_unit_gpus(DGX17, 144) == 144  # not widened to a unit's part
    assert partial_unit_gpus(DGX17, 136) > 136  # its own count is (the leaves it needs, each whole)
    with pytest.raises(InputError, match="144 GPUs requested but dgx17 has 136"):
        describe_fabric(DGX17, 144)
