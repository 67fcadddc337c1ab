"""The symmetry quotient of the rank-3 chart (``K = 3``): a fundamental domain and its discard test.

Problem (4) is invariant under relabelling the classes together with their samples and under
reordering the samples within a class (both are permutations of the columns of ``(W, H)``:
isometries of the product of spheres that preserve ``f``).  The prover keeps one representative
per orbit of that group (``docs/prover.md``, Lemma 13):

* classes: the pairwise inner products ``p_kl = w_k . w_l`` are ordered,
  ``p_12 >= p_13 >= p_23`` (``S_3`` acts on the three pairs as on the edges of a triangle, so some
  relabelling sorts them);
* samples within a class (``n >= 2``): the azimuth coordinates are ordered,
  ``t_{h_j} <= t_{h_{j+1}}`` for consecutive samples ``j, j + 1`` of one class.

A box that lies *entirely* outside this set is a leaf labelled ``symmetry`` with the violated
inequality as its data (``{"pair": 0}``: ``p_12 < p_13`` on the box; ``{"pair": 1}``:
``p_13 < p_23``; ``{"samples": [j, j + 1]}``: ``t_{h_j} > t_{h_{j+1}}``).  The same formulas run on
numpy intervals (the prover, a batch of boxes) and on flint balls (the checker, one box).

Chart coordinates (:class:`~.chart.SphereChart`): ``w_1 = e_1``, ``w_2 = (cos phi_2, sin phi_2, 0)``,
``w_3 = (cos u_3 cos phi_3, cos u_3 sin phi_3, sin u_3)`` with ``phi_2 = 2 pi/3 + a_2``,
``phi_3 = -2 pi/3 + t_3``.  So ``p_12 = cos phi_2``, ``p_13 = cos u_3 cos phi_3``,
``p_23 = cos u_3 cos(phi_3 - phi_2)``, and the differences are enclosed in product form
(no subtraction of two enclosures of nearly equal numbers):

* ``p_12 - p_13 = -2 sin((phi_2 + phi_3)/2) sin((phi_2 - phi_3)/2) + 2 sin^2(u_3/2) cos phi_3``;
* ``p_13 - p_23 = -2 cos u_3 sin(phi_3 - phi_2/2) sin(phi_2/2)``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from .enclosures import shifted_trig

LABEL = "symmetry"

STATEMENT = ("Relabelling the classes with their samples and reordering the samples within a class are isometries "
             "of the manifold that preserve f, so they map critical points to critical points of the same type; "
             "every orbit meets the set p_12 >= p_13 >= p_23 (p_kl = w_k . w_l) with t_{h_j} <= t_{h_j+1} within "
             "each class, and a 'symmetry' leaf contains no point of that set.")
LEMMA = {"name": "Lemma 13 (symmetry quotient, K = 3)", "statement": STATEMENT}


def applies(chart) -> bool:
    """Whether the quotient is available on ``chart`` (the rank-3 chart, ``K = 3``)."""
    return getattr(chart, "kind", None) == "sphere3" and chart.K == 3


def pair_differences(bk, x):
    """Enclosures of ``p_12 - p_13`` and ``p_13 - p_23`` on a box of the rank-3 chart.

    Parameters
    ----------
    bk : backend (:mod:`.intervals`)
    x : list of backend numbers
        At least the first three chart coordinates ``a_2, u_3, t_3``.

    Returns
    -------
    (d1, d2) : backend numbers
    """
    a2, u3, t3 = x[0], x[1], x[2]
    third = Fraction(1, 3)
    # (phi_2 + phi_3)/2 = (a_2 + t_3)/2 exactly; (phi_2 - phi_3)/2 = (a_2 - t_3)/2 + 2 pi/3
    s_sum = shifted_trig(bk, (a2 + t3) * 0.5, Fraction(0))[1]
    s_dif = shifted_trig(bk, (a2 - t3) * 0.5, 2 * third)[1]
    c_phi3 = shifted_trig(bk, t3, -2 * third)[0]
    s_half_u = bk.sin(u3 * 0.5)
    d1 = -(s_sum * s_dif) * 2.0 + bk.sqr(s_half_u) * c_phi3 * 2.0
    # phi_3 - phi_2/2 = t_3 - a_2/2 - pi; phi_2/2 = a_2/2 + pi/3
    s_a = shifted_trig(bk, t3 - a2 * 0.5, Fraction(-1))[1]
    s_b = shifted_trig(bk, a2 * 0.5, third)[1]
    d2 = -(bk.cos(u3) * (s_a * s_b)) * 2.0
    return d1, d2


def sample_pairs(chart):
    """``[(i, i2)]``: coordinate indices of the azimuths ``t_{h_j}, t_{h_{j+1}}`` of consecutive samples of
    one class (the ordering condition of the sample permutations)."""
    out = []
    labels = chart.labels
    cols = chart.columns()
    K = chart.K
    for j in range(chart.N - 1):
        if labels[j] == labels[j + 1]:
            out.append((cols[K + j][1], cols[K + j + 1][1]))
    return out


def outside_batch(bk, chart, lo, hi):
    """Boxes of a batch that lie entirely outside the fundamental domain (numpy intervals).

    Parameters
    ----------
    lo, hi : ndarray, shape (B, dim)

    Returns
    -------
    mask : ndarray of bool, shape (B,)
    data : list of B dicts or None
        The violated inequality (``{"pair": 0 | 1}`` or ``{"samples": [j, j + 1]}``).
    """
    from .intervals import IA
    B = lo.shape[0]
    x = [IA(lo[:, i], hi[:, i]) for i in range(3)]
    d1, d2 = pair_differences(bk, x)
    data = [None] * B
    mask = np.zeros(B, dtype=bool)
    for which, dd in ((0, d1), (1, d2)):
        hit = (np.broadcast_to(dd.hi, (B,)) < 0.0) & ~mask
        for b in np.nonzero(hit)[0]:
            data[b] = {"pair": which}
        mask |= hit
    for j, (i1, i2) in enumerate(sample_pairs(chart)):
        hit = (lo[:, i1] > hi[:, i2]) & ~mask
        for b in np.nonzero(hit)[0]:
            data[b] = {"samples": [_sample_index(chart, i1), _sample_index(chart, i2)]}
        mask |= hit
    return mask, data


def _sample_index(chart, coord):
    return (coord - 4) // 2


def check_leaf(bk, chart, data, lo, hi):
    """Re-verify a ``symmetry`` leaf in the checker's backend: ``(ok, why)``.

    ``lo``, ``hi`` are the box (floats, exact); the data names the inequality that must fail on
    the whole box.
    """
    if not applies(chart):
        return False, "the symmetry quotient exists on the rank-3 chart (K = 3) only"
    if set(data) == {"pair"} and data["pair"] in (0, 1) and not isinstance(data["pair"], bool):
        x = [bk.interval(lo[i], hi[i]) for i in range(3)]
        dd = pair_differences(bk, x)[data["pair"]]
        return bk.is_neg(dd), f"p_kl difference {data['pair']} not < 0 on the box"
    if set(data) == {"samples"} and isinstance(data["samples"], list) and len(data["samples"]) == 2:
        j, j2 = data["samples"]
        if not all(isinstance(z, int) and not isinstance(z, bool) for z in (j, j2)):
            return False, "invalid certificate data: 'samples' must be two sample indices"
        pairs = {(_sample_index(chart, i1), _sample_index(chart, i2)): (i1, i2) for i1, i2 in sample_pairs(chart)}
        if (j, j2) not in pairs:
            return False, f"samples {j}, {j2} are not consecutive samples of one class"
        i1, i2 = pairs[(j, j2)]
        return lo[i1] > hi[i2], f"t of sample {j} not > t of sample {j2} on the whole box"
    return False, f"invalid certificate data for a symmetry leaf: {data!r}"
