"""hU50 (session 43): a hardware architect's review through the CLI, with a custom ASIC file written from scratch (no
`extends`). Each test failed before its fix.

1. `tdp_w: 0` was accepted: `facility --accelerator FILE --count N` ended in a ZeroDivisionError traceback
   (cluster/power.py rack_fit) and `recsys` printed two RuntimeWarnings and a null QPS/W.
2. `idle_power_w` (or `typical_power_w`) above `tdp_w` was accepted: the draw idle + (TDP - idle) x u fell as the
   load rose (serve: 1,934 W per device at 1 client, 1,890 W at 16).
3. A video device file with `power_w: 0` ended `video` in a ZeroDivisionError traceback (the perf/W ratios).
4. A video device file without `host_power_w` was compared with a CPU socket plus its 150 W host as "like for like"
   (98.7x per platform W against msvp's 19.7x with its 40 W host).
5. `recsys` on a custom ASIC took the generic GPU-server host share (0.82 x TDP, `cluster.host_share`: "a device of
   another kind should carry its own figure") and ignored its SRAM (the default recsys profile places tables in
   device memory only), saying neither.
6. A file listing a generic `fp4` peak and neither nvfp4 nor mxfp4 was accepted, and nothing read the key: `train
   --dtype nvfp4` and `serve --dtype nvfp4` then said the part has no nvfp4 peak (refused in the file, as `extends`
   files are refused a changed `fp4` without its formats, `catalog.part_files.check_format_peaks`).
7. A video device file given where an accelerator goes (`recsys --accelerator`, `facility --accelerator`) said
   "invalid accelerator ...: vendor: Field required".
8. A system file's tier `port_bandwidth_bytes_per_s: 0` was taken as unset (the NIC's rate, network.topology), so a
   0 moved nothing (train and facility answered as without it).
9. A recsys model file with an MLP layer of width 0 (`top_mlp: [0, 1]`) was priced: a zero-FLOP layer cut the net
   (dlrm-low's 17.2 MFLOP per sample became 0.78, 34 M QPS on one H100).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import CliRun, cli_json

ASIC: dict[str, object] = {
    "display_name": "a custom ASIC", "vendor": "Acme", "kind": "asic", "source": "test: ASSUMPTION",
    "peak_flops_per_s": {"bf16": 1500e12, "fp8": 3000e12}, "memory_bytes": "192GB",
    "memory_bandwidth_bytes_per_s": "6TB/s", "memory_type": "HBM3e", "sram_bytes": "256MiB",
    "sram_bandwidth_bytes_per_s": "40TB/s", "tdp_w": "900W", "scale_up_bandwidth_bytes_per_s": "800GB/s",
    "scale_out_bandwidth_bytes_per_s": "800Gbps", "host_link_bandwidth_bytes_per_s": "64GB/s",
    "efficiency": {"matmul_max_fraction": {"bf16": 0.7, "fp8": 0.65}, "attention_max_fraction": 0.5,
                   "memory_bandwidth_fraction": 0.85, "compute_units": 128, "kernel_overhead_s": 4e-6,
                   "scale_up_collective_efficiency": 0.8, "source": "test: ASSUMPTION"},
}


def _asic(tmp_path: Path, name: str = "acme", **changes: object) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**ASIC, **changes}))
    return str(path)


def _video(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, drop: tuple[str, ...] = (),
           **changes: object) -> str:
    data = cli_json(capsys, "catalog video-devices msvp")
    data = {k: v for k, v in data.items() if k not in drop} | changes
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


# 1. and 2.
@pytest.mark.parametrize(("changes", "said"), [
    ({"tdp_w": 0}, "tdp_w must be above 0"),
    ({"idle_power_w": "1500W"}, "idle_power_w 1500 W above tdp_w 900 W"),
    ({"typical_power_w": "1000W"}, "typical_power_w 1000 W above tdp_w 900 W"),
])
@pytest.mark.parametrize("command", [["facility", "--count", "64", "--accelerator"],
                                     ["recsys", "dlrm-low", "--accelerator"]])
def test_a_power_no_device_can_draw_is_one_line_and_exit_2(tmp_path: Path, cli: CliRun, changes: dict[str, object],
                                                           said: str, command: list[str]) -> None:
    code, out, err = cli([*command, _asic(tmp_path, **changes)])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and said in err, err


def test_an_idle_power_at_tdp_is_a_device_that_draws_flat(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the bound is "at most TDP", not "below": a flat draw is a device (recsys assumes it where idle is unknown)
    r = cli_json(capsys, ["recsys", "dlrm-low", "--accelerator", _asic(tmp_path, idle_power_w="900W")])
    assert r["power_w"] == pytest.approx(900.0)


# 3.
def test_a_video_device_of_no_power_is_refused_in_one_line(tmp_path: Path, cli: CliRun,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(["video", "--device", _video(tmp_path, capsys, "cold", power_w=0)])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "power_w must be above 0" in err, err


# 4.
def test_a_video_device_without_a_host_is_not_called_like_for_like_against_a_cpu_server(
        tmp_path: Path, cli: CliRun, capsys: pytest.CaptureFixture[str]) -> None:
    bare = _video(tmp_path, capsys, "bare", drop=("host_power_w", "host", "host_source"))
    code, out, _ = cli(["video", "--device", bare])
    flat = " ".join(out.replace("│", " ").split())  # the table's wrapped cell, read as one line
    assert code == 0 and "not like for like: bare has no host share" in flat and "no host_power_w" in flat
    hosted = json.loads(cli(["video", "--device", bare, "--json"])[1])
    assert hosted["host_power_w"] == 0.0 and hosted["platform_power_w"] == hosted["power_w"]
    code, out, _ = cli(["video", "--device", "msvp"])  # 40 W of host against the socket's 150 W: like for like
    flat = " ".join(out.replace("│", " ").split())
    assert code == 0 and "(like for like)" in flat and "not like for like" not in flat


# 5.
def test_recsys_on_a_custom_asic_says_its_host_share_and_its_idle_sram_are_assumed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = cli_json(capsys, ["recsys", "dlrm-low", "--accelerator", _asic(tmp_path)])
    host = 0.82 * 900.0  # Epoch AI's 1.82 x TDP server: the generic rule's 0.82 x TDP of host
    assert r["platform_power_w"] - r["power_w"] == pytest.approx(host)
    assert r["figures_note"].count("738 of the 738 W per accelerator of host and scale-up switches is ASSUMED (738 W "
                                   "of host by Epoch AI's GPU-server rule of 0.82 x TDP") == 1  # said once (hK71)
    assert "256 MiB of SRAM holds no tables" in r["figures_note"]
    assert r["breakdown_s"]["embedding_sram"] == 0.0
    own = cli_json(capsys, ["recsys", "dlrm-low", "--accelerator",
                            _asic(tmp_path, "hosted", host_power_w="100W", host_source="test", sram_bytes=0)])
    assert own["platform_power_w"] - own["power_w"] == pytest.approx(100.0)
    assert "host share" not in (own["figures_note"] or "") and "SRAM" not in (own["figures_note"] or "")
    gpu = cli_json(capsys, "recsys dlrm-low --accelerator h100-sxm")  # a GPU's sram_bytes is its L2, a cache
    assert gpu["figures_note"] is None


# 6.
def test_a_generic_fp4_peak_names_the_format_the_models_price(tmp_path: Path, cli: CliRun) -> None:
    peaks = {"bf16": 1500e12, "fp8": 3000e12, "fp4": 6000e12}
    code, out, err = cli(["train", "llama3-8b", "--system", _asic(tmp_path, "fp4", peak_flops_per_s=peaks),
                          "--gpus", "8", "--tp", "2", "--seq-len", "4096", "--global-batch", "32", "--dtype", "nvfp4"])
    assert code == 2 and out == "" and "lists fp4 but neither nvfp4 nor mxfp4" in err, err
    code, _, err = cli(["train", "llama3-8b", "--system", _asic(tmp_path, "nv", peak_flops_per_s={**peaks,
                        "nvfp4": 6000e12}), "--gpus", "8", "--tp", "2", "--seq-len", "4096", "--global-batch", "32",
                        "--dtype", "nvfp4"])
    assert code == 0, err


# 7.
@pytest.mark.parametrize("command", [["recsys", "dlrm-low", "--accelerator"], ["facility", "--count", "8",
                                                                            "--accelerator"]])
def test_a_video_device_file_where_an_accelerator_goes_says_what_it_is(
        tmp_path: Path, cli: CliRun, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    path = _video(tmp_path, capsys, "enc")
    code, out, err = cli([*command, path])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert "is a video device file (kind: video-asic), not an accelerator" in err and "vendor" not in err
    assert cli(["video", "--device", path])[0] == 0


# 8.
def test_a_switch_port_of_no_bandwidth_is_refused_not_taken_as_the_nics(tmp_path: Path, cli: CliRun) -> None:
    tier = {"name": "leaf", "group_size": 64, "switch_radix": 64}
    system = {"display_name": "pod", "source": "test", "accelerator": _asic(tmp_path), "total_accelerators": 64,
              "node": {"accelerators_per_node": 4, "scale_up_domain": 4, "nics_per_node": 4,
                       "nic_bandwidth_bytes_per_s": "800Gbps"},
              "network": {"kind": "ethernet", "collective_efficiency": 0.8, "tiers": [tier]}}
    path = tmp_path / "pod.yaml"
    path.write_text(yaml.safe_dump(system))
    assert cli(["facility", "--system", str(path)])[0] == 0  # unset: the NIC's 800 Gb/s
    path.write_text(yaml.safe_dump({**system, "network": {**system["network"], "tiers": [
        {**tier, "port_bandwidth_bytes_per_s": 0}]}}))
    code, out, err = cli(["facility", "--system", str(path)])
    assert code == 2 and out == "" and "port_bandwidth_bytes_per_s: Input should be greater than 0" in err, err


# 9.
def test_an_mlp_layer_of_no_width_is_refused(tmp_path: Path, cli: CliRun, capsys: pytest.CaptureFixture[str]) -> None:
    model = cli_json(capsys, "catalog recsys dlrm-low")
    path = tmp_path / "cut.yaml"
    path.write_text(yaml.safe_dump({**model, "top_mlp": [0, 1]}))
    code, out, err = cli(["recsys", str(path), "--accelerator", "h100-sxm"])
    assert code == 2 and out == "" and "top_mlp.0: Input should be greater than 0" in err, err
    path.write_text(yaml.safe_dump(model))  # the preset's own shape, from the file, is accepted
    assert cli(["recsys", str(path), "--accelerator", "h100-sxm"])[0] == 0
