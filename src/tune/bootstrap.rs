//! Bootstrap confidence intervals for precision and recall at a chosen threshold, so a
//! moderator sees how much a few hundred labels can be trusted. Resampling uses a small
//! seeded SplitMix64 generator: the same seed gives the same intervals on every machine.

use super::metrics::Scored;

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// Percentile bootstrap 95 % intervals at a fixed threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bootstrap {
    /// Resamples drawn.
    pub resamples: u32,
    /// 95 % interval for precision; `None` when no resample flagged anything.
    pub precision: Option<Interval>,
    /// 95 % interval for recall; `None` when no resample had a positive.
    pub recall: Option<Interval>,
    /// Resamples in which precision was undefined (nothing flagged), left out of its interval.
    pub precision_undefined: u32,
    /// Resamples in which recall was undefined (no positive drawn), left out of its interval.
    pub recall_undefined: u32,
}

/// Draws `resamples` samples of the same size with replacement and takes the 2.5th and
/// 97.5th percentiles of precision and recall at `threshold` (flag when score >= threshold).
/// The threshold is held fixed: the interval covers sampling noise in the labels, not the
/// choice of threshold. Empty input or zero resamples give no intervals.
pub fn bootstrap(samples: &[Scored], threshold: f64, resamples: u32, seed: u64) -> Bootstrap {
    let mut rng = SplitMix64::new(seed);
    let n = samples.len();
    let mut precisions = Vec::with_capacity(resamples as usize);
    let mut recalls = Vec::with_capacity(resamples as usize);
    for _ in 0..if n == 0 { 0 } else { resamples } {
        let (mut tp, mut fp, mut positives) = (0u64, 0u64, 0u64);
        for _ in 0..n {
            let s = samples[rng.below(n as u64) as usize];
            let flagged = s.score >= threshold;
            positives += u64::from(s.positive);
            tp += u64::from(flagged && s.positive);
            fp += u64::from(flagged && !s.positive);
        }
        if tp + fp > 0 {
            precisions.push(tp as f64 / (tp + fp) as f64);
        }
        if positives > 0 {
            recalls.push(tp as f64 / positives as f64);
        }
    }
    let drawn = if n == 0 { 0 } else { resamples };
    Bootstrap {
        resamples: drawn,
        precision_undefined: drawn - precisions.len() as u32,
        recall_undefined: drawn - recalls.len() as u32,
        precision: interval(&mut precisions),
        recall: interval(&mut recalls),
    }
}

fn interval(values: &mut [f64]) -> Option<Interval> {
    values.sort_by(f64::total_cmp);
    Some(Interval {
        low: percentile(values, 2.5)?,
        high: percentile(values, 97.5)?,
    })
}

/// The `q`-th percentile (0–100) of sorted values with linear interpolation between
/// neighbours, as NumPy's default `np.percentile(values, q)`. `None` for no values.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = (q.clamp(0.0, 100.0) / 100.0) * last as f64;
    let lo = rank.floor() as usize;
    let hi = (lo + 1).min(last);
    let frac = rank - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to drive a bootstrap.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (multiply-shift; the bias is below 2⁻³² for samples this size).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: the author's C code (<https://prng.di.unimi.it/splitmix64.c>) transcribed to
    /// Python with explicit 64-bit masking, seeded with 1234567:
    ///
    /// ```python
    /// M = (1 << 64) - 1; s = 1234567; out = []
    /// for _ in range(5):
    ///     s = (s + 0x9E3779B97F4A7C15) & M; z = s
    ///     z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    ///     z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    ///     out.append(z ^ (z >> 31))
    /// print(out)
    /// ```
    #[test]
    fn splitmix64_matches_reference_outputs() {
        let mut rng = SplitMix64::new(1_234_567);
        let want = [
            6457827717110365317,
            3203168211198807973,
            9817491932198370423,
            4593380528125082431,
            16408922859458223821,
        ];
        for w in want {
            assert_eq!(rng.next_u64(), w);
        }
    }

    /// Expected from NumPy: `np.percentile([1, 2, 4, 8, 16], [0, 2.5, 25, 50, 97.5, 100])`
    /// → `[1.0, 1.1, 2.0, 4.0, 15.2, 16.0]`.
    #[test]
    fn percentile_matches_numpy_linear() {
        let v = [1.0, 2.0, 4.0, 8.0, 16.0];
        for (q, want) in [
            (0.0, 1.0),
            (2.5, 1.1),
            (25.0, 2.0),
            (50.0, 4.0),
            (97.5, 15.2),
            (100.0, 16.0),
        ] {
            let got = percentile(&v, q).unwrap();
            assert!((got - want).abs() < 1e-12, "q {q}: {got}");
        }
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[0.3], 97.5), Some(0.3));
    }

    fn sample(n: usize) -> Vec<Scored> {
        (0..n)
            .map(|i| Scored {
                score: (i % 10) as f64 / 10.0,
                positive: i % 3 == 0,
            })
            .collect()
    }

    #[test]
    fn same_seed_same_intervals_and_they_bracket_the_estimate() {
        let s = sample(300);
        let a = bootstrap(&s, 0.5, 500, 7);
        assert_eq!(a, bootstrap(&s, 0.5, 500, 7));
        assert_ne!(a, bootstrap(&s, 0.5, 500, 8));
        let p = a.precision.unwrap();
        let r = a.recall.unwrap();
        let point = crate::tune::metrics::point_at(&s, 0.5);
        let (pp, rr) = (point.precision().unwrap(), point.recall().unwrap());
        assert!(p.low < pp && pp < p.high, "{p:?} vs {pp}");
        assert!(r.low < rr && rr < r.high, "{r:?} vs {rr}");
        assert!(p.high - p.low < 0.25);
        assert_eq!(
            (a.resamples, a.precision_undefined, a.recall_undefined),
            (500, 0, 0)
        );
    }

    #[test]
    fn degenerate_samples_give_no_interval_not_nan() {
        let none = bootstrap(&[], 0.5, 100, 1);
        assert_eq!(
            (none.precision, none.recall, none.resamples),
            (None, None, 0)
        );
        let negatives = [Scored {
            score: 0.1,
            positive: false,
        }; 5];
        let b = bootstrap(&negatives, 0.5, 100, 1);
        assert_eq!((b.precision, b.recall), (None, None));
        assert_eq!((b.precision_undefined, b.recall_undefined), (100, 100));
        assert_eq!(bootstrap(&sample(10), 0.5, 0, 1).precision, None);
    }
}
