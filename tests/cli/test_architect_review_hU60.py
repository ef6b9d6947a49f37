"""hU60 (session 46): a hardware architect's inference ASIC by files only (a part, its rack, a recsys profile, a video
block), through the CLI. Each test failed before its fix.

1. A part file could not bring its own recsys profile (note_s45's known gap): `recsys_profile:` was refused ("Extra
   inputs are not permitted"), `schema catalog` and `catalog` had no kind for a profile, and the default profile's
   note said to write into the package (catalog/recsys/devices/<accelerator>.yaml). So the part's SRAM held nothing.
   Now `recsys_profile: FILE` (read beside the part's file, or a preset name) is the part's profile in `recsys`,
   fleet-mix and plan; `schema catalog recsys-devices` and `catalog recsys-devices [FILE]` describe and read one.
2. `typical_power_w` was validated and read by no command's power (each draws idle + (TDP - idle) x load up to
   `tdp_w`): a designer's 550 W busy draw on a 700 W part was answered at 700 W without a word. Now a warning.
3. An int8 recsys model on a part of no int8 peak was priced in bf16 (half the 8-bit rate, twice the bytes) without a
   word (`recsys.estimate.compute_dtype`'s stand-ins); now named in `figures_note`.
4. `intended_use` took one class of models: an inference part for ranking and LLM serving could say only one, and
   every answer about the other said its source described it for something else. Now `models` may list both.
5. `video` on a user's video device file naming no `software_baseline` printed no comparison and no word why (msvp's
   file names xeon-8480); a file's `host_power_w: 0` with its `host_source` was said to be "no host_power_w, or 0".
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import CliRun, cli_json

from infraplan.catalog.inference_loader import load_recsys_profile

ASIC: dict[str, object] = {
    "display_name": "an inference ASIC", "vendor": "Acme", "kind": "asic", "source": "test: ASSUMPTION",
    "peak_flops_per_s": {"bf16": 2e15, "fp8": 4e15}, "memory_bytes": "256GB",
    "memory_bandwidth_bytes_per_s": "12TB/s", "memory_type": "HBM3e", "sram_bytes": "512MB",
    "sram_bandwidth_bytes_per_s": "60TB/s", "tdp_w": "700W", "scale_up_bandwidth_bytes_per_s": "800GB/s",
    "scale_out_bandwidth_bytes_per_s": "400Gbps", "host_link_bandwidth_bytes_per_s": "64GB/s",
    "host_power_w": "150W", "host_source": "test: ASSUMPTION",
    "efficiency": {"matmul_max_fraction": {"bf16": 0.7, "fp8": 0.65}, "attention_max_fraction": 0.5,
                   "memory_bandwidth_fraction": 0.85, "compute_units": 64, "kernel_overhead_s": 3e-6,
                   "scale_up_collective_efficiency": 0.8, "source": "test: ASSUMPTION"},
}
SRAM_PROFILE: dict[str, object] = {
    "source": "test: ASSUMPTION",
    "tiers": [{"name": "sram", "label": "SRAM", "usable_fraction": 0.75, "random_access_efficiency": 0.6,
               "streaming_efficiency": 0.85},
              {"name": "device", "label": "HBM3e", "usable_fraction": 0.9, "random_access_efficiency": 0.45}],
    "vector_flops_per_s": 1e14,
}


def _write(path: Path, data: dict[str, object]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return str(path)


def _recsys(capsys: pytest.CaptureFixture[str], part: str, *more: str) -> dict[str, object]:
    return cli_json(capsys, ["recsys", "dlrm-high", "--accelerator", part, "--batch", "1024", *more])


# 1.
def test_a_part_file_brings_its_own_recsys_profile_read_beside_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "parts"
    _write(folder / "ri-sram.yaml", SRAM_PROFILE)
    part = _write(folder / "ri.yaml", {**ASIC, "recsys_profile": "ri-sram.yaml"})
    monkeypatch.chdir(tmp_path)  # the profile is beside the part, not in the working directory
    r = _recsys(capsys, part)
    assert r["profile"] == str(folder / "ri-sram.yaml")
    sram = r["placement"]["sram"]  # type: ignore[index]
    # the SRAM tier holds weights: 512 MB x 0.75 usable, filled first by the dense weights (1.04 GB > 384 MB)
    assert sram["capacity_bytes"] == pytest.approx(512e6 * 0.75)
    assert sram["used_bytes"] == pytest.approx(512e6 * 0.75)
    assert sram["dense_fraction"] == pytest.approx(384e6 / r["dense_weight_bytes"])  # type: ignore[operator]
    assert "profile" not in r["assumptions"]  # type: ignore[operator]
    assert "vector (element-wise) rate ASSUMED" not in str(r["figures_note"])  # the profile's 100 TFLOP/s


def test_a_profile_file_equal_to_the_default_answers_as_the_default(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same part two ways (no profile; a file holding the default profile's figures): one answer."""
    default = load_recsys_profile("no-such-part").model_dump(exclude={"accelerator"})
    _write(tmp_path / "same.yaml", default)
    bare = _recsys(capsys, _write(tmp_path / "a.yaml", ASIC))
    named = _recsys(capsys, _write(tmp_path / "b.yaml", {**ASIC, "recsys_profile": "same.yaml"}))
    for key in ("qps", "latency_s", "power_w", "platform_power_w", "breakdown_s", "placement", "bound"):
        assert named[key] == bare[key], key
    assert bare["profile"] == "default (assumed efficiencies)" and named["profile"] == str(tmp_path / "same.yaml")
    assert "recsys_profile" in bare["assumptions"]["profile"]  # type: ignore[index]  # the default's note says how


