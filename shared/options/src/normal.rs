//! The standard normal density and distribution, computed the way QuantLib
//! 1.44 computes them (`NormalDistribution`, `CumulativeNormalDistribution`):
//! the distribution from QuantLib's `ErrorFunction` (fdlibm's `s_erf.c`
//! with one exponential in the tail and erf = +-1 from |x| >= 6), then
//! Abramowitz-Stegun's asymptotic series (26.2.12) once the value falls to
//! 1e-8 or below, where `0.5 (1 + erf)` loses its relative precision. Same
//! coefficients, same order of operations: the values are QuantLib's to
//! the bit.

#![allow(clippy::excessive_precision)] // fdlibm's and QuantLib's literals, digit for digit

/// 1/sqrt(2), as QuantLib's `M_SQRT_2`.
const SQRT_1_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// 1/sqrt(pi), as QuantLib's `M_1_SQRTPI`.
const ONE_OVER_SQRT_PI: f64 = 0.564_189_583_547_756_286_948;

// fdlibm's s_erf.c coefficients (public domain, Sun Microsystems), as published.
const ERX: f64 = 8.45062911510467529297e-01;
const EFX8: f64 = 1.02703333676410069053e+00;
const PP0: f64 = 1.28379167095512558561e-01;
const PP1: f64 = -3.25042107247001499370e-01;
const PP2: f64 = -2.84817495755985104766e-02;
const PP3: f64 = -5.77027029648944159157e-03;
const PP4: f64 = -2.37630166566501626084e-05;
const QQ1: f64 = 3.97917223959155352819e-01;
const QQ2: f64 = 6.50222499887672944485e-02;
const QQ3: f64 = 5.08130628187576562776e-03;
const QQ4: f64 = 1.32494738004321644526e-04;
const QQ5: f64 = -3.96022827877536812320e-06;
const PA0: f64 = -2.36211856075265944077e-03;
const PA1: f64 = 4.14856118683748331666e-01;
const PA2: f64 = -3.72207876035701323847e-01;
const PA3: f64 = 3.18346619901161753674e-01;
const PA4: f64 = -1.10894694282396677476e-01;
const PA5: f64 = 3.54783043256182359371e-02;
const PA6: f64 = -2.16637559486879084300e-03;
const QA1: f64 = 1.06420880400844228286e-01;
const QA2: f64 = 5.40397917702171048937e-01;
const QA3: f64 = 7.18286544141962662868e-02;
const QA4: f64 = 1.26171219808761642112e-01;
const QA5: f64 = 1.36370839120290507362e-02;
const QA6: f64 = 1.19844998467991074170e-02;
const RA0: f64 = -9.86494403484714822705e-03;
const RA1: f64 = -6.93858572707181764372e-01;
const RA2: f64 = -1.05586262253232909814e+01;
const RA3: f64 = -6.23753324503260060396e+01;
const RA4: f64 = -1.62396669462573470355e+02;
const RA5: f64 = -1.84605092906711035994e+02;
const RA6: f64 = -8.12874355063065934246e+01;
const RA7: f64 = -9.81432934416914548592e+00;
const SA1: f64 = 1.96512716674392571292e+01;
const SA2: f64 = 1.37657754143519042600e+02;
const SA3: f64 = 4.34565877475229228821e+02;
const SA4: f64 = 6.45387271733267880336e+02;
const SA5: f64 = 4.29008140027567833386e+02;
const SA6: f64 = 1.08635005541779435134e+02;
const SA7: f64 = 6.57024977031928170135e+00;
const SA8: f64 = -6.04244152148580987438e-02;
const RB0: f64 = -9.86494292470009928597e-03;
const RB1: f64 = -7.99283237680523006574e-01;
const RB2: f64 = -1.77579549177547519889e+01;
const RB3: f64 = -1.60636384855821916062e+02;
const RB4: f64 = -6.37566443368389627722e+02;
const RB5: f64 = -1.02509513161107724954e+03;
const RB6: f64 = -4.83519191608651397019e+02;
const SB1: f64 = 3.03380607434824582924e+01;
const SB2: f64 = 3.25792512996573918826e+02;
const SB3: f64 = 1.53672958608443695994e+03;
const SB4: f64 = 3.19985821950859553908e+03;
const SB5: f64 = 2.55305040643316442583e+03;
const SB6: f64 = 4.74528541206955367215e+02;
const SB7: f64 = -2.24409524465858183362e+01;
const EFX: f64 = 1.283_791_670_955_125_863_16e-1;

