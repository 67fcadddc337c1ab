"""Computer-assisted proof of Theorem 2's landscape at small sizes.

Exhaustive interval branch and bound over a gauge-fixed chart of the critical
points of problem (4), with a checker that re-verifies a saved proof with every function
value enclosed by python-flint's arb (in batches, or leaf by leaf in flint balls).
Mathematics: ``docs/prover.md``.

* :func:`prove_landscape` -- run the prover, returns a :class:`LandscapeProof`.
* :func:`check_landscape_proof` -- re-check a saved proof, returns a :class:`ProofCheck`
  (:class:`ProofFileError` for a file that is not a proof).
* :func:`check_prove_arguments` -- validate the arguments of :func:`prove_landscape` without work.
* :func:`prove_tau_pieces`, :func:`check_tau_pieces` -- a temperature range in pieces, each a
  checked proof, re-assembled.
* :func:`summary_lines` -- lines for a CLI.
"""

from .enclosures import PlantedWellLoss, ProverLoss, prover_loss
from .pieces import TauPiecesCheck, check_tau_pieces, prove_tau_pieces
from .proof import (
    DEFAULT_MAX_BOXES,
    DEFAULT_MIN_WIDTH,
    TAU_MAX,
    LandscapeProof,
    ProofCheck,
    ProofFileError,
    check_landscape_proof,
    check_prove_arguments,
    prove_landscape,
    summary_lines,
)

__all__ = [
    "DEFAULT_MAX_BOXES", "DEFAULT_MIN_WIDTH", "LandscapeProof", "PlantedWellLoss", "ProofCheck",
    "ProofFileError", "ProverLoss", "TAU_MAX", "TauPiecesCheck", "check_landscape_proof", "check_prove_arguments",
    "check_tau_pieces", "prove_tau_pieces", "prove_landscape", "prover_loss", "summary_lines",
]
