"""hC51 (session 47): catalog input gaps hX50 and hU60 found (note_s46's Left). Each failed before its fix.

1. A part file whose `matmul_max_fraction` listed fp8 only trained bf16 at the fp8 fraction, its note saying "bf16 at
   the bf16 fraction 0.6": refused, naming the bf16 (or fp16) fraction every dtype without one of its own takes.
2. A part's `recsys_profile` naming the part's own file, or another part's, said "tiers: Field required".
3. `true` was read as 1 in every numeric field of a catalog file (`matmul_max_fraction: {bf16: true}`: 100 % of
   peak): refused by the one spec base (`catalog.spec_base.Spec`), as the plan and fleet-mix specs refused it.
4. A video device file could name itself as its `software_baseline` (a 1x comparison); `--baseline` the device too.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from tests.cli.conftest import CliRun
from tests.cli.test_architect_review_hU60 import ASIC, SRAM_PROFILE

from infraplan.catalog.figures import defaults_note
from infraplan.catalog.inference_loader import load_recsys_profile_file, load_video_device
from infraplan.catalog.kernel_fits import KernelEfficiency
from infraplan.catalog.loader import load_accelerator, preset_files
from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.spec_base import BOOLEAN_NOT_A_NUMBER, takes_numbers
from infraplan.catalog.video_schemas import VideoAsic
from infraplan.errors import InputError
from infraplan.video.transcode import estimate_video

MSVP = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "video" / "devices" / "msvp.yaml"
TRAIN = ["train", "llama3-8b", "--gpus", "8", "--seq-len", "4096", "--global-batch", "64", "--json"]


def _write(path: Path, data: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump(data))
    return str(path)


def _part(**efficiency: Any) -> dict[str, Any]:
    part = copy.deepcopy(ASIC)
    part["efficiency"].update(efficiency)  # type: ignore[attr-defined]
    return part


def _one_line_refusal(cli: CliRun, args: list[str], *words: str) -> str:
    code, out, err = cli(args)
    assert code == 2 and out == "" and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert all(w in err for w in words), err
    return err


# 1.
def test_a_part_with_an_fp8_fraction_only_is_refused_naming_bf16(tmp_path: Path, cli: CliRun) -> None:
    part = _write(tmp_path / "fp8only.yaml", _part(matmul_max_fraction={"fp8": 0.6}))
    _one_line_refusal(cli, [*TRAIN[:2], "--system", part, *TRAIN[2:]], "fp8only.yaml", "matmul_max_fraction",
                      "bf16 (or fp16)")
    fp16 = {**_part(matmul_max_fraction={"fp16": 0.6}), "peak_flops_per_s": {"fp16": 2e15, "fp8": 4e15}}
    for given in (fp16, _part(matmul_max_fraction={"bf16": 0.6})):  # a 16-bit fraction of either name is enough
        assert load_accelerator(_write(tmp_path / "ok.yaml", given)).matmul_fraction("fp8") == pytest.approx(0.6)


def test_every_preset_gives_a_16_bit_fraction_and_the_fallback_is_it() -> None:
    """The rule refuses no shipped part, and a dtype without its own fraction takes the bf16 (else fp16) one; int8
    on a part listing fp8 at int8's peak takes fp8's (hQ69, `Accelerator.same_mma_dtype`: one 8-bit MMA class)."""
    shared = 0
    for name in preset_files("accelerators"):
        acc = load_accelerator(name)
        fractions = acc.efficiency.matmul_max_fraction
        sixteen = fractions.get("bf16", fractions.get("fp16"))
        assert sixteen is not None, name
        for dtype in acc.peak_flops_per_s:
            if dtype not in fractions and not (dtype == "bf16" and "fp16" in fractions):
                same_peak_fp8 = dtype == "int8" and "fp8" in fractions and acc.peak("fp8") == acc.peak("int8")
                shared += same_peak_fp8
                want = fractions["fp8"] if same_peak_fp8 else sixteen  # type: ignore[index]
                assert acc.matmul_fraction(dtype) == want, (name, dtype)
    assert shared >= 2  # h100-sxm and b200 at least take fp8's


def test_a_what_if_keeps_its_presets_bf16_fraction(tmp_path: Path) -> None:
    """`extends` merges fractions key by key: a what-if setting fp8 only keeps the preset's bf16 (not refused)."""
    path = tmp_path / "h100-fp8.yaml"
    path.write_text("extends: h100-sxm\nname: h100-fp8\nefficiency: {matmul_max_fraction: {fp8: 0.5}}\n")
    acc = load_accelerator(str(path))
    assert acc.matmul_fraction("bf16") == load_accelerator("h100-sxm").matmul_fraction("bf16")
    assert acc.matmul_fraction("fp8") == 0.5


# 2.
def test_a_recsys_profile_naming_the_part_itself_says_so(tmp_path: Path, cli: CliRun) -> None:
    part = _write(tmp_path / "ri.yaml", {**ASIC, "recsys_profile": "ri.yaml"})
    _one_line_refusal(cli, ["recsys", "dlrm-high", "--accelerator", part, "--json"], "ri.yaml",
                      "recsys_profile names this file itself")
    what_if = _write(tmp_path / "h.yaml", {"extends": "h100-sxm", "recsys_profile": "h.yaml"})  # was "`extends`..."
    with pytest.raises(InputError, match="names this file itself"):
        load_accelerator(what_if)


