"""`mlp_only_layers` entries that are no layer index, said by hF65's one check (hS, session 65's review):

* `[null]` slipped past it (its search for the first bad entry defaulted to None, so a null entry read as "none
  bad") and `_moe_layers`' `int(None)` failed later: "model config ... is invalid: int() argument must be a string,
  a bytes-like object or a real number, not 'NoneType'". Now the check's own line.
* a quoted index `["1"]` was said as "got 1", which reads as a valid index; now "got '1'"."""

from __future__ import annotations

from typing import Any

import pytest
from tests.catalog.test_moe_placement_keys_hL64 import _preset, _read

from infraplan.errors import InputError


@pytest.mark.parametrize(("entries", "said"), [([None], "None"), ([2, None], "None"), (["1"], "'1'"),
                                                ("abc", "'abc'"), ([3, 1e300], "1e+300")])
def test_a_non_index_entry_is_refused_by_the_lists_check(entries: Any, said: str) -> None:
    with pytest.raises(InputError) as caught:
        _read(_preset("qwen3-30b-a3b", mlp_only_layers=entries))
    assert str(caught.value) == (f"model config 'copy': mlp_only_layers must list layer indices from 0 to 47, got "
                                 f"{said}")
