"""Symbolic (sympy) derivations behind the YaRN paper (arXiv 2309.00071), each one checked.

Every public function returns a :class:`Derivation`: the resulting expression, the symbols it is
written in, and ``holds`` -- whether sympy verified the claim (a simplification to zero, never a
numeric spot check). Tests evaluate the expressions numerically and compare them with the numeric
core ``yarnlab.rope`` at random points.

Symbols: ``D`` head (rotary) dimension |D|, ``b`` RoPE base, ``s`` scale L'/L, ``L`` original
context, ``d`` pair index, ``n`` number of rotations, ``theta`` a pair frequency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

D, b, s, L, d, n = sp.symbols("D b s L d n", positive=True)
theta = sp.symbols("theta", positive=True)


@dataclass(frozen=True)
class Derivation:
    """A derived expression and whether sympy verified the stated claim."""

    name: str
    claim: str
    expr: sp.Expr
    holds: bool
    symbols: dict[str, sp.Symbol] = field(default_factory=dict)

    def numeric(self, **values: float) -> float:
        """Evaluate ``expr`` at the given symbol values (keys are symbol names)."""
        subs = {self.symbols[k] if k in self.symbols else sp.Symbol(k, positive=True): v
                for k, v in values.items()}
        return float(self.expr.subs(subs).evalf())


def _is_zero(expr: sp.Expr) -> bool:
    e = sp.expand_log(sp.powsimp(sp.expand_power_base(expr, force=True), force=True), force=True)
    return sp.simplify(e) == 0


def _equal_positive(x: sp.Expr, y: sp.Expr) -> bool:
    """x == y for positive expressions, compared through their logarithms (powers of powers)."""
    return sp.simplify(sp.expand_log(sp.log(x) - sp.log(y), force=True)) == 0


def _real_solutions(sols: list) -> list:
    """Drop the complex branches sympy returns for logarithms and fractional powers."""
    return [x for x in sols if not x.has(sp.I)]


def ntk_aware_base() -> Derivation:
    """NTK-aware base change (Appendix A.1, Eq. 16).

    Condition: the last pair d = |D|/2 - 1 has theta = b^(-(|D|-2)/|D|) (Eq. 5); NTK-aware keeps
    the form b'^(-2d/|D|) and chooses b' so that this pair is scaled exactly like PI:
    b'^(-(|D|-2)/|D|) = b^(-(|D|-2)/|D|) / s. Solving gives b' = b * s^(|D|/(|D|-2)) (Eq. 16).
    The first pair (d = 0) has theta = b'^0 = 1 whatever b', so it is untouched.
    """
    bp = sp.symbols("b_prime", positive=True)
    e = (D - 2) / D
    sols = _real_solutions(sp.solve(sp.Eq(bp ** (-e), b ** (-e) / s), bp))
    expected = b * s ** (D / (D - 2))
    holds = len(sols) == 1 and _is_zero(sols[0] - expected)
    # the last pair under b' equals PI's theta/s; the first pair is 1 under both bases
    holds = holds and _equal_positive(expected ** (-e), b ** (-e) / s) and expected ** 0 == 1
    return Derivation("ntk_aware_base", "b' = b * s^(D/(D-2)) (Eq. 16)", sols[0] if sols else expected,
                      holds, {"D": D, "b": b, "s": s})


def wavelength() -> Derivation:
    """Wavelength of pair d: lambda_d = 2*pi/theta_d = 2*pi*b^(2d/|D|) (Eq. 13, with Eq. 5)."""
    theta_d = b ** (-2 * d / D)
    lam = 2 * sp.pi / theta_d
    expected = 2 * sp.pi * b ** (2 * d / D)
    return Derivation("wavelength", "lambda_d = 2 pi b^(2d/D) (Eq. 13)", sp.simplify(lam),
                      _is_zero(lam - expected), {"D": D, "b": b, "d": d})


def ratio() -> Derivation:
    """Rotations within the original context: r(d) = L/lambda_d = L / (2*pi*b^(2d/|D|)) (Eq. 17).

    The paper prints b' in Eq. 17; the intent and the reference code use the original base b.
    """
    lam = wavelength().expr
    r = L / lam
    return Derivation("ratio", "r(d) = L / (2 pi b^(2d/D)) (Eq. 17)", r,
                      _is_zero(r - L / (2 * sp.pi * b ** (2 * d / D))), {"D": D, "b": b, "d": d, "L": L})


def correction_dim() -> Derivation:
    """The pair index where r(d) equals n rotations: the inverse of Eq. 17.

    Solving L / (2*pi*b^(2d/|D|)) = n for d gives d(n) = |D| * ln(L / (2*pi*n)) / (2 * ln b), the
    reference code's ``find_correction_dim``.
    """
    r = ratio().expr
    sols = _real_solutions(sp.solve(sp.Eq(r, n), d))
    expected = D * sp.log(L / (2 * sp.pi * n)) / (2 * sp.log(b))
    holds = len(sols) == 1 and _is_zero(sp.expand_log(sols[0] - expected, force=True))
    # round trip: r(d(n)) == n
    holds = holds and _is_zero(r.subs(d, expected) - n)
    return Derivation("correction_dim", "d(n) = D ln(L/(2 pi n)) / (2 ln b)", expected, holds,
                      {"D": D, "b": b, "L": L, "n": n})


def _rot(angle: sp.Expr) -> sp.Matrix:
    return sp.Matrix([[sp.cos(angle), -sp.sin(angle)], [sp.sin(angle), sp.cos(angle)]])


def relative_position(frequency_map: bool = False) -> Derivation:
    """RoPE's relative-position property for one 2-D block (Eqs. 6-9).

    <R(m*w) q, R(n*w) k> = q^T R((n - m) * w) k depends on m - n only. With ``frequency_map`` the
    block frequency is w = h(theta) for an arbitrary function h (Eq. 12 with g(m) = m, the form of
    every method here), showing that any per-pair frequency change keeps the property.
    The check (exact, polynomial in sin/cos after ``expand_trig``): with m = n + delta the derivative
    with respect to n is zero, so the product equals its value at n = 0, which matches the closed form
    q^T R((n - m) w) k there.
    """
    m_, n_, delta = sp.symbols("m n delta", real=True)
    q1, q2, k1, k2 = sp.symbols("q1 q2 k1 k2", real=True)
    w = sp.Function("h")(theta) if frequency_map else theta
    q = sp.Matrix([q1, q2])
    k = sp.Matrix([k1, k2])
    dot = ((_rot(m_ * w) * q).T * (_rot(n_ * w) * k))[0, 0]
    shifted = dot.subs(m_, n_ + delta)
    holds = sp.expand(sp.expand_trig(sp.diff(shifted, n_))) == 0
    closed = ((q.T * _rot((n_ - m_) * w)) * k)[0, 0]
    at_zero = (shifted - closed.subs(m_, n_ + delta)).subs(n_, 0)
    holds = holds and sp.expand(sp.expand_trig(at_zero)) == 0
    name = "relative_position_h" if frequency_map else "relative_position"
    return Derivation(name, "R(m w) q . R(n w) k depends only on m - n", closed, holds,
                      {"m": m_, "n": n_, "theta": theta, "q1": q1, "q2": q2, "k1": k1, "k2": k2})


def length_scaling() -> Derivation:
    """Length scaling (Eqs. 21-22): multiplying cos and sin by m on q and k scales logits by m^2.

    (m R q) . (m R k) = m^2 (R q . R k), so softmax(m^2 q.k / sqrt(|D|)) = softmax(q.k / (t sqrt(|D|)))
    with t = 1/m^2, i.e. m = sqrt(1/t). Returned expression: the logit ratio (scaled / unscaled).
    """
    mm = sp.symbols("m_scale", positive=True)
    ang_q, ang_k = sp.symbols("a_q a_k", real=True)
    q1, q2, k1, k2 = sp.symbols("q1 q2 k1 k2", real=True)
    q = sp.Matrix([q1, q2])
    k = sp.Matrix([k1, k2])
    plain = ((_rot(ang_q) * q).T * (_rot(ang_k) * k))[0, 0]
    scaled = ((mm * _rot(ang_q) * q).T * (mm * _rot(ang_k) * k))[0, 0]
    t = sp.symbols("t", positive=True)
    ratio_expr = sp.simplify(scaled / plain)
    holds = sp.simplify(scaled - mm**2 * plain) == 0
    # t = 1/m^2 makes the two softmax arguments identical
    holds = holds and sp.simplify((mm**2 - 1 / t).subs(t, 1 / mm**2)) == 0
    return Derivation("length_scaling", "logits scale by m^2; t = 1/m^2", ratio_expr, holds, {"m_scale": mm})


def ramp_gamma(r: sp.Expr, alpha: sp.Expr, beta: sp.Expr) -> sp.Expr:
    """The ramp of Eq. 18: 0 if r < alpha, 1 if r > beta, (r - alpha)/(beta - alpha) otherwise."""
    return sp.Piecewise((0, r < alpha), (1, r > beta), ((r - alpha) / (beta - alpha), True))


def limits() -> list[Derivation]:
    """Limits: every method is plain RoPE at s = 1; YaRN (NTK-by-parts) -> PI as beta -> infinity.

    - PI: theta/s at s = 1 is theta.
    - NTK-aware: b * s^(|D|/(|D|-2)) at s = 1 is b.
    - NTK-by-parts / YaRN frequencies (Eq. 20) at s = 1 are theta for every gamma.
    - YaRN temperature 0.1 ln s + 1 (Eq. 22) at s = 1 is 1.
    - For fixed r, the middle branch of Eq. 18 tends to 0 as beta -> infinity, and r < beta
      eventually, so h(theta) -> theta/s: PI.
    """
    r, alpha, beta, gam = sp.symbols("r alpha beta gamma", positive=True)
    out = []
    out.append(Derivation("limit_pi_s1", "PI at s=1 is RoPE", (theta / s).subs(s, 1),
                          (theta / s).subs(s, 1) == theta, {"theta": theta}))
    bprime = ntk_aware_base().expr
    out.append(Derivation("limit_ntk_s1", "NTK-aware base at s=1 is b", bprime.subs(s, 1),
                          sp.simplify(bprime.subs(s, 1) - b) == 0, {"b": b}))
    blend = (1 - gam) * theta / s + gam * theta
    out.append(Derivation("limit_by_parts_s1", "NTK-by-parts at s=1 is RoPE for any gamma",
                          sp.simplify(blend.subs(s, 1)), sp.simplify(blend.subs(s, 1) - theta) == 0,
                          {"theta": theta, "gamma": gam}))
    m_yarn = sp.Rational(1, 10) * sp.log(s) + 1
    out.append(Derivation("limit_yarn_temperature_s1", "0.1 ln s + 1 at s=1 is 1", m_yarn.subs(s, 1),
                          m_yarn.subs(s, 1) == 1, {"s": s}))
    mid = (r - alpha) / (beta - alpha)
    lim_g = sp.limit(mid, beta, sp.oo)
    lim_h = sp.limit(((1 - mid) * theta / s + mid * theta), beta, sp.oo)
    out.append(Derivation("limit_yarn_beta_inf", "YaRN -> PI as beta -> oo", lim_h,
                          lim_g == 0 and sp.simplify(lim_h - theta / s) == 0,
                          {"theta": theta, "s": s}))
    return out


def all_derivations() -> list[Derivation]:
    """Every derivation of this module, in the order of the paper."""
    return [wavelength(), ratio(), correction_dim(), ntk_aware_base(), relative_position(False),
            relative_position(True), length_scaling(), *limits()]
