"""Which certificate runs for which point, and what each certificate status means as a verdict state.

The command line (``nc-verify certify``) and scripts share this policy: the global
minimum (family ``global_etf``, or ``minimum=True``) gets :func:`certify_minimum`,
every other point :func:`certify_strict_saddle`.
"""

from __future__ import annotations

from nc_verify.utils.reports import FAIL, PASS, UNDECIDED

#: Verdict state of each certificate status: "certified" passes; a proved refutation
#: of the claim ("not_critical", "not_minimum") fails; "not_negative" (positive
#: curvature proved along the one direction tried: the point may still be a saddle)
#: and "undecided" are undecided.
CERTIFICATE_STATES = {"certified": PASS, "not_critical": FAIL, "not_minimum": FAIL,
                      "not_negative": UNDECIDED, "undecided": UNDECIDED}
MINIMUM_FAMILY = "global_etf"
#: ``(d, K, n, tau)`` certified when no size is given: inside Theorem 2's assumptions (d > K),
#: with K even so that the cross-polytope family exists.
DEFAULT_SIZE = (6, 4, 2, 1.0)


def certificate_state(cert):
    """The :class:`~nc_verify.utils.reports.State` of a certificate (:data:`CERTIFICATE_STATES`)."""
    return CERTIFICATE_STATES.get(cert.status, UNDECIDED)


def certification_plan(problem, *, family=None, point=None, minimum: bool = False) -> list:
    """``[(claim, target)]`` to certify: claim "minimum" or "saddle"; target a family name or an ``ExactPoint``.

    ``family="all"`` plans every exact family of ``problem``
    (:func:`~nc_verify.objective.families.critical_point_families`).
    """
    if (family is None) == (point is None):
        raise ValueError("give exactly one of family (a family name or 'all') and point")
    if point is not None:
        return [("minimum" if minimum else "saddle", point)]
    if family == "all":
        from nc_verify.objective.families import critical_point_families

        return [("minimum" if name == MINIMUM_FAMILY else "saddle", name) for name in critical_point_families(problem)]
    return [("minimum" if minimum or family == MINIMUM_FAMILY else "saddle", family)]
