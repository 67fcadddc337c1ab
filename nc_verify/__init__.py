"""nc-verify: the theorems of "Neural Collapse with Normalized Features" (Yaras et al., 2022) as code.

Problem (4) -- cross-entropy over unit-norm classifiers and features -- with its
Riemannian derivatives (eqs. (5)-(8)), pymanopt solvers, neural-collapse metrics and
numerical checks of Theorems 1 and 2.
"""

from .geometry import etf_point, random_orthogonal, simplex_etf
from .metrics import NCMetrics, nc_metrics
from .regularized import RegularizedUFM, minimize_regularized
from .problem import HessianOperator, UFMProblem, theorem1_bound, theorem2_tau_limit
from .solvers import OPTIMIZERS, SolveResult, solve

__version__ = "0.1.0"

__all__ = [
    "HessianOperator",
    "NCMetrics",
    "OPTIMIZERS",
    "SolveResult",
    "RegularizedUFM",
    "UFMProblem",
    "etf_point",
    "minimize_regularized",
    "nc_metrics",
    "random_orthogonal",
    "simplex_etf",
    "solve",
    "theorem1_bound",
    "theorem2_tau_limit",
]
