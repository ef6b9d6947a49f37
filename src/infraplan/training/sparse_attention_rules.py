"""DeepSeek Sparse Attention (DeepSeek-V3.2's lightning indexer, `ops.sparse_attention`) as a training stack's framework
ships it (`Stack.sparse_attention`, with its `sparse_attention_source`): whether a DSA model trains on the stack at all,
and whether it does at context parallelism (CP > 1).

* Which frameworks ship it (the PyPI wheels read, hN61): megatron-core first ships DSA in 0.16.0
  (megatron/core/transformer/experimental_attention_variant/dsa.py; `experimental_attention_variant: dsa` and the
  `dsa_indexer_*` fields, transformer_config.py:250-269); 0.15.3 and every wheel before it have no
  experimental_attention_variant/ and no indexer anywhere. So the Megatron-LM 2021 / 2022, NeMo 23.05 (megatron-core
  0.1-0.2), NeMo 24.12 (0.10.0) and megatron-core 0.8 presets ship none; nemo-26.04 (megatron-core 0.16.1) does.
  torchtitan 0.3.0 runs a DSA model only through experiments/transformers_modeling_backend, the top-k selection a
  dense additive mask over full attention (model.py:171-185) and refused under TP (hf_sharding.py:284-303): not the
  sparse core priced here. DeepSpeed 0.14.4 and Meta's Llama 3 stack (2024) predate DSA (Sep 2025). DeepSeek's own
  stack trained DeepSeek-V3.2-Exp (its report, recalled). A DSA model on a stack that ships none is refused
  (`check_sparse_attention`, one InputError line, at `train` and `search` alike), as Muon is on a stack without it
  (`catalog.stack_framework_rules.optimizer_refusal`).
* Context parallelism: megatron-core 0.16.0 to 0.18.2 assert CP 1 under DSA ("Currently context parallelism is not
  supported by DSAttention!": transformer_config.py:1987-1990 in 0.16.0, :2543-2545 in 0.18.0 / 0.18.2); 0.19.0 runs
  it with cp_comm_type allgather only (transformer_config.py:2837-2852, dsa.py:1805-1808): every CP rank all-gathers
  the MLA key and value (dsa.py:1831-1848) and the indexer's key, bf16 [s / CP, b, index_head_dim] to the whole
  sequence (dsa.py:1979-1986, under enable_grad while the indexer loss trains it: its backward a reduce-scatter of
  the key's gradient). A DSA plan at CP > 1 on a stack with `dsa` does not run: `train` refuses it and `search`
  prunes it (`dsa_cp_refused`, read by `plan_rules.framework_refusals`). Where it runs (`dsa-allgather-cp`, or a
  stack naming none), the indexer keys' gather is priced beside the K/V exchange (`ops.sparse_attention.
  index_key_gather_bytes`, `ops.layer`); the K/V exchange keeps the CP pricing of every model (the decompressed
  heads' K and V; 0.19's absorbed DSA path gathers the 576-wide latent instead: not modelled, said in a note).
`DSA_STACK_RULES` False: every stack prices DSA at any CP, unchecked (before hN61).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack, list_stacks, load_stack
from infraplan.errors import InputError
from infraplan.ops.sparse_attention import is_sparse
from infraplan.training.plan import PlanArrays

DSA_STACK_RULES = True  # the stack's `sparse_attention` read (module docstring); False: unchecked, as before hN61
# what each command's user can do about it (`plan_rules.framework_refusals`): `search` has no --cp to name
DSA_CP_FIX = {"train": "use CP 1, or a stack file (extends: the stack) with sparse_attention: dsa-allgather-cp and "
                       "its source (megatron-core >= 0.19.0)",
              "search": "search keeps CP 1 for DSA models on this stack"}


def check_sparse_attention(profile: Stack, shape: TransformerShape) -> None:
    """One InputError line where `shape` has DeepSeek Sparse Attention's indexer and `profile`'s framework ships none
    (`Stack.sparse_attention` none; module docstring); nothing for a dense model or a stack that ships it."""
    if not DSA_STACK_RULES or not is_sparse(shape) or profile.sparse_attention != "none":
        return
    ships = [name for name in list_stacks() if load_stack(name).sparse_attention not in (None, "none")]
    raise InputError(f"{shape.name} trains with DeepSeek Sparse Attention (a lightning indexer, index_topk "
                     f"{shape.index_topk}): stack {profile.name} ships none ({profile.sparse_attention_source}); "
                     f"stacks that ship it: {', '.join(ships)}")


def dsa_cp_refused(shape: TransformerShape, plan: PlanArrays, stack: Stack | None) -> Any:
    """Where a DSA model's plan runs CP > 1 on a stack whose DSA refuses it (`Stack.sparse_attention` dsa), per plan
    (one plan: a bool); plain False where the rule cannot apply (a dense model, no stack, or one that runs it)."""
    if not DSA_STACK_RULES or stack is None or not is_sparse(shape) or stack.sparse_attention != "dsa":
        return False
    return plan.cp > 1


def dsa_cp_reason(stack: Stack | None) -> str:
    """Why `dsa_cp_refused`'s plans do not run, citing the stack's `sparse_attention_source`."""
    if stack is None:
        return "DeepSeek Sparse Attention at CP > 1"
    return (f"DeepSeek Sparse Attention does not run with context parallelism on stack {stack.name} (sparse_attention "
            f"{stack.sparse_attention}: {stack.sparse_attention_source})")


def sparse_attention_stack_notes(profile: Stack, shape: TransformerShape, cp: int) -> list[str]:
    """What `train` says of a DSA model's plan under its stack: a stack that names no `sparse_attention` (priced
    unchecked), and, at CP > 1, what the context-parallel exchange prices (module docstring)."""
    if not DSA_STACK_RULES or not is_sparse(shape):
        return []
    notes = []
    if profile.sparse_attention is None:
        notes.append(f"stack {profile.name} names no sparse_attention: DeepSeek Sparse Attention priced unchecked "
                     f"(megatron-core ships it from 0.16.0, at CP > 1 from 0.19.0)")
    if cp > 1:
        notes.append(f"DeepSeek Sparse Attention at CP {cp}: the indexer's keys all-gathered over CP each layer "
                     "(bf16, megatron-core 0.19.0 dsa.py:1979-1986) beside the K/V exchange, priced as every model's "
                     "(the decompressed heads; 0.19's absorbed path gathers the MLA latent: not modelled)")
    return notes