def test_a_part_may_name_a_shipped_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = _recsys(capsys, _write(tmp_path / "ri.yaml", {**ASIC, "recsys_profile": "mtia-v2"}))
    assert r["profile"] == "mtia-v2" and "host" in r["placement"]  # type: ignore[operator]  # MTIA v2's 96 GB tier
    assert r["placement"]["host"]["capacity_bytes"] == pytest.approx(96e9 * 0.5)  # type: ignore[index]


def test_a_missing_or_unknown_profile_is_one_line_and_exit_2(tmp_path: Path, cli: CliRun) -> None:
    for named, said in (("nowhere.yaml", "no such file"), ("mtia-v9", "unknown recsys profile 'mtia-v9'")):
        part = _write(tmp_path / f"p-{named}.yaml", {**ASIC, "recsys_profile": named})
        code, out, err = cli(["recsys", "dlrm-low", "--accelerator", part])
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and said in err, err


def test_the_profile_kind_is_in_the_catalog_and_its_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listed = cli_json(capsys, "catalog recsys-devices")
    names = {e["name"] for e in listed["kinds"][0]["entries"]}
    assert {"default", "mtia-v2", "h200"} <= names
    schema = cli_json(capsys, "schema catalog recsys-devices")
    assert set(schema["properties"]) >= {"tiers", "vector_flops_per_s", "host_link_efficiency"}
    assert "recsys_profile" in schema["description"]
    tier = schema["$defs"]["MemoryTierProfile"]["properties"]
    assert all(field.get("description") for field in tier.values())
    capsys.readouterr()
    from infraplan.cli import main
    assert main(["catalog", "recsys-devices", _write(tmp_path / "p.yaml", SRAM_PROFILE)]) == 0
    read = yaml.safe_load(capsys.readouterr().out)
    assert read["accelerator"] == "p" and read["tiers"][0]["name"] == "sram"
    acc = cli_json(capsys, "schema catalog accelerators")
    assert "recsys-devices" in acc["properties"]["recsys_profile"]["description"]


# 2.
def test_typical_power_is_said_to_be_unread(tmp_path: Path, cli: CliRun) -> None:
    plain = _write(tmp_path / "plain.yaml", ASIC)
    typed = _write(tmp_path / "typed.yaml", {**ASIC, "typical_power_w": "550W"})
    answers = []
    for part in (plain, typed):
        code, out, err = cli(["recsys", "dlrm-low", "--accelerator", part, "--json"])
        assert code == 0, err
        answers.append((yaml.safe_load(out), err))
    (a, quiet), (b, warned) = answers
    assert a["power_w"] == b["power_w"] == pytest.approx(700.0 * 0.1 + 630.0 * b["busy_fraction"])
    assert "typical_power_w" not in quiet
    assert warned.count("\n") == 1 and "sets typical_power_w 550 W, which no command reads" in warned
    assert "tdp_w 700 W" in warned


