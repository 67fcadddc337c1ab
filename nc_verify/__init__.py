"""nc-verify: the theorems of "Neural Collapse with Normalized Features" (Yaras et al., 2022) as code.

Problem (4) -- cross-entropy over unit-norm classifiers and features -- with its
Riemannian derivatives (eqs. (5)-(8)), pymanopt solvers, neural-collapse metrics and
numerical checks of Theorems 1 and 2.
"""

from .certify import Certificate, certify_minimum, certify_strict_saddle, exact_family, exact_point
from .geometry import etf_point, random_orthogonal, simplex_etf
from .metrics import NCMetrics, nc_metrics
from .problem import HessianOperator, UFMProblem, theorem1_bound, theorem2_tau_limit
from .solvers import OPTIMIZERS, SolveResult, solve

__version__ = "0.1.0"

__all__ = [
    "Certificate",
    "certify_minimum",
    "certify_strict_saddle",
    "exact_family",
    "exact_point",
    "HessianOperator",
    "NCMetrics",
    "OPTIMIZERS",
    "SolveResult",
    "UFMProblem",
    "etf_point",
    "nc_metrics",
    "random_orthogonal",
    "simplex_etf",
    "solve",
    "theorem1_bound",
    "theorem2_tau_limit",
]
