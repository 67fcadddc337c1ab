"""Problem (4) in ball arithmetic: the one place for the certified formulas.

Every function takes ``flint.arb_mat`` enclosures of an exact point ``(W, H)``
(shapes (d, K) and (d, N)) and returns enclosures of the exact quantities, at the
working precision ``flint.ctx.prec``.  The loss quantities mirror
:class:`nc_verify.objective.losses.CrossEntropy` term by term (cancellation-free: every
quantity is built from the probabilities of the non-dominant classes of each
column), so 53 bits usually give balls with a sign even where the quantity is
``exp(-1000)``; the Hessian's bilinear form (eqs. (7)-(8)) is written once, in
:func:`hessian_forms`, on top of them.

Lists of lists of ``arb`` are used where the formulas work entry by entry;
``arb_mat`` products where they are matrix products.
"""

from __future__ import annotations

import numpy as np

from nc_verify.certify._flint import flint


def _rows(A):
    """``arb_mat`` -> list of rows (lists of ``arb``)."""
    return A.tolist()


def _argmax_mid(column) -> int:
    """Index of the largest midpoint (which class dominates; any choice is rigorous)."""
    return int(np.argmax([float(x.mid()) for x in column]))


class BallLossState:
    """Cross-entropy quantities at the logits ``M`` (``arb_mat`` K x N), all enclosures.

    Attributes
    ----------
    probs : list of K lists of N ``arb``
        Softmax probabilities ``p_ij``.
    grad : list of K lists of N ``arb``
        ``G = grad g(M) = (P - Y) / N``, with ``G_{y_j j} = -(1/N) sum_{i != y_j} p_ij``.
    row_curvature : list of K ``arb``
        ``diag(M G^T)`` (eq. (8), classifier block).
    col_curvature : list of N ``arb``
        ``diag(M^T G)_j = (1/N) (sum_{i != c} p_ij (M_ij - M_cj) + M_cj - M_{y_j j})``,
        ``c`` the dominant class of column ``j`` (eq. (8), feature block).
    dominant : list of N int
    """

    def __init__(self, M, labels):
        fl = flint()
        arb = fl.arb
        K, N = M.nrows(), M.ncols()
        rows = _rows(M)
        cols = [[rows[i][j] for i in range(K)] for j in range(N)]
        inv_n = arb(1) / N
        probs = [[None] * N for _ in range(K)]
        grad = [[None] * N for _ in range(K)]
        col_curv = [None] * N
        dominant = [0] * N
        for j, col in enumerate(cols):
            c = _argmax_mid(col)
            dominant[j] = c
            e = [(col[i] - col[c]).exp() if i != c else arb(1) for i in range(K)]
            z = arb(1) + sum((e[i] for i in range(K) if i != c), arb(0))
            p = [e[i] / z for i in range(K)]
            y = int(labels[j])
            for i in range(K):
                probs[i][j] = p[i]
                grad[i][j] = p[i] * inv_n
            grad[y][j] = -sum((p[i] for i in range(K) if i != y), arb(0)) * inv_n
            shift = sum((p[i] * (col[i] - col[c]) for i in range(K) if i != c), arb(0))
            if c != y:                     # M_cj - M_cj is exactly 0, not a ball of twice the radius
                shift = shift + (col[c] - col[y])
            col_curv[j] = shift * inv_n
        self.K, self.N = K, N
        self.logits = rows
        self.probs = probs
        self.grad = grad
        self.dominant = dominant
        self.col_curvature = col_curv
        self.row_curvature = [sum((rows[k][j] * grad[k][j] for j in range(N)), arb(0)) for k in range(K)]

    @property
    def grad_matrix(self):
        """``G`` as an ``arb_mat`` (K x N)."""
        return flint().arb_mat(self.grad)

    def second_order_matrix(self, logit_directions):
        """``[<D_s, hess g(M)[D_t]>]_{s,t}`` (first term of eq. (7)) as an ``arb_mat`` (m x m).

        Each column's softmax covariance is applied in variance form,
        ``(1/N) sum_j sum_i p_ij (D'_ij - m_j)(E'_ij - n_j)`` with ``D'_ij = D_ij - D_cj``
        (``c`` dominant) and ``m_j = sum_{i != c} p_ij D'_ij``: no ``1 - p_c``
        anywhere, and for ``s = t`` a sum of non-negative terms.

        Parameters
        ----------
        logit_directions : list of m ``arb_mat`` (K x N)
        """
        fl = flint()
        arb = fl.arb
        K, N, p, dom = self.K, self.N, self.probs, self.dominant
        X, Y = [], []
        for D in logit_directions:
            rows = _rows(D)
            x, y = [], []
            for j in range(N):
                c = dom[j]
                dc = rows[c][j]
                shifted = [rows[i][j] - dc for i in range(K)]
                mean = sum((p[i][j] * shifted[i] for i in range(K) if i != c), arb(0))
                for i in range(K):
                    v = shifted[i] - mean if i != c else -mean
                    x.append(v)
                    y.append(p[i][j] * v)
            X.append(x)
            Y.append(y)
        return fl.arb_mat(X) * fl.arb_mat(Y).transpose() / N


def logits(W, H, tau):
    """``M = tau W^T H`` (``arb_mat`` K x N)."""
    return W.transpose() * H * tau


def loss_state(W, H, tau, labels) -> BallLossState:
    """:class:`BallLossState` at ``(W, H)`` (``arb_mat`` (d, K), (d, N)), ``tau`` an ``arb``."""
    return BallLossState(logits(W, H, tau), labels)


