"""hR47 (session 45 review): `chunked_attention.decode_key_total` with drafts (`growth` tokens a decode step): no
test of hL48's set growth, so a sum that ignored it (the span of `steps` positions, not steps x growth) passed.

Hand counts, chunk C = 4: a request at context 0 decoding 2 steps of 2 tokens spans positions 0..3, whose keys in
the chunk (x mod 4) are 0 + 1 + 2 + 3 = 6, a mean of 1.5 a position, so 2 steps read 3 (the docstring's "the span's
mean a step"); at context 3 the span 3..6 reads 3 + 0 + 1 + 2 = 6, the same 3 over the chunk edge. One token a step
is exact: positions 3 and 4 read 3 + 0 = 3 keys.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.serving.chunked_attention import decode_key_total


@pytest.mark.parametrize(("context", "growth", "keys"), [(0, 2.0, 3.0), (3, 2.0, 3.0), (3, 1.0, 3.0), (0, 1.0, 1.0)])
def test_decode_keys_over_the_span_drafts_cover(context: int, growth: float, keys: float) -> None:
    assert decode_key_total(4, np.array([context]), np.array([2]), growth) == pytest.approx(keys)


def test_more_tokens_a_step_read_further_into_the_chunk() -> None:
    one, two = (decode_key_total(4, np.array([0]), np.array([2]), g) for g in (1.0, 2.0))
    assert (one, two) == (pytest.approx(1.0), pytest.approx(3.0))  # positions 0, 1 against the span 0..3
