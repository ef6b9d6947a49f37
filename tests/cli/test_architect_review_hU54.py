"""hU54 (session 44): a hardware architect's review (MTIA vs GPU per watt, custom parts, MSVP). Each test failed
before its fix.

1. An accelerator file written from scratch (no `extends`) was refused by `reliability --system FILE`, `train
   --tokens` and a `plan` training service on it: "unknown accelerator 'acme'" (facility/reliability.py looked the
   part up by its `catalog_name`, which names no preset for such a file; campus alone passed the file).
2. A `plan` pool's `device: part.yaml` was read from the working directory, not beside the spec ("no such file"
   from any other folder), where fleet-mix reads it beside the spec (hU50).
3. A video device file's `host_power_w` without `host_source` was accepted (an accelerator file's is refused), and
   one without `host` printed the basis "module 15 W + host share 40 W, " (a dangling comma).
4. MTIA 450's figures note said its peaks were "the B200's FLOP per HBM byte times this chip's bandwidth"; they are
   MTIA 400's (2,690 TF bf16 on 18.4 TB/s is half that ratio), only MX4 +75 %.
5. A fleet-mix or plan pool of a system preset (`device: mtia-400-rack`) could not serve a recsys service: "unknown
   accelerator 'mtia-400-rack'" (planning/pool_capacity.py gave the system's name to recsys as an accelerator), so
   the MILP left the MTIA racks out and bought GPUs for ranking.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import CliRun, cli_json

from infraplan.catalog import load_accelerator
from infraplan.catalog.reliability_loader import load_reliability

ASIC: dict[str, object] = {
    "display_name": "a custom ASIC", "vendor": "Acme", "kind": "asic", "source": "test: ASSUMPTION",
    "peak_flops_per_s": {"bf16": 1500e12, "fp8": 3000e12}, "memory_bytes": "192GB",
    "memory_bandwidth_bytes_per_s": "6TB/s", "memory_type": "HBM3e", "tdp_w": "900W",
    "scale_up_bandwidth_bytes_per_s": "800GB/s", "scale_out_bandwidth_bytes_per_s": "800Gbps",
    "host_link_bandwidth_bytes_per_s": "64GB/s", "host_power_w": "300W", "host_source": "test: ASSUMPTION",
    "efficiency": {"matmul_max_fraction": {"bf16": 0.7, "fp8": 0.65}, "attention_max_fraction": 0.5,
                   "memory_bandwidth_fraction": 0.85, "compute_units": 128, "kernel_overhead_s": 4e-6,
                   "scale_up_collective_efficiency": 0.8, "source": "test: ASSUMPTION"},
}
TRAIN = "train llama3-8b --gpus 16 --tp 1 --pp 1 --seq-len 2048 --global-batch 32 --stack nemo-26.04 --system"


def _asic(folder: Path, name: str = "acme") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(ASIC))
    return path


# 1.
def test_a_part_written_from_scratch_has_the_default_failure_rate_in_reliability_and_train_tokens(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    part = str(_asic(tmp_path))
    default = load_reliability().default_failure_rate["*"]  # a part no table row names: the default's rate
    own = cli_json(capsys, f"reliability --system {part} --gpus 16 --model llama3-8b")
    named = cli_json(capsys, f"reliability --system h100-sxm --gpus 16 --model llama3-8b --failure-rate {default}")
    assert own["failure_rate"] == default
    assert own["job_mttf_s"] == pytest.approx(named["job_mttf_s"]) and own["goodput"] == pytest.approx(named["goodput"])
    run = cli_json(capsys, f"{TRAIN} {part} --tokens 10B")
    assert run["goodput"] == pytest.approx(own["goodput"])  # the same job's reliability, two ways


def _plan(folder: Path, service: dict[str, object]) -> Path:
    spec = {"name": "hU54", "policy": {"objective": "power"}, "phases": [{"name": "2027", "year": 2027}],
            "services": [service], "pools": [{"name": "acme", "device": "acme.yaml", "site": "s"}],
            "sites": [{"name": "s", "power": "50MW", "location": "ohio"}]}
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


# 1. and 2.
def test_a_plan_reads_its_pool_file_beside_the_spec_and_trains_on_a_part_written_from_scratch(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    _asic(folder)
    spec = _plan(folder, {"name": "pretrain", "kind": "training", "model": "llama3-8b", "tokens": "10B", "gpus": 8,
                          "seq_len": 2048, "global_batch": 32})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # not the spec's folder: the pool's file is read beside the spec
    plan = cli_json(capsys, ["plan", str(spec)])
    assert plan["devices"] == 8  # the service's fixed job size, whole 8-device servers
    monkeypatch.chdir(folder)  # from the spec's own folder: the same answer
    assert cli_json(capsys, ["plan", "spec.yaml"])["devices"] == plan["devices"]


# 3.
def _video_file(folder: Path, **changes: object) -> str:
    data = {"name": "vpu", "display_name": "a video ASIC", "kind": "video-asic", "source": "test: ASSUMPTION",
            "power_w": "15W", "host_power_w": "40W", "host_source": "test: ASSUMPTION", "codecs": ["h264"],
            "reference_input_height": 2160, "reference_outputs": 5, "reference_fps": {"high": 30},
            "decode_pixels_per_s": 995328000} | changes
    path = folder / "vpu.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in data.items() if v is not None}))
    return str(path)


def test_a_video_host_share_needs_its_source_and_its_basis_ends_cleanly(
        tmp_path: Path, cli: CliRun, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(["video", "--device", _video_file(tmp_path, host_source=None)])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "host_power_w needs host_source" in err
    r = cli_json(capsys, ["video", "--device", _video_file(tmp_path)])
    assert r["basis"] == "module 15 W + host share 40 W"
    assert r["platform_power_w"] == pytest.approx(15.0 + 40.0)


# 4.
B200_SOURCE = "B200's FLOP per HBM byte times this chip's bandwidth"


@pytest.mark.parametrize("name", ["mtia-300", "mtia-400", "mtia-450"])
def test_a_note_that_derives_the_peak_from_the_b200_ratio_holds_for_the_part(name: str) -> None:
    b200, part = load_accelerator("b200"), load_accelerator(name)
    ratio = b200.peak("bf16") / b200.memory_bandwidth_bytes_per_s  # 2,250 TF / 7.7 TB/s = 292 FLOP per byte
    if B200_SOURCE in part.figures_note:
        assert part.peak("bf16") / part.memory_bandwidth_bytes_per_s == pytest.approx(ratio, rel=0.01)
    else:  # MTIA 450: MTIA 400's bf16 (2x the bandwidth, the same FLOPs), and its note says whose
        assert part.peak("bf16") == load_accelerator("mtia-400").peak("bf16") and "MTIA 400's" in part.figures_note


# 5.
def test_a_recsys_service_runs_on_a_pool_of_a_system_preset_as_on_its_accelerator(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = {"name": "hU54", "objective": "power",
            "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-high", "qps": "4M", "latency_slo": "20ms"}],
            "pools": [{"name": "rack", "device": "mtia-400-rack", "price_usd_per_device": 30000}]}
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(spec))
    fleet = cli_json(capsys, ["fleet-mix", str(path)])
    one = cli_json(capsys, "recsys dlrm-high --accelerator mtia-400 --latency-slo 20ms")  # the rack's accelerator
    [row] = fleet["assignment"]
    assert fleet["excluded"] == [] and row["pool"] == "rack"
    assert row["capacity_per_device"] == pytest.approx(one["qps"])
    assert row["devices"] == math.ceil(4e6 / one["qps"])