def test_a_recsys_profile_naming_another_part_or_a_system_says_what_it_is(tmp_path: Path, cli: CliRun) -> None:
    a = _write(tmp_path / "a.yaml", {**ASIC, "recsys_profile": "b.yaml"})
    _write(tmp_path / "b.yaml", {**ASIC, "recsys_profile": "a.yaml"})  # a cycle: b is a part, not a profile
    err = _one_line_refusal(cli, ["recsys", "dlrm-high", "--accelerator", a, "--json"], "b.yaml",
                            "is an accelerator file", "not a recsys profile")
    assert "Field required" not in err
    system = _write(tmp_path / "rack.yaml", {"extends": "dgx-b200", "total_accelerators": 8})
    with pytest.raises(InputError, match="is a system file .*not a recsys profile"):
        load_recsys_profile_file(system)
    good = _write(tmp_path / "p.yaml", SRAM_PROFILE)  # a profile's own file still reads
    assert [t.name for t in load_recsys_profile_file(good).tiers] == ["sram", "device"]


# 3.
@pytest.mark.parametrize(("where", "value"), [
    ("matmul_max_fraction", {"bf16": True}), ("attention_max_fraction", True), ("compute_units", True),
    ("kernel_overhead_s", False)])
def test_a_boolean_in_a_numeric_catalog_field_is_refused(tmp_path: Path, cli: CliRun, where: str,
                                                          value: object) -> None:
    part = _write(tmp_path / "b.yaml", _part(**{where: value}))
    _one_line_refusal(cli, [*TRAIN[:2], "--system", part, *TRAIN[2:]], f"efficiency.{where}",
                      "a boolean (true/false) is not a number")


def test_a_boolean_is_refused_in_video_and_recsys_files_too(tmp_path: Path) -> None:
    device = yaml.safe_load(MSVP.read_text())
    device["reference_fps"]["high"] = True
    with pytest.raises(InputError, match="reference_fps: a boolean"):
        load_video_device(_write(tmp_path / "v.yaml", device))
    profile = copy.deepcopy(SRAM_PROFILE)
    profile["tiers"][0]["usable_fraction"] = True  # type: ignore[index]
    with pytest.raises(InputError, match="a boolean"):
        load_recsys_profile_file(_write(tmp_path / "p.yaml", profile))


def test_the_rule_reads_types_and_leaves_true_where_a_bool_goes() -> None:
    assert takes_numbers(float) and takes_numbers(int) and takes_numbers(dict[str, float])
    assert takes_numbers(float | None) and takes_numbers(list[int])
    assert not takes_numbers(bool) and not takes_numbers(str) and not takes_numbers(bool | float)
    good = dict(ASIC["efficiency"])  # type: ignore[call-overload]
    assert KernelEfficiency.model_validate(good).compute_units == 64  # an int still reads
    with pytest.raises(ValidationError, match="a boolean"):
        KernelEfficiency.model_validate({**good, "compute_units": True})
    assert "boolean" in BOOLEAN_NOT_A_NUMBER
    fields = Accelerator.model_fields  # a bool field of a spec is untouched by the rule
    assert not any(takes_numbers(f.annotation) for n, f in fields.items() if f.annotation is bool)


# 4.
def test_a_video_device_naming_itself_as_baseline_is_refused(tmp_path: Path, cli: CliRun) -> None:
    device = yaml.safe_load(MSVP.read_text())
    by_name = _write(tmp_path / "mine.yaml", {**device, "software_baseline": "mine"})
    _one_line_refusal(cli, ["video", "--device", by_name, "--json"], "software_baseline names the device itself")
    by_path = tmp_path / "mine2.yaml"
    _write(by_path, {**device, "software_baseline": str(by_path)})
    _one_line_refusal(cli, ["video", "--device", str(by_path), "--json"], "software_baseline names this file itself")
    _one_line_refusal(cli, ["video", "--device", "msvp", "--baseline", "msvp", "--json"],
                      "--baseline msvp is the device itself")
    with pytest.raises(ValidationError, match="itself"):
        VideoAsic.model_validate({**device, "name": "x", "software_baseline": "x"})
    other = estimate_video("msvp", baseline="epyc-9654")  # another device still compares
    assert other.baseline is not None and other.baseline.device == "epyc-9654"


def test_defaults_note_leaves_the_collective_curves_out_where_none_is_priced(tmp_path: Path) -> None:
    """(item 6's catalog half) a part of no preset: the borrowed collective curves only where a collective is priced;
    with nothing else to name, no note."""
    acc = load_accelerator(_write(tmp_path / "asic.yaml", _part(attention_exp_per_s=1e12)))
    with_collectives = defaults_note(acc, "inference")
    assert with_collectives is not None and "all-reduce" in with_collectives
    without = defaults_note(acc, "inference", collectives=False)
    assert without is not None and "all-reduce" not in without and "decode_attention" in without
    bf16 = {**_part(matmul_max_fraction={"bf16": 0.7}, attention_exp_per_s=1e12), "peak_flops_per_s": {"bf16": 2e15}}
    plain = load_accelerator(_write(tmp_path / "bf16.yaml", bf16))  # training: no fp8 layouts, attention's rate
    assert defaults_note(plain, "training", collectives=False) is None
    assert "all-reduce" in str(defaults_note(plain, "training"))
