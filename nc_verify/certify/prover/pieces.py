"""A temperature range proved in pieces: each piece a checked proof, the union re-assembled.

:func:`prove_tau_pieces` proves the landscape at ``(K, n)`` for every ``tau`` in each interval
``[b_i, b_{i+1}]`` of a list of breakpoints (exact rationals, decimal strings read exactly);
:func:`check_tau_pieces` re-checks every piece from its file alone
(:func:`~.proof.check_landscape_proof`) and verifies that the pieces state the same problem and
that their exact temperature intervals chain into one interval, so that the statement holds for
every ``tau`` in the union (``docs/prover.md``, "A temperature range in pieces").
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from dataclasses import dataclass
from fractions import Fraction

from .proof import LandscapeProof, exact_tau, format_exact_tau, check_landscape_proof, prove_landscape


def _breakpoints(breakpoints):
    if not isinstance(breakpoints, (list, tuple)) or len(breakpoints) < 2:
        raise ValueError(f"breakpoints must be a list of at least two temperatures, got {breakpoints!r}")
    qs = [exact_tau(b, f"breakpoints[{i}]") for i, b in enumerate(breakpoints)]
    if any(b <= a for a, b in zip(qs, qs[1:])):
        raise ValueError(f"breakpoints must increase strictly, got {breakpoints!r}")
    return qs


def prove_tau_pieces(K, n, breakpoints, *, out_dir=None, progress=None, **kwargs):
    """Prove the landscape for every ``tau`` in ``[b_0, b_last]``, one piece ``[b_i, b_{i+1}]`` at a time.

    Parameters
    ----------
    K, n : int
        As :func:`~.proof.prove_landscape`.
    breakpoints : list of real or decimal string
        Strictly increasing temperatures (read exactly, in ``(0, TAU_MAX]``).
    out_dir : path or None
        If given, piece ``i`` is saved there as ``piece_{i:02d}.json`` (created first).
    progress : callable or None
        Called as ``progress(i, proof)`` after each piece.
    **kwargs
        Passed to :func:`~.proof.prove_landscape` (``d``, ``loss``, ``max_boxes`` per piece, ...).

    Returns
    -------
    list of LandscapeProof
        One per piece, in order (``tau_exact`` the piece's exact ends).
    """
    qs = _breakpoints(breakpoints)
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable(i, proof) or None")
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
    proofs = []
    for i, (a, b) in enumerate(zip(qs, qs[1:])):
        p = prove_landscape(K, n, (str(a), str(b)), **kwargs)
        if out_dir is not None:
            p.save(os.path.join(out_dir, f"piece_{i:02d}.json"))
        proofs.append(p)
        if progress is not None:
            progress(i, p)
    return proofs


@dataclass
class TauPiecesCheck:
    """Outcome of :func:`check_tau_pieces`.

    Attributes
    ----------
    valid : bool
        Every piece is a valid proof, all state the same problem, and their temperature
        intervals chain (each starts at or before the end of the union so far).
    status : {"proved", "not_proved", "invalid"}
        ``"proved"``: valid and every piece proved; then the statement holds for every ``tau`` in
        ``tau_exact``.
    tau_exact : (Fraction, Fraction) or None
        The union of the pieces' exact temperature intervals.
    pieces : list of ProofCheck
    message : str
    """

    valid: bool
    status: str
    tau_exact: object
    pieces: list
    message: str

    def __str__(self):
        return self.message


def _check_piece(proof, batched=True):
    """Load a piece once and re-check it: ``(ProofCheck, (K, n, d, loss, stratum), tau_exact)``, the
    statement read from the same data the checker verified."""
    pr = proof if isinstance(proof, LandscapeProof) else LandscapeProof.load(proof)
    return check_landscape_proof(pr, batched=batched), (pr.K, pr.n, pr.d, pr.loss, pr.stratum), pr.tau_exact


def check_tau_pieces(proofs, *, workers=None, batched=True) -> TauPiecesCheck:
    """Re-check proofs of temperature pieces and assemble them.

    Parameters
    ----------
    proofs : list of path or LandscapeProof
        The pieces, in any order.
    workers : int or None
        Processes re-checking pieces at the same time (each piece is an independent proof);
        ``None`` or 1: one after the other in this process.  The verdict does not depend on it.
    batched : bool
        As in :func:`~.proof.check_landscape_proof` (``False``: every leaf in flint balls).

    Returns
    -------
    TauPiecesCheck

    Raises
    ------
    ProofFileError
        A file that is not a proof (as :func:`~.proof.check_landscape_proof`).
    """
    if not isinstance(proofs, (list, tuple)) or not proofs:
        raise ValueError("proofs must be a non-empty list of proof files or LandscapeProof objects")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive integer or None, got {workers!r}")
    if workers is None or workers == 1 or len(proofs) == 1:
        results = [_check_piece(p, batched) for p in proofs]
    else:
        with cf.ProcessPoolExecutor(max_workers=min(workers, len(proofs))) as pool:
            results = list(pool.map(_check_piece, proofs, [batched] * len(proofs)))   # in the order given
    checks = [r[0] for r in results]

    def fail(msg):
        return TauPiecesCheck(False, "invalid", None, checks, f"invalid: {msg}")
    bad = [i for i, c in enumerate(checks) if not c.valid]
    if bad:
        return fail(f"piece {bad[0]} is not a valid proof: {checks[bad[0]].message}")
    problem = {r[1] for r in results}
    if len(problem) != 1:
        return fail(f"the pieces state different problems (K, n, d, loss, stratum): {sorted(map(str, problem))}")
    ivs = []
    for r in results:
        t = r[2]
        ivs.append((Fraction(t[0]), Fraction(t[1])) if isinstance(t, list) else (Fraction(t), Fraction(t)))
    order = sorted(range(len(ivs)), key=lambda i: ivs[i])
    lo, hi = ivs[order[0]]
    for i in order[1:]:
        a, b = ivs[i]
        if a > hi:
            return fail(f"a gap: no piece covers ({format_exact_tau(str(hi))}, {format_exact_tau(str(a))})")
        hi = max(hi, b)
    statuses = {c.status for c in checks}
    status = "proved" if statuses == {"proved"} else "not_proved"
    span = f"every tau in [{format_exact_tau(str(lo))}, {format_exact_tau(str(hi))}]"
    if status == "proved":
        msg = f"valid: {len(checks)} pieces re-checked; together they prove {span}"
    else:
        open_ = [i for i, c in enumerate(checks) if c.status != "proved"]
        msg = f"valid, not proved: {len(open_)} of {len(checks)} pieces not proved (first: piece {open_[0]}); {span}"
    return TauPiecesCheck(True, status, (lo, hi), checks, msg)
