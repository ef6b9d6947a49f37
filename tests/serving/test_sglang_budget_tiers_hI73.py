"""SGLang's default chunked-prefill budget by GPU memory at its tier edges (hI73 mutant of
`ServingEngine.budget_on`: `memory >= at_least` flipped to `>` passed the hG72 tests, which read B200 and H100 only).

sglang 0.5.6.post2 srt/server_args.py:752-833 `_handle_gpu_memory_settings` (0.5.9 :935-996 the same), as
catalog/stacks/sglang-0.x.yaml cites it: gpu_mem < 35 GiB: 2048, < 60 GiB: 4096, < 160 GiB: 8192, else 16384 (MiB as
nvidia-smi reports them). So a GPU of exactly 35, 60 or 160 GiB takes the upper tier, one MiB less the lower one.
"""

from __future__ import annotations

import pytest

from infraplan.serving.engines import load_engine

GIB, MIB = 2**30, 2**20


@pytest.mark.parametrize(("gib", "below", "at"), [(35, 2048, 4096), (60, 4096, 8192), (160, 8192, 16384)])
def test_a_tier_starts_at_its_own_memory(gib: int, below: int, at: int) -> None:
    sglang = load_engine("sglang-0.x")
    assert sglang.budget_on(gib * GIB - MIB) == below
    assert sglang.budget_on(gib * GIB) == at
    assert sglang.budget_on(gib * GIB, 4) == at // 4  # each of 4 attention-DP ranks chunks at the quotient
