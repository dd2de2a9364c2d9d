//! The little dense linear algebra the models need: solving and inverting small
//! symmetric positive-definite systems (one row per covariate). Hand-written because a
//! few dozen lines of Cholesky cost less, to build and to read, than a linear-algebra
//! crate for matrices this size.

/// A square matrix stored row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub size: usize,
    pub values: Vec<f64>,
}

impl Matrix {
    pub fn zeros(size: usize) -> Self {
        Matrix {
            size,
            values: vec![0.0; size * size],
        }
    }

    pub fn get(&self, row: usize, column: usize) -> f64 {
        self.values[row * self.size + column]
    }

    pub fn add(&mut self, row: usize, column: usize, value: f64) {
        self.values[row * self.size + column] += value;
    }

    /// The lower-triangular Cholesky factor, or `None` if the matrix is not positive
    /// definite.
    pub fn cholesky(&self) -> Option<Matrix> {
        let n = self.size;
        let mut lower = Matrix::zeros(n);
        for i in 0..n {
            for j in 0..=i {
                let mut sum = self.get(i, j);
                for k in 0..j {
                    sum -= lower.get(i, k) * lower.get(j, k);
                }
                if i == j {
                    if sum <= 0.0 || !sum.is_finite() {
                        return None;
                    }
                    lower.values[i * n + j] = sum.sqrt();
                } else {
                    lower.values[i * n + j] = sum / lower.get(j, j);
                }
            }
        }
        Some(lower)
    }

    /// Solves `self · x = b` for a positive-definite `self`.
    pub fn solve(&self, b: &[f64]) -> Option<Vec<f64>> {
        let lower = self.cholesky()?;
        Some(solve_with_cholesky(&lower, b))
    }

    /// The inverse of a positive-definite matrix.
    pub fn inverse(&self) -> Option<Matrix> {
        let lower = self.cholesky()?;
        let n = self.size;
        let mut inverse = Matrix::zeros(n);
        for column in 0..n {
            let mut unit = vec![0.0; n];
            unit[column] = 1.0;
            for (row, value) in solve_with_cholesky(&lower, &unit).into_iter().enumerate() {
                inverse.values[row * n + column] = value;
            }
        }
        Some(inverse)
    }
}

fn solve_with_cholesky(lower: &Matrix, b: &[f64]) -> Vec<f64> {
    let n = lower.size;
    let mut y = vec![0.0; n];
    for i in 0..n {
        let known: f64 = (0..i).map(|k| lower.get(i, k) * y[k]).sum();
        y[i] = (b[i] - known) / lower.get(i, i);
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let known: f64 = (i + 1..n).map(|k| lower.get(k, i) * x[k]).sum();
        x[i] = (y[i] - known) / lower.get(i, i);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_inverts_a_positive_definite_matrix() {
        let m = Matrix {
            size: 2,
            values: vec![4.0, 2.0, 2.0, 3.0],
        };
        let x = m.solve(&[2.0, 1.0]).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
        let inverse = m.inverse().unwrap();
        // [4 2; 2 3]⁻¹ = [3 −2; −2 4] / 8
        let expected = [0.375, -0.25, -0.25, 0.5];
        for (a, e) in inverse.values.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12);
        }
        assert!(Matrix {
            size: 1,
            values: vec![-1.0]
        }
        .cholesky()
        .is_none());
    }
}
