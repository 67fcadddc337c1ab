"""Layer 3: the paper's claims as checks with three-state verdicts.

Derivative checks (eqs. (5)-(8) against autograd and Taylor expansions), Theorem 1,
Theorem 2 (enumeration plus classification), and probes of the conjectures outside
Theorem 2's assumptions.
"""
