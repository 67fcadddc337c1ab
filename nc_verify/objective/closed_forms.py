"""The theorems' closed forms: Theorem 1's bound, Theorem 2's temperature limit and its assumptions."""

from __future__ import annotations

import numpy as np

from nc_verify.utils.validation import check_int, check_positive_float


def theorem1_bound(K: int, tau: float) -> float:
    """Theorem 1 lower bound ``log(1 + (K-1) exp(-K tau / (K-1)))`` on ``f`` (for ``d >= K``).

    Evaluated with ``log1p`` so it keeps its relative accuracy for large ``tau``.
    """
    K = check_int(K, "K", 2)
    tau = check_positive_float(tau, "tau")
    return float(np.log1p((K - 1) * np.exp(-K * tau / (K - 1))))


def theorem2_tau_limit(d: int, K: int) -> float:
    """Theorem 2's temperature limit ``2 (d - 2) / (1 + (K mod 2) / K)``."""
    d = check_int(d, "d", 2)
    K = check_int(K, "K", 2)
    return 2.0 * (d - 2) / (1.0 + (K % 2) / K)


def theorem2_assumptions_hold(d: int, K: int, tau: float) -> bool:
    """Whether Theorem 2 covers ``(d, K, tau)``: ``d > K`` and ``tau < 2 (d - 2) / (1 + (K mod 2) / K)``.

    Outside (``d <= K``, or ``tau`` at or above the limit) a run is a probe of the
    paper's conjecture, never a check of the theorem.
    """
    d = check_int(d, "d", 2)
    K = check_int(K, "K", 2)
    tau = check_positive_float(tau, "tau")
    return bool(d > K and tau < theorem2_tau_limit(d, K))
