"""Points given to the public entries must be real: complex, boolean and object arrays are refused."""

import numpy as np
import pytest

from nc_verify import UFMProblem, classify_critical_point, nc_metrics
from nc_verify.landscape.degenerate import classify_point
from nc_verify.landscape.points import save_point
from nc_verify.objective import families as F


def _entries(p):
    return {
        "cost": lambda W, H: p.cost(W, H),
        "gradient": lambda W, H: p.riemannian_gradient(W, H),
        "classify_critical_point": lambda W, H: classify_critical_point(p, W, H),
        "classify_point": lambda W, H: classify_point(p, W, H),
        "nc_metrics": lambda W, H: nc_metrics(W, H, p.labels),
    }


@pytest.mark.parametrize("make, what", [
    (lambda X: X + 1e-3j, "complex"),          # was accepted with the imaginary part dropped
    (lambda X: X + 0j, "complex"),             # even with a zero imaginary part: the type is wrong
    (lambda X: X.astype(object), "object"),
    (lambda X: X != 0, "bool"),
])
def test_non_real_points_are_type_errors(make, what, tmp_path):
    p = UFMProblem(4, 3, 2, 1.0)
    W, H = F.global_etf(p)
    for name, entry in _entries(p).items():
        with pytest.raises(TypeError, match=rf"^W must be a real array .*{what}"):
            entry(make(W), H)
        with pytest.raises(TypeError, match=rf"^H must be a real array .*{what}"):
            entry(W, make(H))
    with pytest.raises(TypeError, match="^W must be a real array"):
        save_point(tmp_path / "x.npz", make(W), H)


def test_real_arrays_still_accepted():
    p = UFMProblem(4, 3, 2, 1.0)
    W, H = F.global_etf(p)
    assert p.cost(W.tolist(), H) == p.cost(W, H)
    I = np.eye(4, 3, dtype=np.int64)             # integer entries are real
    assert np.isfinite(UFMProblem(4, 3, 1, 1.0).cost(I, I))