# 3.
def test_a_model_dtype_the_part_lacks_is_named_with_its_stand_in(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    model = cli_json(capsys, "catalog recsys dlrm-low")
    model.pop("display_name", None)
    int8 = _write(tmp_path / "dlrm-int8.yaml", {**model, "dtype": "int8"})
    fp16 = _write(tmp_path / "dlrm-fp16.yaml", model)
    part = _write(tmp_path / "ri.yaml", ASIC)  # bf16 and fp8 peaks, no int8
    swapped = cli_json(capsys, ["recsys", int8, "--accelerator", part, "--batch", "1024"])
    same = cli_json(capsys, ["recsys", fp16, "--accelerator", part, "--batch", "1024"])
    assert swapped["dtype"] == same["dtype"] == "bf16" and swapped["qps"] == same["qps"]  # priced alike
    assert "lists no peak for the model's int8 as bf16" in swapped["figures_note"]
    assert "lists no peak" not in same["figures_note"]  # fp16 as bf16: one width, one rate
    native = cli_json(capsys, ["recsys", int8, "--accelerator", "h100-sxm", "--batch", "1024"])
    assert native["dtype"] == "int8" and native["figures_note"] is None


# 4.
def test_a_part_for_ranking_and_llm_inference_says_both(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         cli: CliRun) -> None:
    both = {**ASIC, "intended_use": {"work": "inference", "models": ["generative-ai", "recommendation"]}}
    llm = {**ASIC, "intended_use": {"work": "inference", "models": "generative-ai"}}
    ranked = cli_json(capsys, ["recsys", "dlrm-low", "--accelerator", _write(tmp_path / "both.yaml", both)])
    assert "described by its source" not in str(ranked["figures_note"])
    other = cli_json(capsys, ["recsys", "dlrm-low", "--accelerator", _write(tmp_path / "llm.yaml", llm)])
    assert "described by its source for generative-AI inference; ranking" in other["figures_note"]
    from infraplan.catalog.figures import use_note
    from infraplan.catalog.loader import load_accelerator
    part = load_accelerator(str(tmp_path / "both.yaml"))
    assert use_note(part, "inference", "generative-ai") is None
    assert "for generative-AI and ranking and recommendation inference; training" in str(
        use_note(part, "training", "generative-ai"))
    code, out, err = cli(["recsys", "dlrm-low", "--accelerator", _write(
        tmp_path / "none.yaml", {**ASIC, "intended_use": {"work": "inference", "models": []}})])
    assert code == 2 and "intended_use.models" in err and len(err.strip().splitlines()) == 1, err


# 5.
def _video(tmp_path: Path, capsys: pytest.CaptureFixture[str], **changes: object) -> str:
    data = cli_json(capsys, "catalog video-devices msvp")
    data = {k: v for k, v in data.items() if k not in {"software_baseline", "published_speedup",
                                                       "published_speedup_versus"}} | changes
    return _write(tmp_path / "block.yaml", data)


def test_a_video_file_without_a_baseline_says_why_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    block = _video(tmp_path, capsys)
    alone = cli_json(capsys, ["video", "--device", block])
    assert alone.get("baseline") is None
    why = [n for n in alone["notes"] if "names no software_baseline" in n]  # beside its ASSUMPTION notes (hW58)
    assert len(why) == 1 and "--baseline xeon-8480" in why[0]
    asked = cli_json(capsys, ["video", "--device", block, "--baseline", "xeon-8480"])
    msvp = cli_json(capsys, ["video", "--device", "msvp"])
    assert not any("software_baseline" in n for n in asked["notes"] + msvp["notes"])
    assert asked["baseline"]["device"] == msvp["baseline"]["device"] == "xeon-8480"


def test_a_video_file_host_share_of_zero_says_its_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    block = _video(tmp_path, capsys, host_power_w=0, host_source="counted in the ASIC tray's host share")
    r = cli_json(capsys, ["video", "--device", block, "--baseline", "none"])
    assert r["host_power_w"] == 0 and "0 W: counted in the ASIC tray's host share" in r["basis"]


# 6.
RACK: dict[str, object] = {
    "display_name": "a rack of it", "source": "test rack", "accelerator": "ri.yaml", "total_accelerators": 64,
    "node": {"accelerators_per_node": 4, "scale_up_domain": 32, "nics_per_node": 4,
             "nic_bandwidth_bytes_per_s": "400Gbps", "host_power_w": "600W"},
    "network": {"kind": "roce", "collective_efficiency": 0.9,
                "tiers": [{"name": "rack", "group_size": 32, "switch_radix": 64},
                          {"name": "cluster", "group_size": 64, "switch_radix": 64}]},
}


def test_a_rack_pool_names_the_host_share_it_prices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """6. fleet-mix on a rack file whose node carries more host than the part's own figure (scale-up switches folded in,
    as note_s45 advises) priced the node's 250 W per device and said the part's "150 W ... is an ASSUMPTION"."""
    _write(tmp_path / "ri.yaml", {**ASIC, "host_source": "ASSUMPTION: a 600 W tray of 4"})
    answers = {}
    for host in (600, 1000):
        rack = _write(tmp_path / f"rack-{host}.yaml", {**RACK, "node": {**RACK["node"], "host_power_w": host}})  # type: ignore[dict-item]
        spec = _write(tmp_path / f"fleet-{host}.yaml", {
            "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "10M", "latency_slo": "10ms"}],
            "pools": [{"name": "ri", "device": Path(rack).name, "price_usd_per_device": 12000}]})
        answers[host] = cli_json(capsys, ["fleet-mix", spec])
    assert "host share 150 W per device (host_source)" in answers[600]["figures_note"]
    assert "150 W" not in (answers[1000]["figures_note"] or "")
    bought = answers[600]["totals"]["devices_bought"]
    assert bought == answers[1000]["totals"]["devices_bought"]
    # the node's extra 400 W per 4-device server is what the second answer prices (plus its storage share)
    assert answers[1000]["totals"]["power_w"] - answers[600]["totals"]["power_w"] >= 100.0 * bought


def test_a_video_pool_of_a_file_is_named_not_pathed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """fleet-mix said "12 /tmp/.../block.yaml modules per server" of a video pool given as a file."""
    block = _video(tmp_path, capsys, host_power_w=0, host_source="counted in the ASIC tray's host share")
    spec = _write(tmp_path / "fleet.yaml", {
        "services": [{"name": "ingest", "kind": "video", "input": "1080p30", "ladder": 5, "codec": "h264",
                      "quality": "high", "daily_hours": 1000}],
        "pools": [{"name": "blocks", "device": Path(block).name, "price_usd_per_device": 2000}]})
    note = cli_json(capsys, ["fleet-mix", spec])["figures_note"]
    assert "pool 'blocks': 12 block modules per server" in note and str(tmp_path) not in note
