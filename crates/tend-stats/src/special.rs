//! Special functions the lifetime-value models need, evaluated in log space.
//!
//! The Gauss hypergeometric function is written here because no maintained Rust crate
//! offers it for real arguments; the reference libraries break exactly where it is
//! hard (z close to 1, large parameters), so its behaviour there is ours to control.

use statrs::function::gamma::ln_gamma;

/// ln|Γ(x)| and the sign of Γ(x), for any real x. At the poles (0, −1, −2, …) the
/// magnitude is infinite; callers only divide by Γ there, where 1/Γ is zero.
pub fn ln_gamma_signed(x: f64) -> (f64, f64) {
    if x > 0.0 {
        return (ln_gamma(x), 1.0);
    }
    if x == x.floor() {
        return (f64::INFINITY, 1.0);
    }
    // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
    let s = (std::f64::consts::PI * x).sin();
    let value = std::f64::consts::PI.ln() - s.abs().ln() - ln_gamma(1.0 - x);
    (value, s.signum())
}

/// The trigamma function ψ′(x) for x > 0 (statrs has only the digamma function):
/// the recurrence ψ′(x) = ψ′(x + 1) + 1/x² up to x ≥ 12, then the asymptotic series.
pub fn trigamma(mut x: f64) -> f64 {
    let mut shifted = 0.0;
    while x < 12.0 {
        shifted += 1.0 / (x * x);
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    shifted
        + inv
        + inv2 / 2.0
        + inv * inv2 * (1.0 / 6.0 - inv2 * (1.0 / 30.0 - inv2 * (1.0 / 42.0 - inv2 / 30.0)))
}

/// ln B(a, b) for positive a and b.
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// ln(eᵃ + eᵇ) without overflow.
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + (-(a - b).abs()).exp().ln_1p()
}

/// A real number kept as sign × e^log, so that products of huge and tiny factors and
/// sums of terms of either sign stay representable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignedLog {
    pub log: f64,
    pub sign: f64,
}

impl SignedLog {
    pub const ZERO: SignedLog = SignedLog {
        log: f64::NEG_INFINITY,
        sign: 1.0,
    };

    pub fn value(self) -> f64 {
        self.sign * self.log.exp()
    }

    pub(crate) fn mul(self, other: SignedLog) -> SignedLog {
        SignedLog {
            log: self.log + other.log,
            sign: self.sign * other.sign,
        }
    }

    pub(crate) fn add(self, other: SignedLog) -> SignedLog {
        if self.log == f64::NEG_INFINITY {
            return other;
        }
        if other.log == f64::NEG_INFINITY {
            return self;
        }
        let (big, small) = if self.log >= other.log {
            (self, other)
        } else {
            (other, self)
        };
        let ratio = (small.log - big.log).exp() * small.sign * big.sign;
        let total = 1.0 + ratio;
        if total == 0.0 {
            return SignedLog::ZERO;
        }
        SignedLog {
            log: big.log + total.abs().ln(),
            sign: big.sign * total.signum(),
        }
    }
}

/// The Gauss hypergeometric function ₂F₁(a, b; c; z) for real z < 1, returned in log
/// space. c must not be 0 or a negative integer.
///
/// The power series is summed directly (rescaled so that huge terms never overflow)
/// up to z = 0.9, and up to 0.9996 when all its terms are positive; for negative z
/// the Pfaff transformation maps to (0, 1). Closer to 1 the connection formula in
/// 1 − z is used, where c − a − b is an integer (its gamma factors have poles) with
/// the limit taken by symmetric extrapolation, and the series again when the two
/// connection terms cancel (large parameters).
///
/// ```
/// use tend_stats::special::hyp2f1;
/// // ₂F₁(1, 1; 2; z) = −ln(1 − z) / z
/// let z: f64 = 0.999;
/// assert!((hyp2f1(1.0, 1.0, 2.0, z).value() - (-(1.0 - z).ln() / z)).abs() < 1e-9);
/// ```
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> SignedLog {
    assert!(z < 1.0, "hyp2f1 needs z < 1, got {z}");
    if z < 0.0 {
        // Pfaff: ₂F₁(a, b; c; z) = (1 − z)^(−a) ₂F₁(a, c − b; c; z / (z − 1)).
        let w = z / (z - 1.0);
        let inner = hyp2f1(a, c - b, c, w);
        return SignedLog {
            log: inner.log - a * (1.0 - z).ln(),
            sign: inner.sign,
        };
    }
    // With positive parameters every term is positive, so the series is exact however
    // slowly it converges; use it while it needs at most about 10⁵ terms.
    let positive_terms = a > 0.0 && b > 0.0 && c > 0.0;
    if z <= 0.9 || (positive_terms && z <= 0.9996) {
        return power_series(a, b, c, z);
    }
    let connected = connection_formula(a, b, c, z);
    if positive_terms && connected.cancelled_digits > 6.0 {
        // Large parameters: the two connection terms nearly cancel. The series is slow
        // here but still exact.
        return power_series(a, b, c, z);
    }
    connected.value
}

struct Connected {
    value: SignedLog,
    /// Decimal digits lost to cancellation between the two connection terms.
    cancelled_digits: f64,
}

