"""The planar chart: angle coordinates of a rank-<=2 configuration, gauge fixed.

A configuration whose columns all lie in one 2-plane ``S`` is, after choosing an
orthonormal basis of ``S``, a list of angles: ``w_k = (cos alpha_k, sin alpha_k)``,
``h_j = (cos phi_j, sin phi_j)``, and ``M_kj = tau cos(alpha_k - phi_j)``.  The
rotation gauge is fixed by ``alpha_1 = 0`` and the reflection ``(x, y) -> (x, -y)``
(which fixes ``w_1``) by ``alpha_2 in [0, pi]``.

Coordinates are measured from the ETF slice point, so that the ETF is the exact
float point 0:

* ``alpha_k = pi * o_k + a_k`` with ``o = (0, 1)`` for ``K = 2`` (antipodal) and
  ``o = (0, 2/3, -2/3)`` for ``K = 3`` (three unit vectors at 120 degrees);
* ``phi_j = pi * o_{y_j} + t_j`` (the ETF has ``h_j = w_{y_j}``).

Domain (closed box, bounds rounded outwards so that it contains the exact one):
``a_2 in [-pi o_2, pi (1 - o_2)]`` (that is ``alpha_2 in [0, pi]``), ``a_k in [-pi, pi]``
(``k >= 3``), ``t_j in [-pi, pi]``, and ``tau in [tau_lo, tau_hi]`` when the
temperature is an interval.  Coordinate vector ``x = (a_2, ..., a_K, t_1, ..., t_N[, tau])``.

Why the chart meets every orbit: see ``docs/prover.md`` (Lemma 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .intervals import NUMPY, PI_HI

ETF_OFFSETS = {2: (Fraction(0), Fraction(1)), 3: (Fraction(0), Fraction(2, 3), Fraction(-2, 3))}


@dataclass(frozen=True)
class _Chart:
    """The sizes and temperature interval every chart shares, and what follows from them."""

    K: int
    n: int
    tau_lo: float
    tau_hi: float

    @property
    def N(self) -> int:
        return self.K * self.n

    @property
    def labels(self) -> np.ndarray:
        return np.repeat(np.arange(self.K), self.n)

    @property
    def offsets(self):
        """ETF angles of the classifiers in units of ``pi`` (exact rationals), length K."""
        return ETF_OFFSETS[self.K]

    @property
    def tau_is_coordinate(self) -> bool:
        return self.tau_hi > self.tau_lo


@dataclass(frozen=True)
class PlanarChart(_Chart):
    """Gauge-fixed angle chart of the planar (rank <= 2) problem.

    Parameters
    ----------
    K : int
        Number of classes (2 or 3: the ETF must be planar).
    n : int
        Samples per class; ``N = K n`` and ``y_j = j // n``.
    tau_lo, tau_hi : float
        The temperature interval (``tau_lo == tau_hi`` for one temperature).
    """

    @property
    def n_angles(self) -> int:
        """Number ``m = K - 1 + N`` of angle coordinates."""
        return self.K - 1 + self.N

    @property
    def dim(self) -> int:
        """Box dimension: ``m`` plus one when ``tau`` is an interval."""
        return self.n_angles + int(self.tau_is_coordinate)

    @property
    def names(self) -> list:
        nm = [f"a{k + 1}" for k in range(1, self.K)] + [f"t{j + 1}" for j in range(self.N)]
        return nm + (["tau"] if self.tau_is_coordinate else [])

    def domain(self):
        """``(lo, hi)`` float arrays of shape (dim,): a box containing the exact chart domain."""
        o2 = self.offsets[1]
        if o2 == 1:                          # K = 2: alpha_2 = pi + a_2 in [0, pi]
            lo, hi = [-PI_HI], [0.0]
        else:                                # alpha_2 = pi o_2 + a_2 in [0, pi]
            lo = [float(NUMPY.pi_multiple(-o2).lo)]
            hi = [float(NUMPY.pi_multiple(1 - o2).hi)]
        lo += [-PI_HI] * (self.K - 2 + self.N)
        hi += [PI_HI] * (self.K - 2 + self.N)
        if self.tau_is_coordinate:
            lo.append(self.tau_lo)
            hi.append(self.tau_hi)
        return np.array(lo), np.array(hi)

    def etf_point(self) -> np.ndarray:
        """The ETF slice point in chart coordinates (angles 0), shape (m,)."""
        return np.zeros(self.n_angles)

    def to_matrices(self, x, d: int = 2):
        """Float ``(W, H)`` of shapes (d, K), (d, N) at chart angles ``x`` (length >= m), in the
        first two coordinates of ``R^d``."""
        x = np.asarray(x, dtype=float)
        a = np.concatenate([[0.0], x[: self.K - 1]])
        alpha = np.pi * np.array([float(o) for o in self.offsets]) + a
        phi = np.pi * np.array([float(self.offsets[y]) for y in self.labels]) + x[self.K - 1: self.n_angles]
        W = np.zeros((d, self.K))
        H = np.zeros((d, self.N))
        W[0], W[1] = np.cos(alpha), np.sin(alpha)
        H[0], H[1] = np.cos(phi), np.sin(phi)
        return W, H

    def to_json(self) -> dict:
        return {"kind": "planar_angles", "K": self.K, "n": self.n, "tau": [self.tau_lo, self.tau_hi],
                "offsets_over_pi": [str(o) for o in self.offsets], "coordinates": self.names}


@dataclass(frozen=True)
class SphereChart(_Chart):
    """Gauge-fixed chart of the rank-<=3 problem in ``R^3`` (``K = 3``), for ``d = 3`` and,
    with the normal block, every ``d >= 4``.

    Columns are ``w_1 = e_1``, ``w_2 = (cos phi, sin phi, 0)`` and, for ``w_3`` and every
    ``h_j``, ``v(u, phi) = (cos u cos phi, cos u sin phi, sin u)``; ``phi = pi theta_0 + t`` with
    ``theta_0`` the column's ETF angle (``o = (0, 2/3, -2/3)``, ``h_j`` that of its class), so that the
    ETF slice point (on the equator) is the float point 0.  Inner products:
    ``w_k . h_j = cos u_k cos u_j cos(phi_k - phi_j) + sin u_k sin u_j``.

    Coordinates ``x = (a_2, u_3, t_3, u_{h_1}, t_{h_1}, ..., u_{h_N}, t_{h_N})``; domain
    ``a_2 in [-2 pi/3, pi/3]`` (``phi_2 in [0, pi]``), ``u_3 in [0, pi/2]`` (the reflection
    ``z -> -z`` fixes ``w_1, w_2``), ``u_{h_j} in [-pi/2, pi/2]``, ``t in [-pi, pi]``.  Why it meets every
    orbit, and why the discard tests stay sound although the chart is not an isometry:
    ``docs/prover.md`` (Lemma 7).
    """

    kind = "sphere3"

    @property
    def n_angles(self) -> int:
        return 3 + 2 * self.N

    @property
    def dim(self) -> int:
        return self.n_angles + int(self.tau_is_coordinate)

    @property
    def names(self) -> list:
        nm = ["a2", "u3", "t3"] + [f"{c}{j + 1}" for j in range(self.N) for c in ("uh", "th")]
        return nm + (["tau"] if self.tau_is_coordinate else [])

    def columns(self):
        """Per column (``w_1..w_K, h_1..h_N``): ``(u index or None, t index or None, theta_0)``."""
        off = self.offsets
        cols = [(None, None, off[0]), (None, 0, off[1]), (1, 2, off[2])]
        cols += [(3 + 2 * j, 4 + 2 * j, off[y]) for j, y in enumerate(self.labels)]
        return cols

    def exact_domain(self):
        """Exact domain bounds in units of ``pi`` (Fractions), one pair per angle coordinate."""
        F = Fraction
        return ([(-self.offsets[1], 1 - self.offsets[1]), (F(0), F(1, 2)), (F(-1), F(1))] +
                [(F(-1, 2), F(1, 2)), (F(-1), F(1))] * self.N)

    def domain(self):
        lo = [float(NUMPY.pi_multiple(a).lo) for a, _ in self.exact_domain()]
        hi = [float(NUMPY.pi_multiple(b).hi) for _, b in self.exact_domain()]
        if self.tau_is_coordinate:
            lo.append(self.tau_lo)
            hi.append(self.tau_hi)
        return np.array(lo), np.array(hi)

    def etf_point(self) -> np.ndarray:
        return np.zeros(self.n_angles)

    def to_matrices(self, x, d: int = 3):
        """Float ``(W, H)`` of shapes (d, K), (d, N) at chart coordinates ``x``, in the first three
        coordinates of ``R^d``."""
        x = np.asarray(x, dtype=float)
        V = np.zeros((d, self.K + self.N))
        for c, (iu, it, th) in enumerate(self.columns()):
            u = 0.0 if iu is None else x[iu]
            phi = np.pi * float(th) + (0.0 if it is None else x[it])
            V[:3, c] = np.cos(u) * np.cos(phi), np.cos(u) * np.sin(phi), np.sin(u)
        return V[:, : self.K], V[:, self.K:]

    def describe(self, x) -> dict:
        """Column angles in degrees (``phi`` azimuth, ``u`` elevation) at chart coordinates ``x``."""
        wrap = lambda z: (z + 180.0) % 360.0 - 180.0
        out = {"phi": [], "u": []}
        for iu, it, th in self.columns():
            out["u"].append(0.0 if iu is None else math.degrees(x[iu]))
            out["phi"].append(wrap(math.degrees(math.pi * float(th) + (0.0 if it is None else x[it]))))
        return out

    def to_json(self) -> dict:
        return {"kind": self.kind, "K": self.K, "n": self.n, "tau": [self.tau_lo, self.tau_hi],
                "offsets_over_pi": [str(o) for o in self.offsets], "coordinates": self.names}
