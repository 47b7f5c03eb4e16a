//! Straight lines over bar indices and the small regressions the detectors
//! fit.

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Line {
    pub slope: f64,
    /// Value at index 0.
    pub intercept: f64,
}

impl Line {
    pub fn horizontal(y: f64) -> Line {
        Line {
            slope: 0.0,
            intercept: y,
        }
    }

    pub fn through(x0: usize, y0: f64, x1: usize, y1: f64) -> Line {
        if x0 == x1 {
            return Line::horizontal((y0 + y1) / 2.0);
        }
        let slope = (y1 - y0) / (x1 as f64 - x0 as f64);
        Line {
            slope,
            intercept: y0 - slope * x0 as f64,
        }
    }

    /// Least-squares line; `None` with fewer than two distinct x.
    pub fn fit(points: &[(usize, f64)]) -> Option<Line> {
        if points.len() < 2 {
            return None;
        }
        let n = points.len() as f64;
        // Centre x first: indices can be large and the normal equations
        // would otherwise lose precision.
        let mx = points.iter().map(|p| p.0 as f64).sum::<f64>() / n;
        let my = points.iter().map(|p| p.1).sum::<f64>() / n;
        let (mut sxx, mut sxy) = (0.0, 0.0);
        for &(x, y) in points {
            let dx = x as f64 - mx;
            sxx += dx * dx;
            sxy += dx * (y - my);
        }
        if sxx <= 0.0 {
            return None;
        }
        let slope = sxy / sxx;
        Some(Line {
            slope,
            intercept: my - slope * mx,
        })
    }

    pub fn at(&self, x: usize) -> f64 {
        self.intercept + self.slope * x as f64
    }

    pub fn negated(self) -> Line {
        Line {
            slope: -self.slope,
            intercept: -self.intercept,
        }
    }

    /// Index where two lines meet, if they are not parallel.
    pub fn meets(&self, other: &Line) -> Option<f64> {
        let ds = self.slope - other.slope;
        if ds.abs() < f64::EPSILON {
            return None;
        }
        let x = (other.intercept - self.intercept) / ds;
        x.is_finite().then_some(x)
    }
}

/// R² and curvature of a least-squares parabola through `y` (x = position).
/// Used to tell a rounded cup from noise.
pub(crate) fn parabola_fit(y: &[f64]) -> Option<(f64, f64)> {
    let n = y.len();
    if n < 5 {
        return None;
    }
    // x scaled to [-1, 1] keeps the 3×3 system well conditioned.
    let half = (n - 1) as f64 / 2.0;
    let xs: Vec<f64> = (0..n).map(|i| (i as f64 - half) / half).collect();
    let mut s = [0.0f64; 5];
    let mut t = [0.0f64; 3];
    for (x, &v) in xs.iter().zip(y) {
        let mut p = 1.0;
        for (k, sk) in s.iter_mut().enumerate() {
            *sk += p;
            if k < 3 {
                t[k] += p * v;
            }
            p *= x;
        }
    }
    let m = [[s[0], s[1], s[2]], [s[1], s[2], s[3]], [s[2], s[3], s[4]]];
    let coef = solve3(m, t)?;
    let mean = y.iter().sum::<f64>() / n as f64;
    let (mut ss_res, mut ss_tot) = (0.0, 0.0);
    for (x, &v) in xs.iter().zip(y) {
        let fit = coef[0] + coef[1] * x + coef[2] * x * x;
        ss_res += (v - fit) * (v - fit);
        ss_tot += (v - mean) * (v - mean);
    }
    if ss_tot <= 0.0 {
        return None;
    }
    Some((1.0 - ss_res / ss_tot, coef[2]))
}

fn det3(m: [[f64; 3]; 3]) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

fn solve3(m: [[f64; 3]; 3], t: [f64; 3]) -> Option<[f64; 3]> {
    let d = det3(m);
    if d.abs() < 1e-12 || !d.is_finite() {
        return None;
    }
    let mut out = [0.0; 3];
    for (col, o) in out.iter_mut().enumerate() {
        let mut mc = m;
        for row in 0..3 {
            mc[row][col] = t[row];
        }
        *o = det3(mc) / d;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_an_exact_line() {
        let pts: Vec<(usize, f64)> = (0..5)
            .map(|x| (x * 10 + 1000, 3.0 - 0.5 * x as f64 * 10.0))
            .collect();
        let line = Line::fit(&pts).unwrap();
        for &(x, y) in &pts {
            assert!((line.at(x) - y).abs() < 1e-9);
        }
        assert!(Line::fit(&pts[..1]).is_none());
        assert!(Line::fit(&[(5, 1.0), (5, 2.0)]).is_none());
    }

    #[test]
    fn lines_meet_where_expected() {
        let up = Line::through(0, 0.0, 10, 10.0);
        let down = Line::through(0, 10.0, 10, 0.0);
        assert!((up.meets(&down).unwrap() - 5.0).abs() < 1e-12);
        assert!(up.meets(&up).is_none());
        assert_eq!(up.negated().at(4), -4.0);
    }

    #[test]
    fn parabola_fit_tells_a_u_from_a_line() {
        let u: Vec<f64> = (0..40)
            .map(|i| ((i as f64 - 20.0) / 20.0).powi(2))
            .collect();
        let (r2, curvature) = parabola_fit(&u).unwrap();
        assert!(r2 > 0.999 && curvature > 0.0);
        let ramp: Vec<f64> = (0..40).map(|i| i as f64).collect();
        let (_, curvature) = parabola_fit(&ramp).unwrap();
        assert!(curvature.abs() < 1e-9);
        assert!(parabola_fit(&[1.0; 40]).is_none());
        assert!(parabola_fit(&[1.0, 2.0]).is_none());
    }
}
