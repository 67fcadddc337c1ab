"""Certified verdicts in ball arithmetic (extra ``certify``: ``pip install "nc-verify[certify]"``).

python-flint is imported only when a certificate is computed, so ``import nc_verify``
works without it; a missing python-flint raises an ``ImportError`` naming the extra.

* :func:`certify_strict_saddle` -- negative curvature along an exact direction.
* :func:`certify_minimum` -- PSD Hessian with kernel exactly the O(d) orbit's tangent space.
* :func:`exact_point`, :func:`exact_family` -- the exact points certificates are about.
* :func:`prove_critical_all_tau`, :func:`all_tau_polynomial` -- statements for every temperature.
"""

from nc_verify.certify.alltau import (
    AllTauCertificate,
    CriticalityProof,
    all_tau_polynomial,
    prove_critical_all_tau,
)
from nc_verify.certify.certificates import (
    MINIMUM_STATUSES,
    SADDLE_STATUSES,
    Certificate,
    CriticalityEvidence,
    Enclosure,
    certify_minimum,
    certify_strict_saddle,
)
from nc_verify.certify.exact import (
    ExactDirection,
    ExactPoint,
    exact_family,
    exact_point,
)

__all__ = [
    "AllTauCertificate", "Certificate", "CriticalityEvidence", "CriticalityProof", "Enclosure",
    "ExactDirection", "ExactPoint", "MINIMUM_STATUSES", "SADDLE_STATUSES", "all_tau_polynomial",
    "certify_minimum", "certify_strict_saddle", "exact_family", "exact_point", "prove_critical_all_tau",
]
