"""``nc-verify verify``: the derivative checks and Theorems 1 and 2 at one size, with their defaults.

The defaults live here, not in the command line: :data:`VERIFY_SIZE` is chosen so that
the Theorem 2 search saturates (see :func:`verify_all`) in seconds on a 2-core machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from nc_verify.checks.derivatives import DerivativeReport, check_derivatives
from nc_verify.checks.theorem1 import Theorem1Report, verify_theorem1
from nc_verify.checks.theorem2 import (
    Theorem2Report,
    check_theorem2_budget,
    verify_theorem2,
)
from nc_verify.landscape.search import DEFAULT_MAX_STARTS
from nc_verify.objective.problem import UFMProblem
from nc_verify.utils.progress import Progress
from nc_verify.utils.reports import FAIL, PASS, UNDECIDED, Report
from nc_verify.utils.threads import blas_threads_for

#: Default ``(d, K, n, tau)`` of ``nc-verify verify`` and ``nc-verify theorem2``: the Theorem 2 search saturates
#: (the last new critical point comes within the first half of the starts) after 400
#: starts, 14 distinct points (measured, seed 0).
VERIFY_SIZE = (5, 3, 1, 1.0)
#: Default search budget of the Theorem 2 check: None, until saturated (at most
#: :data:`~nc_verify.landscape.search.DEFAULT_MAX_STARTS` starts).
VERIFY_STARTS = None


@dataclass
class VerifyReport(Report):
    """The reports of :func:`verify_all`; its rows are theirs, in order."""

    derivatives: DerivativeReport
    theorem1: Theorem1Report
    theorem2: Theorem2Report

    def words(self):
        tail = "" if self.theorem2.mode == "check" else f" (Theorem 2 rows are a probe: {self.theorem2.verdict})"
        return {PASS: "all checks passed" + tail, FAIL: "SOME CHECKS FAILED" + tail,
                UNDECIDED: "undecided: some checks cannot be decided (see the undecided rows)" + tail}

    def rows(self):
        return self.derivatives.rows() + self.theorem1.rows() + self.theorem2.rows()


def verify_all(d=VERIFY_SIZE[0], K=VERIFY_SIZE[1], n=VERIFY_SIZE[2], tau=VERIFY_SIZE[3], *, seed=0,
               n_starts=VERIFY_STARTS, progress=None, max_starts: int = DEFAULT_MAX_STARTS) -> VerifyReport:
    """Derivative checks (eqs. (5)-(8)), Theorem 1 and Theorem 2 at ``(d, K, n, tau)``.

    Parameters
    ----------
    d, K, n : int
        Sizes; Theorem 1 needs ``d >= K``.  With ``d <= K`` (or ``tau`` past the limit)
        the Theorem 2 rows are a probe (:func:`~nc_verify.objective.closed_forms.theorem2_assumptions_hold`).
    tau : float
    seed : int
    n_starts : int or None
        Theorem 2 search starts; None: until saturated (at most ``max_starts``).
    progress : bool or None
        Progress on stderr (True: also when stderr is not a terminal).
    max_starts : int
        Cap of the search with ``n_starts=None``
        (:data:`~nc_verify.landscape.search.DEFAULT_MAX_STARTS`).

    Raises
    ------
    ValueError
        Bad arguments (``seed`` included) or a size over the memory budget
        (:func:`~nc_verify.checks.theorem2.check_theorem2_budget`), before any work.

    Returns
    -------
    VerifyReport
    """
    problem = UFMProblem(d, K, n, tau)
    check_theorem2_budget(problem, seed=seed)
    with blas_threads_for(problem):
        with Progress(2, "verify: derivative checks, Theorem 1", enabled=progress) as bar:
            deriv = check_derivatives(problem, rng=seed)
            bar.update(postfix="derivative checks done")
            thm1 = verify_theorem1(d, K, n, tau, seed=seed)
            bar.update(postfix="Theorem 1 done")
        thm2 = verify_theorem2(d, K, n, tau, n_starts=n_starts, seed=seed, progress=progress, max_starts=max_starts)
    return VerifyReport(deriv, thm1, thm2)


__all__ = ["VERIFY_SIZE", "VERIFY_STARTS", "VerifyReport", "verify_all"]
