"""DeepSeek Sparse Attention as each training stack's framework ships it (`Stack.sparse_attention`,
`training.sparse_attention_rules`; hN61): a DSA model on a stack that ships none is one line, exit 2 (megatron-core
ships DSA from 0.16.0); at CP > 1 on a stack whose DSA asserts CP 1 (megatron-core 0.16-0.18) `train` refuses and
`search` prunes; where CP runs (megatron-core 0.19's allgather CP) the indexer keys' all-gather is priced."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import list_stacks, load_stack
from infraplan.cli import main
from infraplan.ops.layer import Layout, layer_ops
from infraplan.ops.sparse_attention import index_key_gather_bytes
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.plan import PlanArrays
from infraplan.training.sparse_attention_rules import dsa_cp_refused, sparse_attention_stack_notes

PLAN = ["--system", "h800", "--gpus", "128", "--tp", "8", "--ep", "16", "--seq-len", "32768", "--global-batch", "16",
        "--dtype", "bf16", "--recompute", "full", "--zero", "1"]
KW = dict(tp=8, ep=16, seq_len=32768, global_batch=16, dtype="bf16", recompute="full", zero=1)


def _error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


def test_every_shipped_training_stack_says_whether_it_ships_dsa() -> None:
    for name in list_stacks():
        stack = load_stack(name)
        if stack.kind == "training":
            assert stack.sparse_attention is not None and (stack.sparse_attention_source or "").strip(), name


@pytest.mark.parametrize("stack", ["megatron-core-0.8", "nemo-24.12", "torchtitan"])
def test_a_stack_without_dsa_refuses_the_model(capsys: pytest.CaptureFixture[str], stack: str) -> None:
    err = _error(capsys, "train", "deepseek-v3.2", *PLAN, "--stack", stack)
    assert f"stack {stack} ships none" in err and load_stack(stack).sparse_attention_source in err
    assert "nemo-26.04" in err  # a stack that ships it
    err = _error(capsys, "search", "deepseek-v3.2", "--system", "h800", "--gpus", "128", "--seq-len", "4096",
                 "--global-batch", "16", "--stack", stack)
    assert f"stack {stack} ships none" in err


def test_a_dense_model_trains_on_those_stacks() -> None:
    assert estimate_training("llama3-8b", "h800", 8, seq_len=4096, global_batch=8,
                             stack="megatron-core-0.8").step_time_s > 0


def test_dsa_at_cp_refused_where_megatron_core_asserts_cp_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "deepseek-v3.2", *PLAN, "--stack", "nemo-26.04", "--json"]) == 0
    capsys.readouterr()
    err = _error(capsys, "train", "deepseek-v3.2", *PLAN, "--cp", "4", "--stack", "nemo-26.04")
    assert "context parallelism on stack nemo-26.04" in err and "transformer_config.py:1987-1990" in err
    assert "use CP 1" in err
    # the mask: plans at CP > 1 of a DSA model only, on a stack with `dsa` only
    shape, dense = load_model("deepseek-v3.2"), load_model("deepseek-v3")
    plans = PlanArrays.build(tp=np.full(3, 8), pp=1, dp=4, cp=np.array([1, 2, 4]), ep=4, vpp=1, micro_batch=1,
                             global_batch=16, seq_len=32768, recompute=Recompute.FULL, zero=1, dtype=Dtype.BF16,
                             attention=Attention.FLASH, order=RankOrder.TP_CP_DP_PP)
    assert dsa_cp_refused(shape, plans, load_stack("nemo-26.04")).tolist() == [False, True, True]
    assert dsa_cp_refused(dense, plans, load_stack("nemo-26.04")) is False
    runs = load_stack("nemo-26.04").model_copy(update={"sparse_attention": "dsa-allgather-cp"})
    assert dsa_cp_refused(shape, plans, runs) is False and dsa_cp_refused(shape, plans, None) is False


def test_search_keeps_cp_1_for_dsa_on_such_a_stack(capsys: pytest.CaptureFixture[str]) -> None:
    main(["search", "deepseek-v3.2", "--system", "h800", "--gpus", "128", "--seq-len", "32768", "--global-batch",
          "16", "--stack", "nemo-26.04"])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "plans not proposed: DeepSeek Sparse Attention does not run with context parallelism" in text
    assert "search keeps CP 1 for DSA models" in text


def test_allgather_cp_prices_the_index_keys_gather(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """megatron-core 0.19.0 dsa.py:1979-1986: each CP rank all-gathers the indexer's bf16 key (index_head_dim per
    token) over the whole sequence, its gradient reduce-scattered: one more CP record each way, of those bytes."""
    shape = load_model("deepseek-v3.2")
    assert index_key_gather_bytes(shape) == shape.index_head_dim * 2.0
    assert index_key_gather_bytes(load_model("deepseek-v3")) == 0.0
    lay = Layout(tokens=8192.0, tp=8, cp=4, seq_len=32768, batch=1, sequence_parallel=True)
    ops, dense = layer_ops(shape, lay), layer_ops(load_model("deepseek-v3"), lay)
    keys = 32768 * shape.index_head_dim * 2.0  # the whole sequence's index keys (the layer kinds weighted by count)

    def cp_records(table: tuple, kind: str) -> list:  # type: ignore[type-arg]
        return [c for c in table if c.role == "cp" and c.kind == kind]

    for kind, table in (("all_gather", ops.collectives_fwd), ("reduce_scatter", ops.collectives_bwd)):
        index = [c for c in cp_records(table, kind) if c.bytes == pytest.approx(keys)]
        assert index and sum(c.count for c in index) == pytest.approx(1.0)  # one gather (scatter) a layer
        assert all(c.group == 4 and c.stride == 8 for c in index)
        assert len(cp_records(table, kind)) == 2 * len(index)  # beside each kind's K/V record
    assert not [c for c in cp_records(dense.collectives_fwd, "all_gather") if c.bytes == pytest.approx(keys)]
    served = layer_ops(shape, Layout(tokens=8192.0, tp=8, seq_len=32768, phase="inference"))
    assert not [c for c in cp_records(served.collectives_fwd, "all_gather") if c.bytes == pytest.approx(keys)]
    # a stack file that runs it (megatron-core >= 0.19.0) prices DSA at CP 4, with its note
    path = tmp_path / "mc019.yaml"
    path.write_text("extends: nemo-26.04\nname: mc019\nsparse_attention: dsa-allgather-cp\n"
                    "sparse_attention_source: megatron-core 0.19.0 dsa.py:1805-1808\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["train", "deepseek-v3.2", *PLAN, "--cp", "4", "--stack", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["breakdown_s"]["cp_comm"] > 0
    assert any("indexer's keys all-gathered over CP" in n for n in out["notes"])


def test_a_stack_naming_none_is_priced_with_a_note() -> None:
    unnamed = load_stack("nemo-26.04").model_copy(update={"sparse_attention": None, "sparse_attention_source": None})
    shape = load_model("deepseek-v3.2")
    notes = sparse_attention_stack_notes(unnamed, shape, 1)
    assert len(notes) == 1 and "names no sparse_attention" in notes[0]
    assert sparse_attention_stack_notes(load_stack("nemo-26.04"), shape, 1) == []
    assert sparse_attention_stack_notes(unnamed, load_model("deepseek-v3"), 4) == []