/// QuantLib's `ErrorFunction`.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x.is_infinite() {
        return x.signum();
    }
    let ax = x.abs();
    if ax < 0.84375 {
        if ax < 3.725_290_298_4e-9 {
            if ax < 16.0 * f64::MIN_POSITIVE {
                return 0.125 * (8.0 * x + EFX8 * x);
            }
            return x + EFX * x;
        }
        let z = x * x;
        let r = PP0 + z * (PP1 + z * (PP2 + z * (PP3 + z * PP4)));
        let s = 1.0 + z * (QQ1 + z * (QQ2 + z * (QQ3 + z * (QQ4 + z * QQ5))));
        return x + x * (r / s);
    }
    if ax < 1.25 {
        let s = ax - 1.0;
        let p = PA0 + s * (PA1 + s * (PA2 + s * (PA3 + s * (PA4 + s * (PA5 + s * PA6)))));
        let q = 1.0 + s * (QA1 + s * (QA2 + s * (QA3 + s * (QA4 + s * (QA5 + s * QA6)))));
        return if x >= 0.0 { ERX + p / q } else { -ERX - p / q };
    }
    if ax >= 6.0 {
        return if x >= 0.0 { 1.0 } else { -1.0 };
    }
    let s = 1.0 / (ax * ax);
    let (r, ss) = if ax < 2.857_142_857_142_85 {
        (
            RA0 + s * (RA1 + s * (RA2 + s * (RA3 + s * (RA4 + s * (RA5 + s * (RA6 + s * RA7)))))),
            1.0 + s
                * (SA1
                    + s * (SA2
                        + s * (SA3 + s * (SA4 + s * (SA5 + s * (SA6 + s * (SA7 + s * SA8))))))),
        )
    } else {
        (
            RB0 + s * (RB1 + s * (RB2 + s * (RB3 + s * (RB4 + s * (RB5 + s * RB6))))),
            1.0 + s * (SB1 + s * (SB2 + s * (SB3 + s * (SB4 + s * (SB5 + s * (SB6 + s * SB7)))))),
        )
    };
    let r = (-ax * ax - 0.5625 + r / ss).exp();
    if x >= 0.0 { 1.0 - r / ax } else { r / ax - 1.0 }
}

/// The standard normal density: exp(-x^2/2) / sqrt(2 pi); 0 once the
/// exponent is at or below -690 (as QuantLib).
pub fn pdf(x: f64) -> f64 {
    let exponent = -(x * x) / 2.0;
    if exponent <= -690.0 {
        0.0
    } else {
        SQRT_1_2 * ONE_OVER_SQRT_PI * exponent.exp()
    }
}

/// The standard normal distribution function N(x).
pub fn cdf(x: f64) -> f64 {
    let result = 0.5 * (1.0 + erf(x * SQRT_1_2));
    if result <= 1e-8 {
        // Asymptotic expansion for very negative x (A&S 26.2.12).
        let mut sum = 1.0;
        let zsqr = x * x;
        let mut i = 1.0;
        let mut g = 1.0;
        let mut a = f64::MAX;
        loop {
            let lasta = a;
            let x1 = (4.0 * i - 3.0) / zsqr;
            let y = x1 * ((4.0 * i - 1.0) / zsqr);
            a = g * (x1 - y);
            sum -= a;
            g *= y;
            i += 1.0;
            a = a.abs();
            if !(lasta > a && a >= (sum * f64::EPSILON).abs()) {
                break;
            }
        }
        -pdf(x) / x * sum
    } else {
        result
    }
}

