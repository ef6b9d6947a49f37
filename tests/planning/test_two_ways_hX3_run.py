"""The same question asked two ways (hX3, session 39): `train --tokens` against the step it prices and against
`facility` for the same accelerators.

* the run is whole steps of the estimate: compute time = tokens / (global batch x sequence) x step time, wall clock
  = compute / goodput, GPU-hours = GPUs x wall clock, cost = GPU-hours x $/GPU-h, energy = GPU-hours x facility
  watts per GPU x the load factor (hC57), CO2 = energy x the grid's intensity;
* its $/GPU-h and facility watts per GPU are `facility`'s for the same cluster: a catalog system (`facility --system`)
  and an accelerator preset within one zone (`facility --accelerator A --count N`);
* beyond one zone (2,048 NIC links) they differ on purpose: `train` pays for the one non-blocking Clos of the
  generic cluster its step time is priced on, `facility --accelerator --count` (and `campus`, `plan`) builds zones
  joined at 1:7 (facility/campus_fabric.py): 4,096 H100 $1.295 against $1.239 per GPU-hour, 4,608 GB200 $1.543
  against $1.440. The run said nothing; its notes now give both figures.
"""

from __future__ import annotations

import re

import pytest
from tests.cli.conftest import cli_json

TOKENS = 3.3e11



RUNS = {  # (train line, run options, the facility line for the same accelerators)
    "catalog-system": ("train llama3-405b --system meta-genai-roce-24k --gpus 16384 --tp 8 --pp 16 --vpp 7 "
                       "--seq-len 8192 --global-batch 2048 --zero 3 --stack meta-llama3", "",
                       "facility --system meta-genai-roce-24k"),
    "part-of-a-system": ("train llama3-70b --system dgx-h100-superpod --gpus 1024 --tp 8 --pp 4 --seq-len 8192 "
                         "--global-batch 1024", "", "facility --system dgx-h100-superpod"),
    "one-zone": ("train llama3-70b --system h100-sxm --gpus 2048 --tp 8 --pp 4 --seq-len 8192 --global-batch 1024", "",
                 "facility --accelerator h100-sxm --count 2048"),
    "nvl72": ("train llama3-70b --system gb200-nvl72-superpod --gpus 576 --tp 8 --pp 4 --seq-len 8192 "
              "--global-batch 288", "--location ohio", "facility --system gb200-nvl72-superpod --location ohio"),
}


@pytest.mark.parametrize("case", sorted(RUNS))
def test_the_run_is_whole_steps_of_its_estimate_at_facilitys_price(case: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    train_line, options, facility_line = RUNS[case]
    run = cli_json(capsys, f"{train_line} --tokens {TOKENS:g} {options}")
    step = cli_json(capsys, train_line)
    assert run["step_time_s"] == step["step_time_s"] and run["config"] == step["config"]
    steps = TOKENS / (step["config"]["global_batch"] * step["config"]["seq_len"])
    assert run["compute_time_s"] == pytest.approx(steps * step["step_time_s"], rel=1e-12)
    # the wall clock's goodput: the goodput itself where spares always suffice, else with the repairs counted (hR74:
    # 576 GPUs fill gb200-nvl72-superpod, no spare domain; facility/spare_policy.py, the default shrink)
    assert run["time_to_train_s"] == pytest.approx(run["compute_time_s"] / run["goodput_with_repairs"], rel=1e-12)
    assert (run["goodput_with_repairs"] < run["goodput"]) == (case == "nvl72")
    gpus = step["config"]["gpus"]
    assert run["gpu_hours"] == pytest.approx(gpus * run["time_to_train_s"] / 3600.0, rel=1e-12)
    assert run["cost_usd"] == pytest.approx(run["gpu_hours"] * run["usd_per_gpu_hour"], rel=1e-12)
    # at the average draw, peak x the load factor `facility` counts its energy at (hC57: the peak before)
    assert run["energy_mwh"] == pytest.approx(run["gpu_hours"] * run["facility_power_w_per_gpu"] * run["load_factor"]
                                              / 1e6, rel=1e-12)
    assert run["co2_t"] == pytest.approx(run["energy_mwh"] * run["grid_gco2_per_kwh"] / 1e3, rel=1e-12)
    facility = cli_json(capsys, facility_line)
    assert run["usd_per_gpu_hour"] == pytest.approx(facility["usd_per_gpu_hour"], rel=1e-12)
    per_gpu = facility["facility_power_w"] / facility["accelerators"]
    assert run["facility_power_w_per_gpu"] == pytest.approx(per_gpu, rel=1e-12)
    assert run["pue"] == facility["pue"]
    assert not any("non-blocking Clos" in n for n in run["notes"])  # one fabric: nothing to explain


# hN65: gb200's generic fabric takes gb200-nvl72's Quantum-X800 radix 144 (was 72): 4,608 GPUs are a two-tier Clos
# (k^2/2 = 10,368), cheaper than `facility`'s 1:7 zones of the default radix ($1.425 vs $1.449/GPU-h); past the
# two-tier limit, 13,824 GPUs, the zones charge less ($1.447 vs $1.549)
@pytest.mark.parametrize(("accelerator", "gpus", "batch"), [("h100-sxm", 4096, 1024), ("gb200", 13824, 3456)])
def test_beyond_one_zone_the_run_says_why_facility_charges_less(accelerator: str, gpus: int, batch: int,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run = cli_json(capsys, f"train llama3-70b --system {accelerator} --gpus {gpus} --tp 8 --pp 4 --seq-len 8192 "
                        f"--global-batch {batch} --tokens {TOKENS:g}")
    facility = cli_json(capsys, f"facility --accelerator {accelerator} --count {gpus}")
    assert facility["usd_per_gpu_hour"] < run["usd_per_gpu_hour"] * 0.97  # zones at 1:7: fewer switches and optics
    (note,) = [n for n in run["notes"] if "non-blocking Clos" in n]
    prices = [float(p.replace(",", "")) for p in re.findall(r"\$([\d,.]+)/GPU-h", note)]
    watts = [float(w.replace(",", "")) for w in re.findall(r"([\d,]+) W per GPU", note)]
    assert prices == pytest.approx([run["usd_per_gpu_hour"], facility["usd_per_gpu_hour"]], abs=5e-4)
    per_gpu = facility["facility_power_w"] / facility["accelerators"]
    assert watts == pytest.approx([run["facility_power_w_per_gpu"], per_gpu], abs=0.5)
    assert f"--accelerator {accelerator} --count {gpus}" in note and facility["network"]["model"] in note


def test_an_unpriced_part_beyond_one_zone_names_the_fabrics_without_a_price(capsys: pytest.CaptureFixture[str]) -> None:
    run = cli_json(capsys, "train llama3-70b --system mi355x --gpus 4096 --tp 8 --pp 4 --seq-len 8192 "
                        "--global-batch 1024 --tokens 3.3e11")
    assert run["cost_usd"] is None
    (note,) = [n for n in run["notes"] if "non-blocking Clos" in n]
    assert "$" not in note and note.count(" W per GPU") == 2
