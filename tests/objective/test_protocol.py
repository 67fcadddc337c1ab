"""The problem protocol: a user-written problem runs through every landscape tool (docs/protocol.md)."""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

import nc_verify as ncv
from nc_verify.objective.protocol import ManifoldProblem, as_point, blocks, check_problem

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
EPS = np.finfo(np.float64).eps


@pytest.fixture(scope="module")
def SphereEnergy():
    code = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    namespace: dict = {}
    exec(compile(code[0], str(DOC), "exec"), namespace)     # the class exactly as documented
    return namespace["SphereEnergy"]


def _simplex():
    return np.array([[1, 1, -1, -1], [1, -1, 1, -1], [1, -1, -1, 1]]) / np.sqrt(3)


def test_the_documented_problem_implements_the_protocol(SphereEnergy):
    p = SphereEnergy(3, 4, 1.0)
    assert isinstance(p, ManifoldProblem)
    assert check_problem(p) is p
    with pytest.raises(TypeError, match="lacks .*hessian_operator"):
        check_problem(object())


def test_derivatives_of_the_documented_problem(SphereEnergy):
    """The page's hand-written gradient and Hessian agree with central differences along the retraction."""
    p = SphereEnergy(4, 5, 0.7)
    rng = np.random.default_rng(0)
    X = p.random_point(rng)
    from nc_verify.objective.oblique import project_columns, retract
    V = project_columns(X, rng.standard_normal(X.shape))
    V /= np.linalg.norm(V)
    t = 1e-4
    f = [p.cost(*retract((X,), (V,), s * t)) for s in (-1.0, 0.0, 1.0)]
    slope = (f[2] - f[0]) / (2 * t)
    curvature = (f[2] - 2 * f[1] + f[0]) / t**2
    # central differences: O(t^2) truncation (~1e-8 relative) and eps f / t^2 rounding (~1e-8 at t = 1e-4)
    assert abs(slope - np.sum(p.riemannian_gradient(X) * V)) <= 1e-6
    assert abs(curvature - np.sum(p.hessian_operator(X)(V) * V)) <= 1e-5
    # negative control: the Hessian without its curvature term misses by far more than the tolerance
    wrong = project_columns(X, p._ehess(X, V))
    assert abs(curvature - np.sum(wrong * V)) > 1e-2


def test_the_documented_session(SphereEnergy):
    """The page's second block: the tetrahedron is the global minimiser, the search finds saddles."""
    p = SphereEnergy(3, 4, 1.0)
    rep = ncv.classify_critical_point(p, _simplex())
    assert rep.kind == "global_minimizer", rep.reason
    # the Jensen bound is attained: gap at rounding level (m + 2 d tau) eps f
    assert abs(rep.gap) <= (4 + 2 * 3 * 1.0) * EPS * p.bound * 4
    assert rep.n_zero == rep.orbit_dimension == 3
    search = ncv.find_critical_points(p, n_starts=100, seed=0)
    kinds = [ncv.classify_critical_point(p, *q.point).kind for q in search.points]
    assert "global_minimizer" in kinds and "strict_saddle" in kinds
    assert "spurious_local_minimizer" not in kinds
    # a perturbed minimiser is not critical: the classifier does not call everything critical
    bad = _simplex() + 1e-3 * np.arange(12).reshape(3, 4)
    assert ncv.classify_critical_point(p, bad / np.linalg.norm(bad, axis=0)).kind == "not_critical"


def test_block_helpers():
    p = ncv.UFMProblem(4, 3, 1, 1.0)
    W, H = p.random_point(0)
    assert len(as_point(p, W, H)) == 2
    assert blocks(W)[0] is W and len(blocks((W, H))) == 2
    with pytest.raises(TypeError, match="has 2 block"):
        as_point(p, W)
