"""Hand mutants of session 58 (hG) over `training.pipeline_split_rule`: the rule a mutant changed and no test stated
(validation/notes/product_review_tried.md, "hG (session 58)").

* Megatron-Core's even split needs the layers divisible by PP and each stage's by VP (megatron-core 0.16.1
  transformer_block.py:155-157 and :174-177): 32 layers on PP 4 x VPP 3 leave 8 layers a stage, not a multiple of
  3 chunks. A rule reading PP alone (`% pp`, both the array and the one-plan test) was caught only incidentally:
  by a communicator-buffer ranking test and, without that one, by an estimate-speed test.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training
from infraplan.training.pipeline_split_rule import split_refused, split_refuses


def test_even_split_needs_each_stage_divisible_by_its_virtual_stages() -> None:
    # 32 layers: PP 4 x VPP 2 (4 layers a chunk) and PP 8 x VPP 4 (1) split; PP 4 x VPP 3 and PP 8 x VPP 3 do not
    assert [split_refuses(32, p, v, ()) for p, v in ((4, 2), (8, 4), (4, 3), (8, 3))] == [False, False, True, True]
    refused = split_refused(32, np.array([4, 8, 4, 8]), np.array([2, 4, 3, 3]), ())
    assert refused.tolist() == [False, False, True, True]
    with pytest.raises(InputError, match="PP 4 x VPP 3 = 12 model chunks for 32 layers"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 32, tp=8, pp=4, vpp=3, global_batch=64)
