"""Seeds are checked where every random function takes them: a clear error naming the parameter."""

import numpy as np
import pytest

from nc_verify.utils.validation import as_rng, check_seed


def test_check_seed_boundary():
    assert check_seed(0) == 0 and check_seed(np.int64(7)) == 7 and check_seed(None) is None
    g = np.random.default_rng(1)
    assert check_seed(g) is g
    with pytest.raises(ValueError, match=r"seed must be an integer >= 0 .* got -1"):
        check_seed(-1)                                 # the boundary: 0 allowed, -1 refused
    with pytest.raises(TypeError, match="seed must be"):
        check_seed(1.5)
    with pytest.raises(TypeError, match="seed must be"):
        check_seed(True)


def test_as_rng_names_the_parameter():
    with pytest.raises(ValueError, match="rng/seed must be an integer >= 0"):
        as_rng(-3)                                     # numpy said only "expected non-negative integer"
    assert as_rng(5).integers(10**9) == np.random.default_rng(5).integers(10**9)
