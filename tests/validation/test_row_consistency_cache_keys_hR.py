"""The MoE and Blackwell sets' inconsistent-rows caches key on every constant the four rules read (hR, session 51,
review of 7642aa7): they keyed on four of eight (rule 2's and 4's toggles, rule 2's TPOT ratio, rule 3's toggle), so
a patched rule-4 TTFT ratio or rule-3 repeat ratio returned the rows cached under the default (the tests failed
before: rule 4's rows stayed flagged with its ratio at 10**9)."""

from __future__ import annotations

import pytest

from infraplan.validation import serving_blackwell, serving_hopper_moe
from infraplan.validation import serving_row_consistency as consistency


@pytest.mark.parametrize("module", [serving_hopper_moe, serving_blackwell])
@pytest.mark.parametrize(("ratio", "reason"), [("MONOTONE_TTFT_RATIO", consistency.EARLY_FIRST_TOKEN),
                                               ("REPEAT_RATIO", consistency.IRREPRODUCIBLE)])
def test_a_patched_ratio_is_not_served_the_cached_rows(module: object, ratio: str, reason: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    rows = module.inconsistent_rows()  # type: ignore[attr-defined]  # (cached under the defaults)
    flagged = {k for k, why in rows.items() if why.startswith(reason[:60])}
    if not flagged:
        pytest.skip(f"{module.__name__}: no row flagged by this rule at the default ratio")  # type: ignore[attr-defined]
    monkeypatch.setattr(consistency, ratio, 1e9)  # the rule flags nothing
    patched = module.inconsistent_rows()  # type: ignore[attr-defined]
    assert not any(why.startswith(reason[:60]) for why in patched.values())
    monkeypatch.undo()
    assert module.inconsistent_rows() == rows  # type: ignore[attr-defined]
