"""One rule for the batches next to a global batch no plan divides (hE60): `train`'s broken-rule message
(`plan_rules.broken_rule_values`) and `search`'s empty-grid reason (`search.no_valid_plan_reason`) each computed the
multiples either side; both now read `plan_rules.nearest_multiples`, so they name the same batches."""

from __future__ import annotations

import re

import pytest

from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training
from infraplan.training.plan_rules import nearest_multiples
from infraplan.training.search import no_valid_plan_reason


@pytest.mark.parametrize(("value", "step", "near"), [
    (100, 64, [64, 128]),  # one either side
    (10, 64, [64]),  # the one below is 0: only the one above
    (128, 64, [128]),  # a multiple itself
    (15360, 1152, [14976, 16128]),  # 13 and 14 x 1,152 (hU53's DeepSeek-V3 batch on 1,152 GB200)
])
def test_the_multiples_either_side(value: int, step: int, near: list[int]) -> None:
    assert nearest_multiples(value, step) == near


def test_train_and_search_name_the_same_batches_for_one_data_parallel_degree() -> None:
    with pytest.raises(InputError) as raised:
        estimate_training("llama3-8b", "h100-sxm", 64, tp=1, pp=1, global_batch=100)  # DP 64
    train_batches = re.search(r"nearest valid global batches: ([\d, ]+)$", str(raised.value))
    assert train_batches is not None
    search_batches = re.search(r"a multiple of 64 \(([\d, or]+)\)", no_valid_plan_reason(64, 100))
    assert search_batches is not None
    assert train_batches.group(1).split(", ") == search_batches.group(1).split(" or ") == ["64", "128"]