/// Gauss-Legendre abscissas and weights on [-1, 1], the positive half of
/// the 6-, 12- and 20-point rules.
const GL6: [(f64, f64); 3] = [
    (0.932_469_514_203_152_1, 0.171_324_492_379_170_3),
    (0.661_209_386_466_264_5, 0.360_761_573_048_138_4),
    (0.238_619_186_083_197, 0.467_913_934_572_690_4),
];
const GL12: [(f64, f64); 6] = [
    (0.981_560_634_246_719_1, 0.047_175_336_386_511_77),
    (0.904_117_256_370_475, 0.106_939_325_995_318_3),
    (0.769_902_674_194_305, 0.160_078_328_543_346_4),
    (0.587_317_954_286_617_1, 0.203_167_426_723_065_9),
    (0.367_831_498_998_180_2, 0.233_492_536_538_354_7),
    (0.125_233_408_511_469_2, 0.249_147_045_813_402_9),
];
const GL20: [(f64, f64); 10] = [
    (0.993_128_599_185_094_9, 0.017_614_007_139_152_12),
    (0.963_971_927_277_913_8, 0.040_601_429_800_386_94),
    (0.912_234_428_251_325_9, 0.062_672_048_334_109_06),
    (0.839_116_971_822_218_8, 0.083_276_741_576_704_75),
    (0.746_331_906_460_150_8, 0.101_930_119_817_240_4),
    (0.636_053_680_726_515, 0.118_194_531_961_518_4),
    (0.510_867_001_950_827_1, 0.131_688_638_449_176_6),
    (0.373_706_088_715_419_6, 0.142_096_109_318_382_1),
    (0.227_785_851_141_645_1, 0.149_172_986_472_603_7),
    (0.076_526_521_133_497_33, 0.152_753_387_130_725_9),
];

/// The bivariate standard normal distribution M(a, b; rho) = P(X < a, Y < b)
/// for correlation rho, by Drezner and Wesolowsky's method as refined by
/// Genz (2004): Gauss-Legendre quadrature of Plackett's identity below
/// |rho| = 0.925, of the Owen-type expansion above; about 1e-15 absolute.
pub fn bivariate_cdf(a: f64, b: f64, rho: f64) -> f64 {
    if !(a.is_finite() || a.is_infinite()) || b.is_nan() || rho.is_nan() {
        return f64::NAN;
    }
    if a == f64::NEG_INFINITY || b == f64::NEG_INFINITY {
        return 0.0;
    }
    if a == f64::INFINITY {
        return cdf(b);
    }
    if b == f64::INFINITY {
        return cdf(a);
    }
    let r = rho.clamp(-1.0, 1.0);
    upper_orthant(-a, -b, r)
}

