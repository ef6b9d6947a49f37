"""Software-stack profiles: every shipped profile loads, unknown fields and wrong kinds are one-line errors,
and a stack changes the estimate in the direction its features say."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import DEFAULT_TRAINING_STACK, Stack, list_stacks, load_stack, resolve_stack
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training


def test_every_shipped_stack_loads_with_a_source():
    names = list_stacks()
    for required in ("megatron-lm-2021", "megatron-core-0.8", "nemo-24.12", "nemo-26.04", "deepspeed", "torchtitan",
                     "trtllm-0.x", "vllm-0.x", "sglang-0.x"):
        assert required in names
    for name in names:
        stack = load_stack(name)
        assert stack.name == name and len(stack.source) > 40


def test_unknown_field_and_wrong_kind_are_input_errors(tmp_path):
    bad = tmp_path / "mine.yaml"
    bad.write_text("display_name: x\nkind: training\nstack_class: megatron\nsource: s\ntp_overlap: 0.5\n")
    with pytest.raises(InputError, match="tp_overlap"):
        load_stack(str(bad))
    with pytest.raises(InputError, match="serving stack"):
        resolve_stack("vllm-0.x", "training")
    with pytest.raises(InputError, match="unknown stack"):
        load_stack("megatron-2099")


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan"])
def test_a_non_finite_number_in_a_spec_is_an_input_error(tmp_path, value):
    """Catalog specs refuse infinities and NaN (`schemas.Spec`: allow_inf_nan False), e.g. an fp8 recipe's amax
    passes, which a bf16 plan would otherwise load silently and an fp8 plan price as infinite."""
    bad = tmp_path / "mine.yaml"
    bad.write_text("display_name: x\nkind: training\nstack_class: megatron\nsource: s\n"
                   f"fp8: {{recipe: current, amax_read_passes: {value}}}\n")
    with pytest.raises(InputError, match="amax_read_passes"):
        load_stack(str(bad))


def test_user_file_and_default_are_stated_in_the_result(tmp_path):
    own = tmp_path / "graphs.yaml"
    own.write_text("display_name: mine\nkind: training\nstack_class: megatron\nsource: test\ncuda_graphs: true\n")
    args = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=8, tp=2, seq_len=4096, global_batch=16)
    assert estimate_training(**args).stack == DEFAULT_TRAINING_STACK
    assert estimate_training(**args, stack=str(own)).stack == "graphs"


def test_the_default_is_a_shipped_training_stack_and_moves_no_validation_case():
    """The default (nemo-26.04 since 2026-12, megatron-core-0.8 before) is what a plan without --stack runs; every
    training validation case names the stack it ran, so changing the default moves none of them."""
    from importlib import resources

    import yaml

    from infraplan.training.results import PlanSearchResult, TrainingEstimate

    assert load_stack(DEFAULT_TRAINING_STACK).kind == "training"
    assert resolve_stack(None, "training").name == DEFAULT_TRAINING_STACK
    for result in (TrainingEstimate, PlanSearchResult):  # the results' field default is the one constant
        assert result.model_fields["stack"].default == DEFAULT_TRAINING_STACK
    cases = yaml.safe_load((resources.files("infraplan.validation") / "cases" / "training.yaml").read_text())["cases"]
    assert cases and all(case.get("stack") for case in cases)


def _step(stack: Stack, **plan: object) -> float:
    args: dict[str, object] = dict(model="megatron-1.7b", system="dgx-a100-superpod", gpus=8, tp=8, seq_len=2048,
                                   global_batch=8, attention="unfused", recompute="full", zero=0)
    args.update(plan)
    return estimate_training(**args, stack=stack).step_time_s  # type: ignore[arg-type]


def test_features_move_the_step_time_the_right_way():
    base = load_stack("megatron-lm-2022")
    assert _step(base.model_copy(update={"cuda_graphs": True})) < _step(base)
    assert _step(base.model_copy(update={"fused_cross_entropy": True})) < _step(base)
    assert _step(base.model_copy(update={"kernel_fusion": "fused"})) < _step(base)
    # TP overlap pays off where the GPU, not the host, sets the pace (a larger model, fused kernels)
    fused = base.model_copy(update={"kernel_fusion": "fused"})
    overlap = fused.model_copy(update={"tp_comm_overlap_fraction": 0.8, "tp_overlap_sm_fraction": 0.1})
    big = dict(model="megatron-18.4b", micro_batch=4, global_batch=32)
    assert _step(overlap, **big) < _step(fused, **big)
    # DP reduced after the backward (2021) exposes more than overlapped buckets
    dp = dict(gpus=64, dp=8, global_batch=64)
    assert _step(base, **dp) > _step(base.model_copy(update={"dp_overlap_fraction": 1.0}), **dp)


def test_the_default_nvidia_stack_on_another_vendor_is_said_not_silent():
    """No --stack on an AMD / Intel / Google / Meta accelerator: the default Megatron-class stack is NVIDIA software
    (Transformer Engine: "on NVIDIA GPUs"), priced there as on an NVIDIA GPU, and `train` says so; an asked stack or
    an NVIDIA GPU gets no such note."""
    args = dict(gpus=8, tp=8, seq_len=4096, global_batch=16)

    def said(system: str, **more: object) -> bool:
        notes = estimate_training("llama3-8b", system, **args, **more).notes  # type: ignore[arg-type]
        return any(n.startswith("no stack named: the default") for n in notes)

    assert said("mi300x") and said("gaudi2") and said("tpu-v5p")
    assert not said("h100-sxm") and not said("gb200")
    assert not said("mi300x", stack=DEFAULT_TRAINING_STACK) and not said("gaudi2", stack="deepspeed")
