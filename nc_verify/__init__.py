"""nc-verify: the theorems of "Neural Collapse with Normalized Features" (Yaras et al., 2022) as code.

Problem (4) -- cross-entropy over unit-norm classifiers and features -- with its
Riemannian derivatives (eqs. (5)-(8)), pymanopt solvers, neural-collapse metrics and
numerical checks of Theorems 1 and 2.
"""

from .derivatives import DerivativeReport, check_derivatives
from .geometry import etf_point, random_orthogonal, simplex_etf
from .metrics import NCMetrics, nc_metrics
from .losses import CrossEntropy, FocalLoss, LabelSmoothingCE, Loss, LossState, SquaredError, get_loss
from .probes import ProbeReport, probe, recheck_counterexample
from .supcon import SupConProblem
from .problem import HessianOperator, UFMProblem, theorem1_bound, theorem2_tau_limit
from .solvers import OPTIMIZERS, SolveResult, solve
from .theorem1 import Theorem1Report, verify_theorem1

__version__ = "0.1.0"

__all__ = [
    "CrossEntropy",
    "FocalLoss",
    "LabelSmoothingCE",
    "Loss",
    "LossState",
    "ProbeReport",
    "SquaredError",
    "SupConProblem",
    "get_loss",
    "probe",
    "recheck_counterexample",
    "DerivativeReport",
    "Theorem1Report",
    "check_derivatives",
    "verify_theorem1",
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
