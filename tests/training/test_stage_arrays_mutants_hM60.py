"""Mutants of hE60's `pipeline_partition.stage_arrays` (hM, session 60), the one broadcast of a stage split's inputs
that the fixed cut, the even split and DualPipe's pairs share: four float64 arrays of one shape, each input in its
place, whichever of them is an array."""

from __future__ import annotations

import numpy as np

from infraplan.training.pipeline_partition import stage_arrays


def test_one_shape_in_float64_whichever_input_is_an_array() -> None:
    layer = np.array([1.0 + 1e-12, 2.0, 3.0])  # a step a float32 would lose
    for args in ((4, layer, 0.5, 0.25), (np.array([2, 4, 8]), 1.0 + 1e-12, 0.5, 0.25),
                 (np.array([[2], [4]]), layer, np.array([0.5, 0.6, 0.7]), 0.25)):
        p, t, e, h = stage_arrays(*args)
        shape = np.broadcast_shapes(*(np.shape(a) for a in args))
        assert [x.shape for x in (p, t, e, h)] == [shape] * 4
        assert all(x.dtype == np.float64 for x in (p, t, e, h))
        np.testing.assert_array_equal(p, np.broadcast_to(np.asarray(args[0], dtype=np.float64), shape))
        np.testing.assert_array_equal(e, np.broadcast_to(args[2], shape))
        np.testing.assert_array_equal(h, np.broadcast_to(args[3], shape))
        assert float(t.flat[0]) > 1.0  # the layer's seconds as given (1 + 1e-12 is 1.0 in float32)
