"""An accelerator file whose `matmul_max_fraction` is empty has no GEMM rate for any dtype: refused on reading, one line
and exit 2 at the command line (hM24 found `train` on such a part ending in a traceback from `min()` of nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.cli import main

H200 = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "accelerators" / "h200.yaml"


def test_the_schema_refuses_an_empty_fraction_table() -> None:
    data = {"name": "h200", **safe_load_yaml(H200.read_text())}  # the loader names a part after its file (and reads
    # YAML 1.2 numbers: `3.9e12` is text to plain `yaml.safe_load`, refused in a number field since hF65)
    Accelerator.model_validate(data)  # the shipped file reads
    data["efficiency"]["matmul_max_fraction"] = {}
    with pytest.raises(ValidationError, match="matmul_max_fraction"):
        Accelerator.model_validate(data)


def test_train_on_such_a_part_says_one_line_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = safe_load_yaml(H200.read_text())
    data["efficiency"]["matmul_max_fraction"] = {}
    (tmp_path / "xpu-e.yaml").write_text(yaml.safe_dump(data))
    rack = {"accelerator": "xpu-e.yaml", "display_name": "XPU racks", "source": "test rack", "total_accelerators": 256,
            "node": {"accelerators_per_node": 4, "host_power_w": "1200W", "nic_bandwidth_bytes_per_s": "800Gbps",
                     "nics_per_node": 4, "scale_up_domain": 64},
            "network": {"collective_efficiency": 0.9, "kind": "roce",
                        "tiers": [{"group_size": 64, "name": "rack", "switch_radix": 64},
                                  {"group_size": 256, "name": "cluster", "switch_radix": 64}]}}
    (tmp_path / "rack-e.yaml").write_text(yaml.safe_dump(rack))
    code = main(["train", "llama3-8b", "--system", str(tmp_path / "rack-e.yaml"), "--gpus", "64", "--tp", "1",
                 "--pp", "1", "--seq-len", "4096", "--global-batch", "64"])
    err = capsys.readouterr().err
    assert code == 2
    assert "matmul_max_fraction" in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1
