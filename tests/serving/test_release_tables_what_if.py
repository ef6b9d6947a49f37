"""A serving release's measured tables on a what-if accelerator (`serving.release_tables`).

The tables are keyed by accelerator name; a file that `extends` a preset read none of them (an unchanged copy of
H200 served DeepSeek-R1 on trtllm-1.2.0rc6 at 955.1 tokens/s against the preset's 884.8). Now an unchanged copy gives
the preset's `serve` and `serve-plan` answers bit for bit, a bandwidth what-if keeps them (seconds held, fractions
on its own figures: the H100/H200 pair), and a peak what-if drops them and says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import infraplan
from infraplan.catalog import load_accelerator
from infraplan.errors import InputError
from infraplan.serving import release_tables
from infraplan.serving.capacity import search_capacity
from infraplan.serving.engines import load_engine
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.stack_placement import stack_on_accelerator

STACKS = Path(infraplan.__file__).parent / "validation" / "data" / "stacks"
TRTLLM = str(STACKS / "trtllm-1.2.0rc6.yaml")
VLLM = str(STACKS / "vllm-0.12.yaml")


@pytest.fixture()
def parts(tmp_path: Path) -> dict[str, str]:
    files = {"same": "extends: h200\n", "hbm": "extends: h200\nmemory_bandwidth_bytes_per_s: 7.2TB/s\n",
             "fp8x2": "extends: h200\npeak_flops_per_s: {fp8: 3958e12, mxfp8: 3958e12}\n"}
    out = {}
    for name, text in files.items():
        (tmp_path / f"h200-{name}.yaml").write_text(text)
        out[name] = str(tmp_path / f"h200-{name}.yaml")
    return out


def _numbers(result: object) -> dict:
    data = result.model_dump()  # type: ignore[attr-defined]
    for key in ("accelerator", "system", "warnings", "notes", "serve_command"):  # the line names the system given
        data.pop(key, None)
    return data


def test_an_unchanged_copy_serves_deepseek_on_its_presets_release_tables(parts: dict[str, str]) -> None:
    kw = dict(tp=8, dtype="fp8", stack=TRTLLM, concurrency=16, input_len=1000, output_len=200, requests=32)
    preset = estimate_serving("deepseek-r1", "h200", 8, **kw)  # type: ignore[arg-type]
    copy = estimate_serving("deepseek-r1", parts["same"], 8, **kw)  # type: ignore[arg-type]
    assert _numbers(copy) == _numbers(preset)
    assert not any("measured tables" in w for w in copy.warnings)  # nothing to say: the preset's, unchanged


def test_serve_plan_of_an_unchanged_copy_is_the_presets(parts: dict[str, str]) -> None:
    kw = dict(input_len=2000, output_len=200, ttft_slo=2.0, tpot_slo=0.05, dtypes=("fp8",), requests=300,
              disaggregation=False, stack=VLLM, max_gpus=2)
    preset = search_capacity("llama3-8b", "h200", 4.0, **kw)  # type: ignore[arg-type]
    copy = search_capacity("llama3-8b", parts["same"], 4.0, **kw)  # type: ignore[arg-type]
    assert preset.feasible and _numbers(copy) == _numbers(preset)


def test_a_bandwidth_what_if_keeps_the_tables_and_a_peak_what_if_drops_them(parts: dict[str, str]) -> None:
    h200 = load_accelerator("h200")
    fit = release_tables.release_fit(h200, TRTLLM, "fp8", True)
    assert fit is not None
    assert release_tables.release_fit(load_accelerator(parts["same"]), TRTLLM, "fp8", True) == fit
    assert release_tables.release_fit(load_accelerator(parts["hbm"]), TRTLLM, "fp8", True) == fit
    assert release_tables.release_fit(load_accelerator(parts["fp8x2"]), TRTLLM, "fp8", True) is None
    kept = release_tables.note(load_accelerator(parts["hbm"]), TRTLLM)
    dropped = release_tables.note(load_accelerator(parts["fp8x2"]), TRTLLM)
    assert kept is not None and "apply to h200-hbm" in kept and "fp8_block_gemm" in kept
    assert dropped is not None and "are not used on h200-fp8x2" in dropped
    assert release_tables.note(load_accelerator(parts["same"]), TRTLLM) is None
    assert release_tables.note(h200, TRTLLM) is None
    # the link-relative all-reduce curve follows any what-if (it scales with the link by construction)
    assert release_tables.link_key(load_accelerator(parts["fp8x2"])) == "h200"


def test_more_hbm_bandwidth_on_the_release_tables_never_slows_deepseek(parts: dict[str, str]) -> None:
    kw = dict(tp=8, dtype="fp8", stack=TRTLLM, concurrency=16, input_len=1000, output_len=200, requests=32)
    preset = estimate_serving("deepseek-r1", "h200", 8, **kw)  # type: ignore[arg-type]
    faster = estimate_serving("deepseek-r1", parts["hbm"], 8, **kw)  # type: ignore[arg-type]
    assert preset.tpot_s is not None and faster.tpot_s is not None
    assert preset.tpot_s.p50 / 1.5 <= faster.tpot_s.p50 < preset.tpot_s.p50
    assert any("apply to h200-hbm" in w for w in faster.warnings)


def test_kernel_key_reads_the_presets_tables_unless_a_peak_changed(parts: dict[str, str], tmp_path: Path) -> None:
    assert release_tables.kernel_key(load_accelerator("h200")) == "h200"
    assert release_tables.kernel_key(load_accelerator(parts["same"])) == "h200"
    assert release_tables.kernel_key(load_accelerator(parts["hbm"])) == "h200"  # seconds held, fractions its own
    assert release_tables.kernel_key(load_accelerator(parts["fp8x2"])) == "h200-fp8x2"  # keys no table
    # a file of its own (no extends) keys by its own name; one holding every figure of a preset is that preset
    # (hX3, session 39: `catalog.loader._twin`)
    own = load_accelerator("h200").model_dump(exclude={"name", "extends"})
    (tmp_path / "copy.yaml").write_text(yaml.safe_dump(own))
    assert release_tables.kernel_key(load_accelerator(str(tmp_path / "copy.yaml"))) == "h200"
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump({**own, "tdp_w": own["tdp_w"] + 1.0}))
    assert release_tables.kernel_key(load_accelerator(str(tmp_path / "mine.yaml"))) == "mine"


def test_what_if_notes_lists_figures_tables_and_an_inherited_price(parts: dict[str, str]) -> None:
    assert release_tables.what_if_notes(load_accelerator("h200"), TRTLLM) == []  # a priced preset, its own tables
    peak = load_accelerator(parts["fp8x2"])
    lines = release_tables.what_if_notes(peak, TRTLLM)
    assert len(lines) == 2 and "are not used on h200-fp8x2" in lines[0]
    assert "price of h200 inherited by the what-if h200-fp8x2" in lines[1]
    assert release_tables.what_if_notes(peak, TRTLLM, priced=False) == lines[:1]  # --usd-per-hour: no price line
    assert release_tables.what_if_notes(peak, "vllm-0.x", priced=False) == []  # a shipped stack: no tables
    mtia = load_accelerator("mtia-v2")  # a catalog figures_note, and TensorRT-LLM does not run on it
    got = release_tables.what_if_notes(mtia, "vllm-0.x")
    assert got[0] == f"mtia-v2: {mtia.figures_note}" and len(got) == 3  # and its source's use (recommendation):
    assert got[1].startswith("mtia-v2 is described by its source for ranking and recommendation inference")
    assert got[2].startswith("mtia-v2: no measured collective table of its own")  # H100's curves (hC49)
    assert release_tables.what_if_notes(mtia, None) == got  # which stack runs on it: `serving.engines` (hV42)


@pytest.mark.parametrize("stack", ["trtllm-0.x", "trtllm-1.2.0", TRTLLM,
                                   str(STACKS / "trtllm-1.0.0rc3-dynamo-agg.yaml")])
def test_any_tensorrt_llm_stack_on_a_part_it_does_not_run_on_is_refused(stack: str) -> None:
    """The engine is the loaded stack's `serving.engine` (a name, a versioned name or a YAML path alike): TensorRT-LLM's
    kernels are NVIDIA's alone (trtllm-0.x.yaml `vendor_kernels`), so it is refused on AMD and Google parts (was
    priced there with a note, hV42); on an NVIDIA part it runs, nothing said."""
    engine = load_engine(stack)
    for part in ("mi300x", "tpu-v5p"):
        with pytest.raises(InputError, match=f"its kernels are built for them .*, not for {part}"):
            stack_on_accelerator(engine, load_accelerator(part))
    assert stack_on_accelerator(engine, load_accelerator("h200")) is None


@pytest.mark.parametrize("stack", ["vllm-0.x", "sglang-0.x", VLLM, str(STACKS / "sglang-0.5.1.yaml")])
def test_other_engines_run_on_amd_without_a_line(stack: str) -> None:
    assert stack_on_accelerator(load_engine(stack), load_accelerator("mi300x")) is None