def project_columns(X, Z):
    """Tangent projection ``Z - X ddiag(X^T Z)`` of an ``arb_mat`` ``Z`` at ``X`` (both d x m)."""
    fl = flint()
    Xr, Zr = _rows(X), _rows(Z)
    d, m = X.nrows(), X.ncols()
    dots = [sum((Xr[a][c] * Zr[a][c] for a in range(d)), fl.arb(0)) for c in range(m)]
    return fl.arb_mat([[Zr[a][c] - Xr[a][c] * dots[c] for c in range(m)] for a in range(d)])


def riemannian_gradient(W, H, tau, state: BallLossState):
    """Eqs. (5)-(6): ``(tau H G^T - W ddiag(M G^T), tau W G - H ddiag(M^T G))`` as ``arb_mat``."""
    fl = flint()
    G = state.grad_matrix
    r = fl.arb_mat([[x] for x in state.row_curvature]).transpose()     # 1 x K
    s = fl.arb_mat([[x] for x in state.col_curvature]).transpose()     # 1 x N
    gW = H * G.transpose() * tau - _scale_columns(W, r)
    gH = W * G * tau - _scale_columns(H, s)
    return gW, gH


def _scale_columns(X, row):
    """``X diag(row)`` for ``arb_mat`` ``X`` (d x m) and ``row`` (1 x m)."""
    fl = flint()
    Xr, v = _rows(X), _rows(row)[0]
    return fl.arb_mat([[x * v[c] for c, x in enumerate(line)] for line in Xr])


def _flat(X):
    return [x for line in _rows(X) for x in line]


def hessian_forms(W, H, tau, state: BallLossState, vectors):
    """The Hessian's bilinear form on tangent vectors, eqs. (7)-(8): an ``arb_mat`` (m x m).

    Entry ``(s, t)`` is ``Hess f(W, H)[Delta_s, Delta_t]`` =
    ``<D_s, hess g(M)[D_t]> + tau (<G, dW_s^T dH_t> + <G, dW_t^T dH_s>)
    - <dW_s ddiag(M G^T), dW_t> - <dH_s ddiag(M^T G), dH_t>`` with
    ``D_s = tau (W^T dH_s + dW_s^T H)``; for ``s = t`` this is eq. (7)-(8)'s
    quadratic form.  The vectors must be tangent (exactly, up to their balls).

    Parameters
    ----------
    W, H : arb_mat, (d, K) and (d, N)
    tau : arb
    state : BallLossState at ``(W, H)``
    vectors : list of m pairs ``(dW, dH)`` of ``arb_mat`` (d, K), (d, N)
    """
    fl = flint()
    Wt, G = W.transpose(), state.grad_matrix
    Gt = G.transpose()
    r = fl.arb_mat([state.row_curvature])
    s = fl.arb_mat([state.col_curvature])
    logit_dirs = [(Wt * dH + dW.transpose() * H) * tau for dW, dH in vectors]
    second = state.second_order_matrix(logit_dirs)
    Xw = fl.arb_mat([_flat(dW) for dW, _ in vectors])
    Xh = fl.arb_mat([_flat(dH) for _, dH in vectors])
    Yg = fl.arb_mat([_flat(dH * Gt) for _, dH in vectors])
    Xwr = fl.arb_mat([_flat(_scale_columns(dW, r)) for dW, _ in vectors])
    Xhs = fl.arb_mat([_flat(_scale_columns(dH, s)) for _, dH in vectors])
    F = Xw * Yg.transpose()
    curvature = Xw * Xwr.transpose() + Xh * Xhs.transpose()
    return second + (F + F.transpose()) * tau - curvature


def squared_norm(dW, dH):
    """``||dW||_F^2 + ||dH||_F^2`` as an ``arb``."""
    fl = flint()
    return sum((x * x for x in _flat(dW) + _flat(dH)), fl.arb(0))


def householder_basis(x):
    """An orthonormal basis of ``x^perp`` (``x`` a unit vector given as d ``arb``): d-1 lists.

    Columns ``2..d`` of the reflection ``I - 2 v v^T / (v^T v)``, ``v = x + s e_1``
    with ``s`` the sign of ``x_1``'s midpoint.  Exactly orthonormal and orthogonal
    to the exact ``x`` (the balls enclose that exact basis).
    """
    fl = flint()
    d = len(x)
    sign = 1 if float(x[0].mid()) >= 0 else -1
    v = list(x)
    v[0] = v[0] + sign
    beta = fl.arb(2) / sum((vi * vi for vi in v), fl.arb(0))
    return [[(1 if a == b else 0) - beta * v[a] * v[b] for a in range(d)] for b in range(1, d)]


def tangent_basis(W, H):
    """An orthonormal basis of the tangent space at ``(W, H)`` as a list of T pairs ``(dW, dH)``.

    Coordinate ``c (d - 1) + a`` moves column ``c`` of ``[W, H]`` (columns of ``W``
    first) along the ``a``-th Householder vector of that column, as in
    :func:`nc_verify.landscape.spectrum.tangent_basis` (``T = (d - 1)(K + N)``).
    """
    fl = flint()
    d, K, N = W.nrows(), W.ncols(), H.ncols()
    X = [list(col) for col in zip(*(_rows(W)))] + [list(col) for col in zip(*(_rows(H)))]
    zero = fl.arb(0)
    out = []
    for c, x in enumerate(X):
        for b in householder_basis(x):
            dW = [[zero] * K for _ in range(d)]
            dH = [[zero] * N for _ in range(d)]
            target, col = (dW, c) if c < K else (dH, c - K)
            for a in range(d):
                target[a][col] = b[a]
            out.append((fl.arb_mat(dW), fl.arb_mat(dH)))
    return out
