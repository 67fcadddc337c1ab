"""Layer 1: the objectives and their derivatives.

The losses (the only softmax / log-sum-exp of the package), the oblique-manifold
helpers, problem (4) (:class:`~nc_verify.objective.problem.UFMProblem`, eqs. (5)-(8)),
the supervised contrastive problem, the regularised baseline, the simplex-ETF frames,
the neural-collapse metrics and the theorems' closed forms.  Imports only from
:mod:`nc_verify.utils`.
"""
