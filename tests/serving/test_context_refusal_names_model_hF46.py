"""A request beyond a model's context named Llama 3.1's 131,072 tokens whatever the model was (hF46): the refusal
names the model served, and no other."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.serving.workloads import require_context


def test_the_context_refusal_names_the_model_not_llama_3_1() -> None:
    with pytest.raises(InputError) as error:
        require_context(4097, "deepseek-v3", 4096)
    line = str(error.value)
    assert "Llama 3.1" not in line and "131,072" not in line
    assert "exceeds deepseek-v3's context of 4096" in line and "longer-context variant of deepseek-v3" in line
    require_context(4096, "deepseek-v3", 4096)  # at the context: served