fn connection_formula(a: f64, b: f64, c: f64, z: f64) -> Connected {
    let d = (c - a - b) - (c - a - b).round();
    const WINDOW: f64 = 1e-4;
    if d.abs() > WINDOW {
        return near_one(a, b, c, z);
    }
    // c − a − b is (close to) an integer, where both connection terms have poles that
    // cancel. Evaluate where they do not, at c ± h and c ± 2h around the integer, and
    // extrapolate with the fourth-order symmetric formula; between the integer and the
    // edge of the window, interpolate linearly.
    let c_on_integer = c - d;
    let mut cancelled_digits: f64 = 0.0;
    let mut at = |shift: f64| {
        let connected = near_one(a, b, c_on_integer + shift, z);
        cancelled_digits = cancelled_digits.max(connected.cancelled_digits);
        connected.value.value()
    };
    let h = WINDOW;
    let on_integer = (4.0 * (at(h) + at(-h)) - (at(2.0 * h) + at(-2.0 * h))) / 6.0;
    let value = if d == 0.0 {
        on_integer
    } else {
        let edge = at(d.signum() * WINDOW);
        on_integer + (edge - on_integer) * d.abs() / WINDOW
    };
    Connected {
        value: from_value(value),
        cancelled_digits,
    }
}

fn from_value(v: f64) -> SignedLog {
    if v == 0.0 {
        return SignedLog::ZERO;
    }
    SignedLog {
        log: v.abs().ln(),
        sign: v.signum(),
    }
}

/// Σ (a)ₖ(b)ₖ / ((c)ₖ k!) zᵏ, rescaling the running sum so that it never overflows.
fn power_series(a: f64, b: f64, c: f64, z: f64) -> SignedLog {
    const RESCALE: f64 = 1e200;
    let mut log_scale = 0.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 0.0;
    loop {
        let ratio = (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        term *= ratio;
        sum += term;
        k += 1.0;
        if term == 0.0 || (ratio.abs() < 1.0 && term.abs() <= 1e-17 * sum.abs()) || k > 1e7 {
            break;
        }
        if sum.abs() > RESCALE {
            sum /= RESCALE;
            term /= RESCALE;
            log_scale += RESCALE.ln();
        }
    }
    let mut out = from_value(sum);
    out.log += log_scale;
    out
}

/// The connection formula around z = 1 (DLMF 15.8.4), for c − a − b not an integer.
fn near_one(a: f64, b: f64, c: f64, z: f64) -> Connected {
    let m = c - a - b;
    let w = 1.0 - z;
    let gamma = |x: f64| {
        let (log, sign) = ln_gamma_signed(x);
        SignedLog { log, sign }
    };
    let inverse = |g: SignedLog| SignedLog {
        log: -g.log,
        sign: g.sign,
    };
    let first = gamma(c)
        .mul(gamma(m))
        .mul(inverse(gamma(c - a)))
        .mul(inverse(gamma(c - b)))
        .mul(power_series(a, b, 1.0 - m, w));
    let second = gamma(c)
        .mul(gamma(-m))
        .mul(inverse(gamma(a)))
        .mul(inverse(gamma(b)))
        .mul(SignedLog {
            log: m * w.ln(),
            sign: 1.0,
        })
        .mul(power_series(c - a, c - b, m + 1.0, w));
    let value = first.add(second);
    Connected {
        value,
        cancelled_digits: (first.log.max(second.log) - value.log) / std::f64::consts::LN_10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_with_sign_on_negative_arguments() {
        // Γ(−0.5) = −2√π
        let (log, sign) = ln_gamma_signed(-0.5);
        assert_eq!(sign, -1.0);
        assert!((log - (2.0 * std::f64::consts::PI.sqrt()).ln()).abs() < 1e-12);
        assert_eq!(ln_gamma_signed(-2.0).0, f64::INFINITY);
    }

    #[test]
    fn closed_forms_of_the_gauss_function() {
        for &z in &[-5.0, -0.5, 0.0, 0.3, 0.89, 0.91, 0.999_999] {
            // ₂F₁(1, 1; 2; z) = −ln(1 − z)/z; c − a − b = 0 exercises the integer case.
            let expected = if z == 0.0 {
                1.0
            } else {
                -(1.0f64 - z).ln() / z
            };
            let got = hyp2f1(1.0, 1.0, 2.0, z).value();
            assert!(
                (got / expected - 1.0).abs() < 1e-9,
                "z={z}: {got} vs {expected}"
            );
            // ₂F₁(a, b; b; z) = (1 − z)^(−a)
            let got = hyp2f1(2.5, 1.5, 1.5, z).value();
            let expected = (1.0f64 - z).powf(-2.5);
            assert!(
                (got / expected - 1.0).abs() < 1e-9,
                "z={z}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn trigamma_known_values() {
        let pi2 = std::f64::consts::PI.powi(2);
        assert!((trigamma(1.0) - pi2 / 6.0).abs() < 1e-12);
        assert!((trigamma(0.5) - pi2 / 2.0).abs() < 1e-12);
        assert!((trigamma(100.0) - 0.010_050_166_663_333_571).abs() < 1e-15);
    }

    #[test]
    fn log_add_exp_handles_infinities() {
        assert_eq!(log_add_exp(f64::NEG_INFINITY, 1.0), 1.0);
        assert!((log_add_exp(1000.0, 1000.0) - (1000.0 + 2f64.ln())).abs() < 1e-12);
    }
}
