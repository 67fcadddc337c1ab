"""Hypothesis strategies shared by the property tests: problem sizes and points on the manifold."""

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nc_verify import UFMProblem

finite = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False)


@st.composite
def problems(draw, d=(2, 30), K=(2, 10), n=(1, 5), tau=(0.01, 50.0), d_at_least_K=False):
    K_ = draw(st.integers(*K))
    lo = max(d[0], K_) if d_at_least_K else d[0]
    d_ = draw(st.integers(lo, max(lo, d[1])))
    n_ = draw(st.integers(*n))
    tau_ = draw(st.floats(*tau, allow_nan=False))
    return UFMProblem(d_, K_, n_, tau_)


def _unit_columns(draw, shape):
    X = draw(arrays(np.float64, shape, elements=finite))
    norms = np.linalg.norm(X, axis=0)
    assume(np.all(norms > 1e-3))
    return X / norms


@st.composite
def problems_and_points(draw, **kw):
    p = draw(problems(**kw))
    W = _unit_columns(draw, (p.d, p.K))
    H = _unit_columns(draw, (p.d, p.N))
    return p, W, H


def tangent(p, W, H, seed):
    return p.random_tangent(W, H, np.random.default_rng(seed))
