"""Layer 2: tools for the landscape of any problem of the problem protocol.

Rounding levels (every threshold), the dense spectrum and extreme eigenpairs of the
Riemannian Hessian, Newton / Levenberg-Marquardt root-finders (serial, and batched for
problem (4)), the span reduction and embedding of critical points, classification of a
critical point, pymanopt solvers with a second-order escape, the point records with
hashed deduplication, and the multi-start search.  Imports
from :mod:`nc_verify.objective` and :mod:`nc_verify.utils` only.
"""
