"""Interval enclosures of problem (4) in the planar chart: gradient, Hessian, quadratic forms.

Every function takes a *backend* ``bk`` (:mod:`.intervals`: numpy intervals over a batch
of boxes, or flint balls for one box), the :class:`~.chart.PlanarChart`, the chart
coordinates ``x`` (a list of ``m`` backend numbers: ``a_2..a_K, t_1..t_N``) and the
temperature ``T`` (a backend number), and returns enclosures of the exact values
for every point of the box.

Formulas (planar problem; ``Delta_kj = alpha_k - phi_j``, ``c = cos Delta``, ``s = sin Delta``,
``M = tau c``, ``G = grad g(M)``, ``u_kj = tau s_kj``)
-------------------------------------------------------------------------------------
``dM_kj/dalpha_k = -u_kj``, ``dM_kj/dphi_j = u_kj``; ``d2 M_kj`` is ``-tau c_kj`` on
``(alpha_k, alpha_k)`` and ``(phi_j, phi_j)`` and ``+tau c_kj`` on ``(alpha_k, phi_j)``.

* chart gradient (Riemannian gradient, eqs. (5)-(6), along the slice's unit tangents):
  ``g[a_k] = -tau sum_j G_kj s_kj`` and ``g[t_j] = tau sum_k G_kj s_kj``
  (for shift-invariant losses ``= tau sum_{k != y_j} G_kj (s_kj - s_{y_j j})``).
* chart Hessian ``H = sum_j dM_j^T hess_j dM_j + sum G_kj d2 M_kj``.  The torus of angles
  is flat and the angles are arc-length coordinates, so ``v^T H v`` is exactly the
  Riemannian Hessian quadratic form of eqs. (7)-(8) along ``dw_k = v_{a_k} w_k^perp``,
  ``dh_j = v_{t_j} h_j^perp`` (``v_{a_1} = 0``).
* per-sample loss Hessians are given as ``hess_j = sum_{i<l} w^j_il (e_i - e_l)(e_i - e_l)^T
  + F_j`` (softmax losses: ``w_il = p_i p_l / N``, ``F = 0``; cancellation-free).
* normal block (directions ``dw_k = c_k u``, ``dh_j = e_j u`` with ``u`` normal to the
  plane; ``D = 0``): ``2 tau c^T G e - sum_k rowc_k c_k^2 - sum_j colc_j e_j^2`` with
  ``rowc = diag(M G^T)``, ``colc = diag(M^T G)`` (eq. (8)'s curvature terms).

The prover may be built with ``drop`` = ``"col_curvature"``: a deliberately wrong
Hessian that omits eq. (8)'s ``-<dH ddiag(M^T G), dH>`` term (negative control only;
the checker never uses it).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from nc_verify.objective.losses import (
    CrossEntropy,
    FocalLoss,
    LabelSmoothingCE,
    Loss,
    LossState,
    SoftmaxState,
    SquaredError,
    get_loss,
)

DROPPABLE = (None, "col_curvature")


# =================================================================== losses
class ProverLoss:
    """Interval enclosure of a loss of ``M`` for the prover (the prover's loss protocol).

    Subclasses define ``enclose(bk, T, c, labels, N) -> (G, pairs, full)``:

    * ``G`` -- K lists of N backend numbers, ``grad g(M)`` (with ``M = T c``);
    * ``pairs`` -- N dicts ``{(i, l): w_il}`` (``i < l``), the Laplacian part of
      ``hess_j`` (each ``w_il`` enclosed; may be empty);
    * ``full`` -- N K x K lists (or ``None``): the remaining part ``F_j`` of ``hess_j``.

    ``dc[(l, i)][j]`` encloses ``c_lj - c_ij`` (use it for logit differences
    ``M_lj - M_ij = T dc``, tighter than subtracting two enclosures).

    Attributes
    ----------
    spec : str
        Loss spec (as :func:`nc_verify.get_loss`), stored in proofs.
    shift_invariant : bool
        Columns of ``G`` sum to zero and ``hess_j`` annihilates ``1`` (softmax losses).
    """

    spec = "loss"
    shift_invariant = False

    def every_d_ok(self, tau_hi: float, K: int = 2):
        """``(ok, reason)``: whether the span reduction (Lemma 1 / 1') holds for every
        ``tau <= tau_hi`` with ``K`` classes (the off-target entries of ``G`` positive at every point)."""
        return False, f"loss {self.spec!r}: no proof that the columns of grad g(M) never vanish"

    def float_loss(self) -> Loss:
        """The :mod:`nc_verify.losses` object with the same ``g`` (for float checks)."""
        return get_loss(self.spec)


def _softmax_probs(bk, T, dc, j, K):
    """``p_i = 1 / (1 + sum_{l != i} exp(T (c_lj - c_ij)))`` for column ``j`` (each difference
    enclosed once, from the product form of ``c_l - c_i``)."""
    out = []
    for i in range(K):
        z = 1
        for l in range(K):
            if l != i:
                z = z + bk.exp(T * dc[(l, i)][j])
        out.append(bk.recip(z))
    return out


class SoftmaxEnclosure(ProverLoss):
    """Cross-entropy (``alpha = 0``) and label smoothing (targets ``(1-alpha) e_y + alpha/K``)."""

    shift_invariant = True

    def __init__(self, alpha: float = 0.0):
        self.alpha = float(alpha)

    @property
    def spec(self):
        return "cross_entropy" if self.alpha == 0.0 else f"label_smoothing:{self.alpha!r}"

    def every_d_ok(self, tau_hi: float, K: int = 2):
        # G_kj = (p_k - alpha/K)/N (k != y) with p_k >= 1/(1 + (K-1) e^{2 tau}) (|logit differences| <= 2 tau):
        # positive for every configuration when 1/(1 + (K-1) e^{2 tau}) > alpha/K, i.e.
        # 2 tau < log((K - alpha) / (alpha (K - 1))) (K = 2: log((2 - alpha) / alpha)).
        if self.alpha == 0.0:
            return True, "cross-entropy: p_o > 0, so G_oj = p_o / N != 0"
        lim = math.log((K - self.alpha) / (self.alpha * (K - 1))) / 2.0
        if tau_hi < lim * (1 - 1e-12):
            return True, (f"label smoothing: |logit differences| <= 2 tau < log((K-alpha)/(alpha (K-1))), so "
                          f"p_k > alpha/K and G_kj > 0 off target (K = {K}; needs tau < {lim:.6g})")
        return False, (f"label smoothing alpha={self.alpha}: for tau >= {lim:.6g} a column of grad g(M) can "
                       "vanish, and Lemma 1 (reduction to the plane) no longer applies")

    def enclose(self, bk, T, c, labels, N, dc=None):
        K = len(c)
        G = [[None] * N for _ in range(K)]
        pairs = []
        a_over_k = bk.const(self.alpha) / K if self.alpha else None
        for j in range(N):
            y = int(labels[j])
            p = _softmax_probs(bk, T, dc, j, K)
            q = 0
            for i in range(K):
                if i != y:
                    q = q + p[i]
                    G[i][j] = (p[i] - a_over_k) / N if self.alpha else p[i] / N
            G[y][j] = (a_over_k * (K - 1) - q) / N if self.alpha else -q / N
            pairs.append({(i, l): p[i] * p[l] / N for i in range(K) for l in range(i + 1, K)})
        return G, pairs, None

    def float_loss(self):
        return CrossEntropy() if self.alpha == 0.0 else LabelSmoothingCE(self.alpha)


class FocalEnclosure(ProverLoss):
    """Focal loss ``-(1 - p_y)^gamma log p_y`` (integer ``gamma >= 1``; ``FocalLoss``'s formulas).

    With ``q = 1 - p_y = sum_{k != y} p_k``, ``L = -log p_y = log1p(sum_{l != y} exp(M_l - M_y))``
    and ``rho = L / q`` (``>= 1``):

    * ``grad g = a (e_y - p) / N`` with ``a = -q^gamma (1 + gamma p_y rho) < 0``, so
      ``G_yj = a q / N`` and ``G_kj = -a p_k / N > 0`` (``k != y``);
    * ``hess_j = (b v v^T - a (diag p - p p^T)) / N`` with ``v = e_y - p`` and
      ``b = a'(p_y) p_y = gamma q^(gamma-1) p_y ((gamma - 1) p_y rho - L + 2)``.  Both parts
      annihilate ``1``; in the Laplacian form ``sum_{i<l} w_il (e_i - e_l)(e_i - e_l)^T`` (``w_il``
      minus the off-diagonal entry) ``w_yk = p_k (b q - a p_y) / N`` and
      ``w_kl = -p_k p_l (a + b) / N`` for ``k, l != y``.

    Every factor is a product of enclosed non-negative numbers except ``a`` and ``b`` (no
    difference of nearly equal enclosures: ``q`` is the sum of the other probabilities,
    ``L`` a ``log1p`` of enclosed exponentials).
    """

    shift_invariant = True

    def __init__(self, gamma: float):
        g = float(gamma)
        if not (g >= 1.0 and g == int(g)):
            raise ValueError(f"focal loss: the prover encloses integer gamma >= 1 only, got gamma={gamma!r}")
        self.gamma = int(g)

    @property
    def spec(self):
        return f"focal:{self.gamma}"

    def every_d_ok(self, tau_hi: float, K: int = 2):
        return True, "focal: G_oj = -a p_o / N with a = -q^gamma (1 + gamma p_y rho) < 0 and p_o > 0, so G_oj != 0"

    def enclose(self, bk, T, c, labels, N, dc=None):
        K = len(c)
        g = self.gamma
        G = [[None] * N for _ in range(K)]
        pairs = []
        for j in range(N):
            y = int(labels[j])
            p = _softmax_probs(bk, T, dc, j, K)
            q = 0
            S = 0
            for k in range(K):
                if k != y:
                    q = q + p[k]
                    S = S + bk.exp(T * dc[(k, y)][j])
            L = bk.log1p(S)
            rho = L * bk.recip(q)
            qpow = [bk.const(1.0), q]                       # q^0, q^1, ..., q^gamma
            for _ in range(2, g + 1):
                qpow.append(qpow[-1] * q)
            a = -(qpow[g] * (p[y] * rho * float(g) + 1.0))
            b = qpow[g - 1] * p[y] * ((p[y] * rho) * float(g - 1) - L + 2.0) * float(g)
            w = {}
            for k in range(K):
                if k != y:
                    G[k][j] = -(a * p[k]) / N
                    w[(min(k, y), max(k, y))] = p[k] * (b * q - a * p[y]) / N
            G[y][j] = (a * q) / N
            for k in range(K):
                for l in range(k + 1, K):
                    if k != y and l != y:
                        w[(k, l)] = -(p[k] * p[l] * (a + b)) / N
            pairs.append(w)
        return G, pairs, None

    def float_loss(self):
        return FocalLoss(self.gamma)


class SquaredErrorEnclosure(ProverLoss):
    """``g = ||M - Y||^2 / (2N)``: ``G = (M - Y)/N``, ``hess = I / N`` (not shift invariant)."""

    spec = "mse"
    shift_invariant = False

    def enclose(self, bk, T, c, labels, N, dc=None):
        K = len(c)
        G = [[(T * c[k][j] - (1.0 if k == labels[j] else 0.0)) / N for j in range(N)] for k in range(K)]
        full = [[[bk.const(1.0) / N if i == l else None for l in range(K)] for i in range(K)] for _ in range(N)]
        return G, [{} for _ in range(N)], full


def prover_loss(loss) -> ProverLoss:
    """The prover enclosure of a loss spec / loss object (``TypeError``/``ValueError`` otherwise).

    Supported: cross-entropy, label smoothing, squared error, the focal loss with integer
    ``gamma`` (``gamma = 0`` is cross-entropy), a :class:`ProverLoss`, or
    any object with a ``prover_enclosure()`` method returning one (user-defined losses).
    """
    if isinstance(loss, ProverLoss):
        return loss
    if hasattr(loss, "prover_enclosure"):
        enc = loss.prover_enclosure()
        if not isinstance(enc, ProverLoss):
            raise TypeError("loss.prover_enclosure() must return a ProverLoss")
        return enc
    if not isinstance(loss, (str, Loss)):
        raise TypeError(f"loss must be a spec string or a loss object, got {type(loss).__name__}")
    obj = get_loss(loss)
    if type(obj) is CrossEntropy:
        return SoftmaxEnclosure(0.0)
    if type(obj) is LabelSmoothingCE:
        return SoftmaxEnclosure(obj.alpha)
    if type(obj) is SquaredError:
        return SquaredErrorEnclosure()
    if type(obj) is FocalLoss:
        if obj.gamma == 0.0:
            return SoftmaxEnclosure(0.0)
        return FocalEnclosure(obj.gamma)
    raise ValueError(f"loss {obj.spec!r}: the prover has no interval enclosure of its Hessian "
                     "(supported: cross_entropy, label_smoothing:ALPHA, focal:GAMMA (integer), mse, "
                     "or a loss with prover_enclosure())")


# ------------------------------------------------------ planted spurious minimum
@dataclass(frozen=True)
class _WellState(LossState):
    _ce: SoftmaxState
    _E: np.ndarray       # (N,)
    _R: np.ndarray       # (K, N) M - M0
    _beta: float
    _sigma: float

    def hvp(self, dM):
        N = self._E.shape[0]
        s2 = self._sigma ** 2
        proj = np.sum(self._R * dM, axis=-2, keepdims=True)
        well = self._beta * self._E / N * (dM / s2 - self._R * proj / s2 ** 2)
        return self._ce.hvp(dM) + well


class PlantedWellLoss(Loss):
    """Cross-entropy plus a Gaussian well at planted logits: a user-defined loss with a
    spurious local minimum (negative control of the prover).

    ``g(M) = CE(M) - (beta/N) sum_j exp(-||M_j - M0_j||^2 / (2 sigma^2))``.  Follows the
    loss protocol of :mod:`nc_verify.losses` (so ``UFMProblem(..., loss=PlantedWellLoss(..))``
    evaluates it) and supplies :meth:`prover_enclosure` (the prover's protocol).

    Parameters
    ----------
    M0 : array, shape (K, N)
        Planted logits (e.g. ``tau W0^T H0`` of a non-ETF configuration).
    beta, sigma : float
        Depth and width of the well.
    """

    name = "planted_well"
    shift_invariant = False

    def __init__(self, M0, beta: float = 1.0, sigma: float = 0.15):
        self.M0 = np.array(M0, dtype=float)
        self.beta = float(beta)
        self.sigma = float(sigma)

    @property
    def params(self):
        return {"beta": self.beta, "sigma": self.sigma}

    @property
    def spec(self):
        return f"planted_well(beta={self.beta}, sigma={self.sigma})"

    def _value_grad(self, M, labels):
        ce = CrossEntropy()
        v, g, extra = ce._value_grad(M, labels)
        N = M.shape[1]
        R = M - self.M0
        E = np.exp(-np.sum(R * R, axis=0) / (2 * self.sigma ** 2))
        v = v - self.beta * float(np.mean(E))
        g = g + self.beta * E * R / (self.sigma ** 2 * N)
        extra = dict(extra, E=E, R=R)
        return v, g, extra

    def _state(self, M, labels, value, grad, row, col, extra):
        ce = SoftmaxState(value, grad, row, col, extra["p"], extra["dom"])
        return _WellState(value, grad, row, col, ce, extra["E"], extra["R"], self.beta, self.sigma)

    def autograd_value(self, M, labels):
        import autograd.numpy as anp

        from nc_verify.objective.losses import autograd_logsumexp

        R = M - self.M0
        E = anp.exp(-anp.sum(R * R, axis=0) / (2 * self.sigma ** 2))
        return anp.mean(autograd_logsumexp(M) - M[labels, np.arange(M.shape[1])]) - self.beta * anp.mean(E)

    def prover_enclosure(self):
        return _PlantedWellEnclosure(self)


class _PlantedWellEnclosure(ProverLoss):
    shift_invariant = False

    def __init__(self, loss: PlantedWellLoss):
        self.loss = loss
        self.spec = loss.spec

    def float_loss(self):
        return self.loss

    def enclose(self, bk, T, c, labels, N, dc=None):
        G, pairs, _ = SoftmaxEnclosure(0.0).enclose(bk, T, c, labels, N, dc)
        K = len(c)
        b, s2 = self.loss.beta, self.loss.sigma ** 2
        full = []
        for j in range(N):
            R = [T * c[k][j] - float(self.loss.M0[k, j]) for k in range(K)]
            r2 = 0
            for k in range(K):
                r2 = r2 + bk.sqr(R[k])
            E = bk.exp(r2 * (-1.0 / (2 * s2)))
            for k in range(K):
                G[k][j] = G[k][j] + E * R[k] * (b / (s2 * N))
            F = [[None] * K for _ in range(K)]
            for i in range(K):
                for l in range(K):
                    t = E * (R[i] * R[l]) * (-b / (s2 * s2 * N)) if i != l else E * bk.sqr(R[i]) * (-b / (s2 * s2 * N))
                    if i == l:
                        t = t + E * (b / (s2 * N))
                    F[i][l] = t
            full.append(F)
        return G, pairs, full


# ================================================================ the formulas
@dataclass
class PointQuantities:
    """Trigonometric and loss quantities of a box (backend numbers)."""

    c: list
    s: list
    G: list
    pairs: list
    full: list
    T: object
    rowc: list
    colc: list
    dc: dict
    ds: dict


def _angle(bk, chart, x, k=None, j=None):
    """Enclosure of ``alpha_k - pi o_k`` (``k``) or ``phi_j - pi o_{y_j}`` (``j``): the box coordinate."""
    if k is not None:
        return None if k == 0 else x[k - 1]
    return x[chart.K - 1 + j]


def _quarter_turns(q):
    """``r`` in 0..3 when the rational ``q`` is ``r/2`` modulo 2 (a whole number of quarter turns), else None."""
    return int(2 * q) % 4 if (2 * q).denominator == 1 else None


def shifted_trig(bk, base, q, r=False):
    """``cos(base + q pi), sin(base + q pi)`` for an interval ``base`` and a rational ``q``
    (``q`` a multiple of 1/2: exact quarter turns, no enclosure of pi needed; ``r``, if given, is
    :func:`_quarter_turns` of ``q``)."""
    if r is False:
        r = _quarter_turns(q)
    if r is not None:                            # quarter turns: exact
        c, s = bk.cos(base), bk.sin(base)
        return [(c, s), (-s, c), (-c, -s), (s, -c)][r]
    arg = base + bk.pi_multiple(q)
    return bk.cos(arg), bk.sin(arg)


@functools.lru_cache(maxsize=32)
def _planar_shifts(offsets, labels):
    """The rational shifts (units of ``pi``) :func:`quantities` needs, with their quarter turns:
    ``one[k][j]`` for ``c_kj, s_kj`` and, per pair ``k < l``, ``half[(k, l)]`` for ``D`` and
    ``pair[(k, l)][j]`` for ``S`` (each a pair ``(q, r)``)."""
    K = len(offsets)
    one = [[(offsets[k] - offsets[y], _quarter_turns(offsets[k] - offsets[y])) for y in labels] for k in range(K)]
    half, pair = {}, {}
    for k in range(K):
        for l in range(k + 1, K):
            q = (offsets[k] - offsets[l]) / 2
            half[(k, l)] = (q, _quarter_turns(q))
            qs = [(offsets[k] + offsets[l]) / 2 - offsets[y] for y in labels]
            pair[(k, l)] = [(q_, _quarter_turns(q_)) for q_ in qs]
    return one, half, pair


def quantities(bk, chart, x, T, loss: ProverLoss):
    """Enclose ``c, s, G``, the loss Hessian pieces and ``rowc = diag(M G^T)``, ``colc = diag(M^T G)``.

    Differences ``c_kj - c_lj`` and ``s_kj - s_lj`` (attributes ``dc[(k, l)][j]``,
    ``ds[(k, l)][j]``) are enclosed through the product forms
    ``c_k - c_l = -2 sin(S) sin(D)``, ``s_k - s_l = 2 cos(S) sin(D)`` with
    ``D = (alpha_k - alpha_l)/2`` (independent of ``phi_j``) and
    ``S = (alpha_k + alpha_l)/2 - phi_j``: no dependency between the two cosines, so
    they stay small where ``w_k`` and ``w_l`` are close.

    Parameters
    ----------
    x : list of m backend numbers
        Chart angles ``a_2..a_K, t_1..t_N`` (see :mod:`.chart`).
    T : backend number
        Temperature.

    Notes
    -----
    On a :class:`~.chart.SphereChart` this is :func:`sphere_quantities`.
    """
    if getattr(chart, "kind", "planar") == "sphere3":
        return sphere_quantities(bk, chart, x, T, loss)
    K, N, labels, off = chart.K, chart.N, chart.labels, chart.offsets
    one, half_, pair = _planar_shifts(tuple(off), tuple(int(y) for y in labels))
    c = [[None] * N for _ in range(K)]
    s = [[None] * N for _ in range(K)]
    for k in range(K):
        for j in range(N):
            t = x[K - 1 + j]
            base = -t if k == 0 else x[k - 1] - t
            c[k][j], s[k][j] = shifted_trig(bk, base, *one[k][j])
    dc, ds = {}, {}
    for k in range(K):
        for l in range(k + 1, K):
            ak, al = _angle(bk, chart, x, k=k), _angle(bk, chart, x, k=l)
            diff = (-al if ak is None else ak - al) * 0.5          # (a_k - a_l)/2, exact halving
            sD = shifted_trig(bk, diff, *half_[(k, l)])[1]
            dc[(k, l)], ds[(k, l)], dc[(l, k)], ds[(l, k)] = [], [], [], []
            for j in range(N):
                ssum = (al * 0.5 if ak is None else (ak + al) * 0.5) - x[K - 1 + j]
                cS, sS = shifted_trig(bk, ssum, *pair[(k, l)][j])
                dck = -(sS * sD) * 2.0
                dsk = (cS * sD) * 2.0
                dc[(k, l)].append(dck)
                ds[(k, l)].append(dsk)
                dc[(l, k)].append(-dck)
                ds[(l, k)].append(-dsk)
    G, pairs, full = loss.enclose(bk, T, c, labels, N, dc)
    rowc, colc = _curvatures(K, N, labels, c, dc, G, T, loss)
    return PointQuantities(c, s, G, pairs, full, T, rowc, colc, dc, ds)


def _curvatures(K, N, labels, c, dc, G, T, loss):
    """``rowc = diag(M G^T)`` and ``colc = diag(M^T G)`` (``M = T c``; for shift-invariant losses
    ``colc_j = T sum_{k != y} (c_kj - c_yj) G_kj``, from the enclosed differences)."""
    rowc = []
    for k in range(K):
        acc = 0
        for j in range(N):
            acc = acc + c[k][j] * G[k][j]
        rowc.append(T * acc)
    colc = []
    for j in range(N):
        y = labels[j]
        acc = 0
        for k in range(K):
            if loss.shift_invariant:
                if k != y:
                    acc = acc + dc[(k, y)][j] * G[k][j]
            else:
                acc = acc + c[k][j] * G[k][j]
        colc.append(T * acc)
    return rowc, colc


def gradient(chart, Q: PointQuantities, loss: ProverLoss) -> list:
    """Chart gradient (eqs. (5)-(6) along the slice tangents), list of m backend numbers."""
    if isinstance(Q, SphereQuantities):
        return Q.grad
    K, N, labels = chart.K, chart.N, chart.labels
    T, G, s = Q.T, Q.G, Q.s
    out = []
    for k in range(1, K):
        acc = 0
        for j in range(N):
            acc = acc + G[k][j] * s[k][j]
        out.append(-(T * acc))
    for j in range(N):
        y = labels[j]
        acc = 0
        for k in range(K):
            if loss.shift_invariant:
                if k != y:
                    acc = acc + G[k][j] * Q.ds[(k, y)][j]
            else:
                acc = acc + G[k][j] * s[k][j]
        out.append(T * acc)
    return out


def _hess_entry(Qp, j, i, l):
    """``e_i^T hess_j e_l`` (backend number or None for 0)."""
    K = len(Qp.c)
    val = None
    if i == l:
        for m_ in range(K):
            if m_ != i:
                w = Qp.pairs[j].get((min(i, m_), max(i, m_)))
                if w is not None:
                    val = w if val is None else val + w
    else:
        w = Qp.pairs[j].get((min(i, l), max(i, l)))
        if w is not None:
            val = -w
    if Qp.full is not None and Qp.full[j][i][l] is not None:
        val = Qp.full[j][i][l] if val is None else val + Qp.full[j][i][l]
    return val


def _hb_form(bk, Qp, j, A, dA):
    """``A^T hess_j A`` for one sample: ``sum_{i<l} w_il (A_i - A_l)^2 + A^T F_j A`` with the
    differences ``dA[(i, l)]`` enclosed directly (cancellation-free)."""
    K = len(A)
    acc = 0
    for (i, l), w in Qp.pairs[j].items():
        acc = acc + w * bk.sqr(dA[(i, l)])
    if Qp.full is not None:
        for i in range(K):
            for l in range(K):
                f = Qp.full[j][i][l]
                if f is not None:
                    acc = acc + f * (bk.sqr(A[i]) if i == l else A[i] * A[l])
    return acc


def hessian(bk, chart, Qp: PointQuantities, drop=None) -> list:
    """Chart Hessian (m x m list; ``None`` for structural zeros) -- the Riemannian Hessian of
    the planar problem in the slice's coordinates (eqs. (7)-(8))."""
    if isinstance(Qp, SphereQuantities):
        if drop is not None:
            raise ValueError("the faulty variant exists for the planar chart only")
        return Qp.hess
    K, N = chart.K, chart.N
    m = K - 1 + N
    T, G, c, s = Qp.T, Qp.G, Qp.c, Qp.s
    u = [[T * s[k][j] for j in range(N)] for k in range(K)]
    du = {kl: [T * z for z in v] for kl, v in Qp.ds.items()}          # u_k - u_l
    H = [[None] * m for _ in range(m)]
    # (a_k, a_l)
    for k in range(1, K):
        for l in range(k, K):
            acc = 0
            for j in range(N):
                e = _hess_entry(Qp, j, k, l)
                if e is not None:
                    acc = acc + e * (bk.sqr(u[k][j]) if k == l else u[k][j] * u[l][j])
            if k == l:
                acc = acc - Qp.rowc[k]
            H[k - 1][l - 1] = acc
            H[l - 1][k - 1] = acc
    # (t_j, t_j)
    for j in range(N):
        acc = _hb_form(bk, Qp, j, [u[k][j] for k in range(K)], {kl: du[kl][j] for kl in du})
        if drop != "col_curvature":
            acc = acc - Qp.colc[j]
        H[K - 1 + j][K - 1 + j] = acc
    # (a_k, t_j) = -u_kj e_k^T hess_j u_j + T G_kj c_kj
    for k in range(1, K):
        for j in range(N):
            acc = 0
            for (i, l), w in Qp.pairs[j].items():
                if i == k:
                    acc = acc + w * du[(k, l)][j]
                elif l == k:
                    acc = acc + w * du[(k, i)][j]
            if Qp.full is not None:
                for l in range(K):
                    f = Qp.full[j][k][l]
                    if f is not None:
                        acc = acc + f * u[l][j]
            val = T * (G[k][j] * c[k][j]) - u[k][j] * acc
            H[k - 1][K - 1 + j] = val
            H[K - 1 + j][k - 1] = val
    return H


def inplane_form(bk, chart, Qp: PointQuantities, v, loss: ProverLoss, drop=None):
    """``v^T H v`` along a fixed chart direction ``v`` (m floats, or float arrays over a batch)
    -- eqs. (7)-(8) in the plane.  All arithmetic on ``v`` is enclosed too (``v_a - v_t`` is
    not formed in floating point), so the value is the form at exactly ``v``."""
    if isinstance(Qp, SphereQuantities):
        if drop is not None:
            raise ValueError("the faulty variant exists for the planar chart only")
        vv = [bk.point(z) for z in v]
        acc = 0
        for a in range(len(vv)):
            for b in range(len(vv)):
                if Qp.hess[a][b] is not None:
                    acc = acc + Qp.hess[a][b] * (vv[a] * vv[b])
        return acc
    K, N, labels = chart.K, chart.N, chart.labels
    T, G, c, s = Qp.T, Qp.G, Qp.c, Qp.s
    va = [bk.point(0.0)] + [bk.point(z) for z in v[: K - 1]]
    vt = [bk.point(z) for z in v[K - 1: K - 1 + N]]
    shift = loss.shift_invariant
    acc = 0
    for j in range(N):
        dl = [va[k] - vt[j] for k in range(K)]
        A = [-((T * s[k][j]) * dl[k]) for k in range(K)]
        dA = {}
        for (i, l) in Qp.pairs[j]:
            # A_i - A_l = -T (ds_il delta_i + s_l (v_ai - v_al))
            dA[(i, l)] = -(T * (Qp.ds[(i, l)][j] * dl[i] + s[l][j] * (va[i] - va[l])))
        acc = acc + _hb_form(bk, Qp, j, A, dA)
    if drop == "col_curvature":
        # faulty variant: curvature split into its eq. (8) terms, the -colc term omitted
        for k in range(K):
            acc = acc - Qp.rowc[k] * bk.sqr(va[k])
            for j in range(N):
                acc = acc + (T * (G[k][j] * c[k][j])) * (va[k] * vt[j]) * 2.0
        return acc
    curv = 0
    for j in range(N):
        y = labels[j]
        dl = [va[k] - vt[j] for k in range(K)]
        for k in range(K):
            if shift:
                if k != y:
                    # G_kj (c_k dl_k^2 - c_y dl_y^2) = G_kj (dc_ky dl_k^2 + c_y (v_ak - v_ay)(dl_k + dl_y))
                    curv = curv + G[k][j] * (Qp.dc[(k, y)][j] * bk.sqr(dl[k]) +
                                             c[y][j] * ((va[k] - va[y]) * (dl[k] + dl[y])))
            else:
                curv = curv + G[k][j] * c[k][j] * bk.sqr(dl[k])
    return acc - T * curv


def normal_form(bk, chart, Qp: PointQuantities, cw, eh, loss: ProverLoss, drop=None):
    """Normal-block form ``2 tau c^T G e - sum rowc_k c_k^2 - sum colc_j e_j^2`` (d >= 3 only;
    Lemma 2).  ``cw`` (K) and ``eh`` (N) are floats (or float arrays over a batch), enclosed."""
    K, N, labels = chart.K, chart.N, chart.labels
    cw = [bk.point(z) for z in cw]
    eh = [bk.point(z) for z in eh]
    acc = 0
    for j in range(N):
        y = labels[j]
        inner = 0
        for k in range(K):
            if loss.shift_invariant:
                if k != y:
                    inner = inner + Qp.G[k][j] * (cw[k] - cw[y])
            else:
                inner = inner + Qp.G[k][j] * cw[k]
        acc = acc + inner * eh[j] * 2.0
    acc = Qp.T * acc
    for k in range(K):
        acc = acc - Qp.rowc[k] * bk.sqr(cw[k])
    if drop != "col_curvature":
        for j in range(N):
            acc = acc - Qp.colc[j] * bk.sqr(eh[j])
    return acc


# ============================================================ the rank-3 chart (K = 3, R^3)
@dataclass
class SphereQuantities:
    """Enclosures over a box of the :class:`~.chart.SphereChart`: ``G``, ``rowc``, ``colc``, ``T``
    (as :class:`PointQuantities`, for the normal block), the chart gradient and Hessian, and the
    enclosed logit differences ``dc[(k, l)][j]``."""

    G: list
    T: object
    rowc: list
    colc: list
    grad: list
    hess: list
    dc: dict = None


def _column_difference(bk, chart, x, trig, k, l, j):
    """``m_kj - m_lj = (w_k - w_l) . h_j`` in product form (classifier columns ``k, l``, sample ``j``).

    With ``C = cos u``, ``S = sin u`` and azimuths ``phi``:
    ``m_kj - m_lj = C_j [C_k (cos A - cos B) + (C_k - C_l) cos B] + S_j (S_k - S_l)`` where
    ``A = phi_k - phi_j``, ``B = phi_l - phi_j``,
    ``cos A - cos B = -2 sin((phi_k + phi_l)/2 - phi_j) sin((phi_k - phi_l)/2)``,
    ``C_k - C_l = -2 sin((u_k + u_l)/2) sin((u_k - u_l)/2)`` and
    ``S_k - S_l = 2 cos((u_k + u_l)/2) sin((u_k - u_l)/2)``: every factor that vanishes when
    ``w_k = w_l`` is enclosed directly (no difference of two enclosures of nearly equal numbers),
    and the sample's azimuth enters once.  ``u = 0`` (``None``) columns use ``C_k - C_l = 2 sin^2(u_l/2)``.
    """
    cols = chart.columns()
    (iuk, itk, thk), (iul, itl, thl) = cols[k], cols[l]
    itj, thj = cols[chart.K + j][1:]
    zero = bk.point(0.0)
    tk = zero if itk is None else x[itk]
    tl = zero if itl is None else x[itl]
    half_d = shifted_trig(bk, (tk - tl) * 0.5, (thk - thl) / 2)[1]
    s_sum = shifted_trig(bk, (tk + tl) * 0.5 - x[itj], (thk + thl) / 2 - thj)[1]
    cB = shifted_trig(bk, tl - x[itj], thl - thj)[0]
    (Ck, Sk), Sl = trig[k], trig[l][1]
    Cj, Sj = trig[chart.K + j]
    dcos = -(s_sum * half_d) * 2.0
    inner = dcos if Ck is None else Ck * dcos
    if iuk is None and iul is None:
        dC, dS = None, None
    elif iuk is None:                                   # u_k = 0: C_k - C_l = 2 sin^2(u_l/2), S_k - S_l = -S_l
        dC, dS = bk.sqr(bk.sin(x[iul] * 0.5)) * 2.0, -Sl
    elif iul is None:
        dC, dS = -(bk.sqr(bk.sin(x[iuk] * 0.5)) * 2.0), Sk
    else:
        sd = bk.sin((x[iuk] - x[iul]) * 0.5)
        dC = -(bk.sin((x[iuk] + x[iul]) * 0.5) * sd) * 2.0
        dS = (bk.cos((x[iuk] + x[iul]) * 0.5) * sd) * 2.0
    if dC is not None:
        inner = inner + dC * cB
    out = Cj * inner
    return out if dS is None else out + Sj * dS


def _pair_derivatives(Ck, Sk, Cj, Sj, cD, sD):
    """Value, gradient and Hessian of ``m = C_k C_j cos D + S_k S_j`` (``D = phi_k - phi_j``) in
    ``(u_k, phi_k, u_j, phi_j)``; ``C = cos u``, ``S = sin u`` (``None``: ``u = 0`` fixed, ``C = 1``,
    ``S = 0``).  Returns ``m``, a dict ``{var: d m}`` and a dict ``{(var, var'): d2 m}``."""
    def mul(*fs):
        # product of factors; None is an exact 1 (cos 0), "zero" an exact 0 (sin 0): the term is absent
        out = 1
        for f in fs:
            if isinstance(f, str):
                return None
            if f is not None:
                out = out * f
        return out
    Sk_ = "zero" if Sk is None else Sk
    Sj_ = "zero" if Sj is None else Sj
    CC = mul(Ck, Cj)
    CCc = CC * cD
    CCs = CC * sD
    SS = mul(Sk_, Sj_)
    m = CCc if SS is None else CCc + SS

    def add(a, b):
        return b if a is None else a if b is None else a + b

    def neg(a):
        return None if a is None else -a
    g = {"uk": add(neg(mul(Sk_, Cj, cD)), mul(Ck, Sj_)), "pk": -CCs,
         "uj": add(neg(mul(Ck, Sj_, cD)), mul(Sk_, Cj)), "pj": CCs}
    h = {("uk", "uk"): -m, ("uk", "pk"): mul(Sk_, Cj, sD), ("uk", "uj"): add(mul(Sk_, Sj_, cD), CC),
         ("uk", "pj"): neg(mul(Sk_, Cj, sD)), ("pk", "pk"): -CCc, ("pk", "uj"): mul(Ck, Sj_, sD),
         ("pk", "pj"): CCc, ("uj", "uj"): -m, ("uj", "pj"): neg(mul(Ck, Sj_, sD)), ("pj", "pj"): -CCc}
    return m, g, h


def sphere_quantities(bk, chart, x, T, loss: ProverLoss) -> SphereQuantities:
    """Enclose ``M = T W^T H``, ``G``, ``rowc``, ``colc`` and the chart gradient and Hessian of
    ``F = f o phi`` on the :class:`~.chart.SphereChart` (K = 3, columns in ``R^3``).

    ``F(x) = g(T m(x))`` with ``m_kj = w_k . h_j`` (see :func:`_pair_derivatives`):
    ``dF/dx_a = T sum_kj G_kj dm_kj/dx_a`` and
    ``d2F/dx_a dx_b = T^2 sum_j sum_{i<l} w^j_il D^{il}_a D^{il}_b + T sum_kj G_kj d2m_kj/dx_a dx_b``
    with ``D^{il} = grad(m_ij - m_lj)`` (shift-invariant losses, Laplacian-form Hessian only).
    The logit differences ``m_kj - m_lj`` (softmax, ``colc``) are the intersection of the product form
    (:func:`_column_difference`, tight where ``w_k`` and ``w_l`` are close) and the difference of the two
    enclosures of ``m`` (tighter on wide boxes elsewhere).  The chart is not an isometry: these are
    coordinate derivatives of ``F``; the discard tests use them as in ``docs/prover.md`` (Lemma 7).
    """
    if not loss.shift_invariant:
        raise ValueError(f"loss {loss.spec!r}: the rank-3 chart supports shift-invariant losses only")
    K, N, labels = chart.K, chart.N, chart.labels
    m_ = chart.n_angles
    cols = chart.columns()
    trig = []
    for iu, _it, _th in cols:
        trig.append((None, None) if iu is None else (bk.cos(x[iu]), bk.sin(x[iu])))
    mval = [[None] * N for _ in range(K)]
    dm = [[None] * N for _ in range(K)]
    d2m = [[None] * N for _ in range(K)]
    for k in range(K):
        for j in range(N):
            cj = K + j
            (iuk, itk, thk), (iuj, itj, thj) = cols[k], cols[cj]
            tk = None if itk is None else x[itk]
            tj = x[itj]
            base = -tj if tk is None else tk - tj
            cD, sD = shifted_trig(bk, base, thk - thj)
            (Ck, Sk), (Cj, Sj) = trig[k], trig[cj]
            mv, g, h = _pair_derivatives(Ck, Sk, Cj, Sj, cD, sD)
            idx = {"uk": iuk, "pk": itk, "uj": iuj, "pj": itj}
            mval[k][j] = mv
            dm[k][j] = {idx[v]: e for v, e in g.items() if idx[v] is not None and e is not None}
            d2m[k][j] = {(idx[a], idx[b]): e for (a, b), e in h.items()
                         if idx[a] is not None and idx[b] is not None and e is not None}
    dc = {}
    for k in range(K):
        for l in range(k + 1, K):
            dc[(k, l)] = [bk.intersect(_column_difference(bk, chart, x, trig, k, l, j), mval[k][j] - mval[l][j])
                          for j in range(N)]
            dc[(l, k)] = [-z for z in dc[(k, l)]]
    G, pairs, full = loss.enclose(bk, T, mval, labels, N, dc)
    if full is not None:
        raise ValueError(f"loss {loss.spec!r}: the rank-3 chart needs a Laplacian-form Hessian")
    rowc, colc = _curvatures(K, N, labels, mval, dc, G, T, loss)
    grad = [0] * m_
    hess = [[None] * m_ for _ in range(m_)]

    def addh(a, b, v):
        hess[a][b] = v if hess[a][b] is None else hess[a][b] + v
        if a != b:
            hess[b][a] = hess[a][b]
    for k in range(K):
        for j in range(N):
            for a, e in dm[k][j].items():
                grad[a] = grad[a] + G[k][j] * e
            for (a, b), e in d2m[k][j].items():
                addh(a, b, T * (G[k][j] * e))
    TT = T * T
    for j in range(N):
        for (i, l), w in pairs[j].items():
            D = dict(dm[i][j])
            for a, e in dm[l][j].items():
                D[a] = -e if a not in D else D[a] - e
            keys = sorted(D)
            for ia, a in enumerate(keys):
                for b in keys[ia:]:
                    addh(a, b, (w * TT) * (bk.sqr(D[a]) if a == b else D[a] * D[b]))
    return SphereQuantities(G, T, rowc, colc, [T * g for g in grad], hess, dc)
