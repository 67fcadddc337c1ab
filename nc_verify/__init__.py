"""nc-verify: the theorems of "Neural Collapse with Normalized Features" (Yaras et al., 2022) as code.

Problem (4) -- cross-entropy over unit-norm classifiers and features -- with its
Riemannian derivatives (eqs. (5)-(8)), pymanopt solvers, neural-collapse metrics and
numerical checks of Theorems 1 and 2.
"""

from nc_verify.certify import (
    Certificate,
    certify_minimum,
    certify_strict_saddle,
    exact_family,
    exact_point,
)
from nc_verify.certify.prover import LandscapeProof, ProofCheck, check_landscape_proof, prove_landscape
from nc_verify.checks.derivatives import DerivativeReport, check_derivatives
from nc_verify.checks.probes import ProbeReport, probe, recheck_counterexample
from nc_verify.checks.theorem1 import Theorem1Report, verify_theorem1
from nc_verify.checks.theorem2 import Theorem2Report, verify_theorem2
from nc_verify.landscape.classify import CriticalPointReport, classify_critical_point
from nc_verify.landscape.search import CriticalPointSearch, find_critical_points
from nc_verify.landscape.solvers import OPTIMIZERS, SolveResult, solve
from nc_verify.landscape.spectrum import (
    TangentBasis,
    hessian_matrix,
    hessian_spectrum,
    min_hessian_eigenpair,
    tangent_basis,
)
from nc_verify.objective.closed_forms import theorem1_bound, theorem2_tau_limit
from nc_verify.objective.families import critical_point_families
from nc_verify.objective.frames import etf_point, random_orthogonal, simplex_etf
from nc_verify.objective.losses import (
    CrossEntropy,
    FocalLoss,
    LabelSmoothingCE,
    Loss,
    LossState,
    SquaredError,
    get_loss,
)
from nc_verify.objective.metrics import NCMetrics, nc_metrics
from nc_verify.objective.oblique import symmetry_orbit_dimension
from nc_verify.objective.problem import HessianOperator, UFMProblem
from nc_verify.objective.protocol import ManifoldProblem
from nc_verify.objective.regularized import RegularizedUFM, minimize_regularized
from nc_verify.objective.supcon import SupConProblem

__version__ = "0.1.0"

#: Module paths of 0.1.0 and where they live now (see :func:`__getattr__`).
MOVED_MODULES = {
    "losses": "nc_verify.objective.losses", "geometry": "nc_verify.objective.frames",
    "problem": "nc_verify.objective.problem", "supcon": "nc_verify.objective.supcon",
    "regularized": "nc_verify.objective.regularized", "metrics": "nc_verify.objective.metrics",
    "families": "nc_verify.objective.families", "rounding": "nc_verify.landscape.rounding",
    "spectrum": "nc_verify.landscape.spectrum", "classification": "nc_verify.landscape.classify",
    "solvers": "nc_verify.landscape.solvers", "critical_points": "nc_verify.landscape.search",
    "derivatives": "nc_verify.checks.derivatives", "theorem1": "nc_verify.checks.theorem1",
    "theorem2": "nc_verify.checks.theorem2", "probes": "nc_verify.checks.probes",
    "experiments": "nc_verify.runs.experiments", "sweep": "nc_verify.runs.sweep",
}


def __getattr__(name):
    """``nc_verify.families`` and the other 0.1.0 module paths: the moved module, with a DeprecationWarning."""
    if name in MOVED_MODULES:
        import importlib
        import warnings

        warnings.warn(f"nc_verify.{name} moved to {MOVED_MODULES[name]}; the old path will be removed "
                      "in a future release", DeprecationWarning, stacklevel=2)
        return importlib.import_module(MOVED_MODULES[name])
    raise AttributeError(f"module 'nc_verify' has no attribute {name!r}")


__all__ = [
    "check_landscape_proof",
    "prove_landscape",
    "LandscapeProof",
    "ProofCheck",
    "certify_minimum",
    "certify_strict_saddle",
    "check_derivatives",
    "classify_critical_point",
    "critical_point_families",
    "etf_point",
    "exact_family",
    "exact_point",
    "find_critical_points",
    "get_loss",
    "hessian_matrix",
    "hessian_spectrum",
    "min_hessian_eigenpair",
    "minimize_regularized",
    "nc_metrics",
    "OPTIMIZERS",
    "probe",
    "random_orthogonal",
    "recheck_counterexample",
    "simplex_etf",
    "solve",
    "symmetry_orbit_dimension",
    "tangent_basis",
    "theorem1_bound",
    "theorem2_tau_limit",
    "verify_theorem1",
    "verify_theorem2",
    "Certificate",
    "CriticalPointReport",
    "CriticalPointSearch",
    "CrossEntropy",
    "DerivativeReport",
    "FocalLoss",
    "HessianOperator",
    "LabelSmoothingCE",
    "Loss",
    "LossState",
    "ManifoldProblem",
    "NCMetrics",
    "ProbeReport",
    "RegularizedUFM",
    "SolveResult",
    "SquaredError",
    "SupConProblem",
    "TangentBasis",
    "Theorem1Report",
    "Theorem2Report",
    "UFMProblem",
]
