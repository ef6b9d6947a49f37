"""hU (session 53): three users' walks (a hardware architect, an infrastructure planner, an ML-systems engineer).

Each test failed before its fix (checked against the tree at c56ab54):
- a liquid-cooled 4U HGX server could not be stated (hF52's F7): a system file's `node.server_rack_units` now sets
  the server height `rack_fit` packs by (before: "not understood", exit 2);
- `campus` built the whole budget at peak IT draw x PUE without saying so (hF52's F8): it now says what it builds and
  keeps, and `--reserve` keeps a share unbuilt;
- serve / serve-plan wrote "1432 W" where every other watt figure is separated ("1,200 W");
- recsys priced a non-CPU part with no host link figure (a user's file, tpu-v5p) at 0 ns of host link, silently;
- search's "no valid plan for 1152 GPUs with global batch 15360" said neither why nor which batch has plans;
- recsys's --batch refusal wrote "(2.46e+03 GB)".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.cli.conftest import CliRun, cli_json, write_what_if_part

from infraplan.training.search import no_valid_plan_reason, search_plans

FOUR_U = """extends: dgx-h100-superpod
display_name: HGX H100 in 4U liquid-cooled servers (what-if)
node:
  server_rack_units: 4
  server_rack_units_source: "Supermicro 4U liquid-cooled HGX H100 (STH Colossus tour 2024; recalled)"
"""


def test_a_system_file_states_its_server_height(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """F7: 4U servers of 10.2 kW in a 140 kW liquid rack: 13 by power, 42 // 4 = 10 by space, 80 GPUs a rack
    (the catalog's 8U DGX H100: 5 servers, 40 GPUs)."""
    path = tmp_path / "hgx-h100-4u.yaml"
    path.write_text(FOUR_U)
    fit = cli_json(capsys, ["facility", "--system", str(path), "--cooling", "liquid"])["rack_fit"]
    assert (fit["server_height_u"], fit["servers_per_rack_by_space"], fit["servers_per_rack"]) == (4, 10, 10)
    assert fit["limited_by"] == "space" and fit["servers_per_rack_by_power"] == 13
    preset = cli_json(capsys, ["facility", "--system", "dgx-h100-superpod", "--cooling", "liquid"])["rack_fit"]
    assert (preset["server_height_u"], preset["servers_per_rack"]) == (8, 5)


def test_a_server_height_needs_its_source(tmp_path: Path, cli: CliRun) -> None:
    path = tmp_path / "nosource.yaml"
    path.write_text(FOUR_U.replace('  server_rack_units_source: "Supermicro', '  # "Supermicro'))
    code, out, err = cli(["facility", "--system", str(path)])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "server_rack_units_source" in err


def test_campus_says_what_it_builds_and_keeps_a_reserve(capsys: pytest.CaptureFixture[str], cli: CliRun) -> None:
    """F8: 1.2 GW of GB200 with 30 % kept unbuilt holds ~0.7x the GPUs; the answer names the reserve."""
    whole = cli_json(capsys, "campus --power 1.2GW --accelerator gb200")
    kept = cli_json(capsys, "campus --power 1.2GW --accelerator gb200 --reserve 0.3")
    assert whole["reserve_fraction"] == 0.0 and 0 <= whole["unbuilt_power_w"] < 0.001 * 1.2e9
    assert kept["reserve_fraction"] == 0.3 and kept["unbuilt_power_w"] >= 0.3 * 1.2e9
    assert kept["facility"]["facility_power_w"] <= 0.7 * 1.2e9
    assert kept["accelerators"] == pytest.approx(0.7 * whole["accelerators"], rel=0.01)
    assert cli_json(capsys, "campus --power 1.2GW --accelerator gb200 --reserve 0") == whole
    code, out, _ = cli(["campus", "--power", "1.2GW", "--accelerator", "gb200", "--reserve", "0.3"])
    assert code == 0 and "1.2 GW: 70.0 % built, 360 MW unbuilt" in re.sub(r"[\s│]+", " ", out)
    code, out, _ = cli(["campus", "--power", "1GW", "--accelerator", "gb300"])
    assert code == 0 and "no reserve: built whole at peak IT draw x PUE" in re.sub(r"[\s│]+", " ", out)


@pytest.mark.parametrize("value", ["1", "-0.1", "nan", "2"])
def test_a_reserve_outside_0_to_1_is_one_line(value: str, cli: CliRun) -> None:
    code, out, err = cli(["campus", "--power", "1GW", "--accelerator", "gb300", f"--reserve={value}"])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "--reserve" in err


@pytest.mark.parametrize("args", [
    ["serve", "llama3-8b", "--system", "b200", "--gpus", "1", "--concurrency", "64", "--input-len", "256",
     "--output-len", "64", "--requests", "200", "--dtype", "fp8"],
    ["serve-plan", "llama3-8b", "--system", "dgx-b200", "--rate", "20", "--input-len", "256", "--output-len", "64",
     "--ttft-slo", "2s", "--tpot-slo", "50ms", "--requests", "200"],
])
def test_power_per_accelerator_is_separated(args: list[str], cli: CliRun,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    code, out, err = cli(args)
    assert code == 0, err
    row = next(line for line in out.splitlines() if "power per accelerator" in line)
    watts = re.search(r"([\d,]+) W", row)
    assert watts is not None and int(watts.group(1).replace(",", "")) >= 1000, row
    assert "," in watts.group(1), row


def test_recsys_says_a_part_without_a_host_link_is_priced_without_one(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Said, and since hN2 (session 70) priced at the default link, not at nothing (tests/recsys/
    test_default_host_link_hN2.py)."""
    path = write_what_if_part(tmp_path)
    answer = cli_json(capsys, ["recsys", "dlrm-medium", "--accelerator", str(path)])
    assert answer["breakdown_s"]["host_link"] > 0.0
    assert "no host_link_bandwidth_bytes_per_s" in answer["assumptions"]["host_link"]
    assert "no host_link_bandwidth_bytes_per_s" in answer["figures_note"]
    cpu = cli_json(capsys, ["recsys", "dlrm-medium", "--accelerator", "xeon-8480"])
    assert cpu["assumptions"]["host_link"] == "none (the part is its own host)"
    assert "host_link_bandwidth" not in (cpu["figures_note"] or "")
    mtia = cli_json(capsys, ["recsys", "dlrm-medium", "--accelerator", "mtia-400"])
    assert "host_link_bandwidth" not in (mtia["figures_note"] or "")


def test_search_says_which_batches_have_plans() -> None:
    """DeepSeek-V3's 15,360 sequences on 1,152 GB200 (16 NVL72): every DP degree carries 1,152's factor 9."""
    result = search_plans("deepseek-v3", "gb200", 1152, 4096, 15360)
    assert result.best is None and result.reason == no_valid_plan_reason(1152, 15360)
    assert result.reason.startswith("no valid plan for 1,152 GPUs with global batch 15,360: ")
    assert "(14,976 or 16,128)" in result.reason
    assert no_valid_plan_reason(1152, 100).endswith("a multiple of 1,152 (1,152) is divisible by every one")
    assert no_valid_plan_reason(64, 128) == "no valid plan for 64 GPUs with global batch 128"
    assert search_plans("deepseek-v3", "gb200", 1152, 4096, 14976, top=1).best is not None


def test_recsys_batch_refusal_has_no_e_notation(cli: CliRun) -> None:
    code, out, err = cli(["recsys", "dlrm-medium", "--accelerator", "mtia-450", "--batch", "100000000"])
    assert code == 2 and out == "" and "(2,458 GB) exceed mtia-450's 288 GB" in err and "e+" not in err
