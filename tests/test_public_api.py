"""The public names of 0.1.0 stay importable from ``nc_verify`` (a contract)."""

import importlib

import pytest

import nc_verify

#: Every name the 0.1.0 README's API tour used, as ``nc_verify.<name>``.
NAMES_0_1 = [
    "Certificate", "CriticalPointReport", "CriticalPointSearch", "CrossEntropy", "DerivativeReport",
    "FocalLoss", "HessianOperator", "LabelSmoothingCE", "Loss", "LossState", "NCMetrics", "OPTIMIZERS",
    "ProbeReport", "RegularizedUFM", "SolveResult", "SquaredError", "SupConProblem", "TangentBasis",
    "Theorem1Report", "Theorem2Report", "UFMProblem", "certify_minimum", "certify_strict_saddle",
    "check_derivatives", "classify_critical_point", "critical_point_families", "etf_point", "exact_family",
    "exact_point", "find_critical_points", "get_loss", "hessian_matrix", "hessian_spectrum",
    "min_hessian_eigenpair", "minimize_regularized", "nc_metrics", "probe", "random_orthogonal",
    "recheck_counterexample", "simplex_etf", "solve", "symmetry_orbit_dimension", "tangent_basis",
    "theorem1_bound", "theorem2_tau_limit", "verify_theorem1", "verify_theorem2",
]


@pytest.mark.parametrize("name", NAMES_0_1)
def test_name_still_imports(name):
    assert name in nc_verify.__all__
    assert getattr(nc_verify, name) is not None


@pytest.mark.parametrize("old, new", sorted(nc_verify.MOVED_MODULES.items()))
def test_moved_modules_warn_and_resolve(old, new):
    with pytest.warns(DeprecationWarning, match=f"nc_verify.{old} moved to {new}"):
        module = getattr(nc_verify, old)
    assert module is importlib.import_module(new)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        nc_verify.nonsense    # noqa: B018
