"""Metamorphic properties of `train` (hX1, session 38): more work never takes less time.

More layers, a longer sequence or a bigger global batch on the same plan never lowers the step time; a wider model
never lowers the FLOPs per token; more tokens never lower the whole run's GPU-hours (`train --tokens`).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from test_metamorphic_hX1_hardware import METAMORPHIC, TOLERANCE, catalog_plans, train

from infraplan.catalog import load_model
from infraplan.planning.training_run import training_run_totals
from infraplan.training import PlanArrays
from infraplan.training.flops import model_flops_per_step

# every stack here but DeepSpeed and torchtitan, whose fixed cuts give stages of two sizes (hT47: torchtitan's units)
EVEN_SPLIT_STACKS = (None, "megatron-core-0.8", "nemo-24.12")


def _tokens_per_step(kw: dict) -> int:
    return kw["global_batch"] * kw["seq_len"]


@METAMORPHIC
@given(catalog_plans(stacks=EVEN_SPLIT_STACKS), st.integers(1, 3))
def test_more_layers_never_take_less_time(drawn, extra) -> None:
    """k x PP more layers of the model's main kind on every stage: a longer step, more FLOPs per token."""
    model, system, kw = drawn
    shape = load_model(model)
    name = f"{shape.name}-hX1"  # both shapes renamed alike: no per-model recipe or cache tells them apart
    base_shape = shape.model_copy(update={"name": name})
    deeper = shape.model_copy(update={"name": name, "num_layers": shape.num_layers + extra * kw["pp"] * kw["vpp"]})
    base, more = train(base_shape, system, **kw), train(deeper, system, **kw)
    assert more.step_time_s >= base.step_time_s * (1 - TOLERANCE)
    assert more.step_time_s > base.step_time_s  # the added layers run on every stage
    per_token = [r.model_tflops_per_gpu * kw["gpus"] * r.step_time_s / _tokens_per_step(kw) for r in (base, more)]
    assert per_token[1] > per_token[0]


@METAMORPHIC
@given(catalog_plans(stacks=EVEN_SPLIT_STACKS))
def test_longer_sequence_never_takes_less_time(drawn) -> None:
    """Twice the sequence on the same plan: a step at least as long, activations at least as large. DeepSpeed's
    balanced split is left out (hX1's report): it moves a layer between stages as the layer-to-head time ratio
    changes, the DP exposure is priced on the heaviest stage only, and qwen3-32b TP4 PP4 DP2 ZeRO-3 on H100 came
    out 0.32 % faster at 2,048 tokens than at 1,024 (its heaviest stage went from 16 layers + LM head to 17 layers,
    whose longer backward hides more of the DP traffic)."""
    model, system, kw = drawn
    base = train(model, system, **kw)
    longer = train(model, system, **{**kw, "seq_len": 2 * kw["seq_len"]})
    assert longer.step_time_s >= base.step_time_s * (1 - TOLERANCE)
    assert longer.memory_breakdown_bytes.activations >= base.memory_breakdown_bytes.activations
    assert longer.memory_breakdown_bytes.weights == base.memory_breakdown_bytes.weights


@METAMORPHIC
@given(catalog_plans(), st.sampled_from([2, 3]))
def test_bigger_global_batch_never_takes_less_time(drawn, factor) -> None:
    """More micro-batches on the same plan: a step at least as long; tokens/s never more than the batch grew."""
    model, system, kw = drawn
    base = train(model, system, **kw)
    bigger = train(model, system, **{**kw, "global_batch": factor * kw["global_batch"]})
    assert bigger.step_time_s >= base.step_time_s * (1 - TOLERANCE)
    assert bigger.tokens_per_s <= base.tokens_per_s * factor * (1 + TOLERANCE)


@METAMORPHIC
@given(catalog_plans(systems=("dgx-h100-superpod", "gb200-nvl72-superpod", "meta-genai-roce-24k")),
       st.floats(1.0, 100.0))
def test_more_tokens_never_lower_gpu_hours(drawn, factor) -> None:
    model, system, kw = drawn
    result = train(model, system, **kw)
    tokens = 1e3 * _tokens_per_step(kw)
    few = training_run_totals(result, system, tokens)
    many = training_run_totals(result, system, tokens * factor)
    assert many.gpu_hours >= few.gpu_hours * (1 - TOLERANCE)
    assert many.time_to_train_s >= few.time_to_train_s * (1 - TOLERANCE)
    assert many.energy_mwh >= few.energy_mwh * (1 - TOLERANCE)
    assert many.gpu_hours * many.goodput >= kw["gpus"] * tokens * factor / result.tokens_per_s / 3600 * (1 - 1e-9)


@METAMORPHIC
@given(st.sampled_from(["llama3-8b", "qwen3-32b", "mixtral-8x7b", "deepseek-v3", "gpt-oss-20b", "gpt3-175b"]),
       st.sampled_from([64, 256, 1024]), st.sampled_from([1024, 4096, 32768]))
def test_wider_model_never_has_fewer_flops_per_token(model, wider, seq_len) -> None:
    shape = load_model(model)
    plan = PlanArrays.build(tp=1, pp=1, dp=1, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=1, seq_len=seq_len,
                            recompute=0, zero=0, dtype=0)
    base = model_flops_per_step(shape, plan)[0]
    wide = model_flops_per_step(shape.model_copy(update={"hidden_size": shape.hidden_size + wider}), plan)[0]
    assert wide > base