/// P(X > h, Y > k) with correlation r (Genz's `bvnd`).
fn upper_orthant(h: f64, k: f64, r: f64) -> f64 {
    use std::f64::consts::PI;
    let two_pi = 2.0 * PI;
    let rule: &[(f64, f64)] = if r.abs() < 0.3 {
        &GL6
    } else if r.abs() < 0.75 {
        &GL12
    } else {
        &GL20
    };
    let mut k = k;
    let mut hk = h * k;
    if r.abs() < 0.925 {
        let mut bvn = 0.0;
        if r != 0.0 {
            let hs = (h * h + k * k) / 2.0;
            let asr = r.asin();
            for &(x, w) in rule {
                for sign in [-1.0, 1.0] {
                    let sn = (asr * (sign * x + 1.0) / 2.0).sin();
                    bvn += w * ((sn * hk - hs) / (1.0 - sn * sn)).exp();
                }
            }
            bvn *= asr / (2.0 * two_pi);
        }
        return bvn + cdf(-h) * cdf(-k);
    }
    if r < 0.0 {
        k = -k;
        hk = -hk;
    }
    let mut bvn = 0.0;
    if r.abs() < 1.0 {
        let as_ = (1.0 - r) * (1.0 + r);
        let mut a = as_.sqrt();
        let bs = (h - k) * (h - k);
        let c = (4.0 - hk) / 8.0;
        let d = (12.0 - hk) / 16.0;
        bvn = a
            * (-(bs / as_ + hk) / 2.0).exp()
            * (1.0 - c * (bs - as_) * (1.0 - d * bs / 5.0) / 3.0 + c * d * as_ * as_ / 5.0);
        if hk > -160.0 {
            let b = bs.sqrt();
            bvn -= (-hk / 2.0).exp()
                * two_pi.sqrt()
                * cdf(-b / a)
                * b
                * (1.0 - c * bs * (1.0 - d * bs / 5.0) / 3.0);
        }
        a /= 2.0;
        for &(x, w) in rule {
            for sign in [-1.0, 1.0] {
                let xs = (a * (sign * x + 1.0)) * (a * (sign * x + 1.0));
                let rs = (1.0 - xs).sqrt();
                let exponent = -(bs / xs + hk) / 2.0;
                if exponent > -700.0 {
                    bvn += a
                        * w
                        * exponent.exp()
                        * ((-hk * (1.0 - rs) / (2.0 * (1.0 + rs))).exp() / rs
                            - (1.0 + c * xs * (1.0 + d * xs)));
                }
            }
        }
        bvn = -bvn / two_pi;
    }
    if r > 0.0 {
        bvn + cdf(-h.max(k))
    } else {
        -bvn + (cdf(-h) - cdf(-k)).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert!((cdf(0.0) - 0.5).abs() < 1e-16);
        assert!((cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-15);
        // N(-10) = 7.619853024160527e-24 (mpmath).
        assert!((cdf(-10.0) / 7.619_853_024_160_527e-24 - 1.0).abs() < 1e-13);
        assert!((pdf(0.0) - 0.398_942_280_401_432_7).abs() < 1e-16);
        assert_eq!(pdf(40.0), 0.0);
    }

    #[test]
    fn bivariate_identities() {
        use std::f64::consts::PI;
        for &rho in &[
            -0.99, -0.95, -0.8, -0.5, -0.2, 0.0, 0.1, 0.4, 0.7, 0.9, 0.93, 0.999,
        ] {
            // M(0, 0; rho) = 1/4 + asin(rho) / (2 pi).
            let m00 = bivariate_cdf(0.0, 0.0, rho);
            assert!(
                (m00 - (0.25 + f64::asin(rho) / (2.0 * PI))).abs() < 1e-14,
                "{rho} {m00}"
            );
            for &(a, b) in &[
                (-2.0, 0.5),
                (0.3, -1.2),
                (1.5, 2.5),
                (-0.7, -0.4),
                (3.0, -3.0),
            ] {
                let m = bivariate_cdf(a, b, rho);
                // M(a, b; rho) + M(a, -b; -rho) = N(a), and symmetry in (a, b).
                let n = m + bivariate_cdf(a, -b, -rho);
                assert!(
                    (n - cdf(a)).abs() < 1e-14,
                    "{a} {b} {rho}: {n} vs {}",
                    cdf(a)
                );
                assert!((m - bivariate_cdf(b, a, rho)).abs() < 1e-14);
                assert!((0.0..=cdf(a).min(cdf(b)) + 1e-15).contains(&m));
            }
        }
        for &(a, b) in &[(-2.0, 0.5), (0.3, -1.2), (1.5, 2.5)] {
            assert!((bivariate_cdf(a, b, 0.0) - cdf(a) * cdf(b)).abs() < 1e-15);
            assert!((bivariate_cdf(a, b, 1.0) - cdf(a.min(b))).abs() < 1e-15);
            assert!((bivariate_cdf(a, b, -1.0) - (cdf(a) + cdf(b) - 1.0).max(0.0)).abs() < 1e-15);
        }
    }
}
