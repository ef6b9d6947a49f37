"""Hand mutants of session 58 (hG) over `ops.layer`: the training layer's element-wise bytes under sequence
parallelism. Korthikanti et al. 2022 (arXiv:2205.05198, sec. 4.2.2): with SP the layer norms, dropouts and residual
adds run on the sequence shard s / t; the module's count is 10 h bf16 values a token for them (`ops.layer`
docstring). Pricing them on every token (SP dropped from that term) survived tests/ops and was caught only by the
search-equals-a-loop check in tests/training, where the search's own layer terms disagreed.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.ops.layer import Layout, layer_ops
from infraplan.ops.params import ACT_BYTES


def _main_pass_bytes(sequence_parallel: bool, tp: int) -> float:
    shape = load_model("gpt3-175b")
    ops = layer_ops(shape, Layout(tokens=2048.0, tp=tp, sequence_parallel=sequence_parallel, seq_len=2048))
    (main,) = [e for e in ops.elementwise_fwd if e.role == "norms_residuals_rotary_activation"]
    return float(main.bytes)


@pytest.mark.parametrize("tp", [2, 8])
def test_sequence_parallel_norms_and_residuals_run_on_the_sequence_shard(tp: int) -> None:
    h = load_model("gpt3-175b").hidden_size
    # the rotary and activation terms do not depend on SP; the 10 h of norms / dropout / residuals go to 10 h / t
    saved = _main_pass_bytes(False, tp) - _main_pass_bytes(True, tp)
    assert saved == pytest.approx(ACT_BYTES * 10.0 * 2048.0 * h * (1.0 - 1.0 / tp), rel=1e-12)
