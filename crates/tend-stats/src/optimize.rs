//! Maximum likelihood by L-BFGS (argmin), for models whose parameters are positive and
//! are therefore optimised on the log scale.

use std::cell::RefCell;

use argmin::core::{CostFunction, Error, Executor, Gradient};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;

use crate::StatsError;

/// A smooth function to minimise.
pub(crate) trait Objective {
    fn value(&self, x: &[f64]) -> f64;

    /// The value and, written into `gradient`, its gradient. The default uses central
    /// differences, for likelihoods whose derivatives are not worth writing out.
    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        let mut probe = x.to_vec();
        for i in 0..x.len() {
            let h = 1e-6 * x[i].abs().max(1.0);
            probe[i] = x[i] + h;
            let up = self.value(&probe);
            probe[i] = x[i] - h;
            let down = self.value(&probe);
            probe[i] = x[i];
            gradient[i] = (up - down) / (2.0 * h);
        }
        self.value(x)
    }
}

pub(crate) struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub iterations: u64,
}

/// Gradient norm under which a point is accepted as the optimum when the line search
/// gives up (it does so when no step can improve the value in floating point).
const ACCEPTABLE_GRADIENT: f64 = 1e-6;

/// Minimises `objective` from `start` to a gradient norm of 1e-9.
pub(crate) fn minimize(objective: &impl Objective, start: Vec<f64>) -> Result<Minimum, StatsError> {
    let best = RefCell::new(None);
    let problem = Cached {
        objective,
        last: RefCell::new(None),
        best: &best,
    };
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-9)
        .and_then(|s| s.with_tolerance_cost(0.0))
        .expect("tolerances are valid");
    let run = Executor::new(problem, solver)
        .configure(|state| state.param(start).max_iters(1000))
        .run();
    let best = best.borrow_mut().take();
    match (run, best) {
        (Ok(result), _) => {
            let state = result.state();
            let x = state.best_param.clone().ok_or(StatsError::DidNotConverge)?;
            let value = state.best_cost;
            if !value.is_finite() {
                return Err(StatsError::DidNotConverge);
            }
            Ok(Minimum {
                x,
                value,
                iterations: state.iter,
            })
        }
        (Err(_), Some(best)) if best.gradient_norm < ACCEPTABLE_GRADIENT => Ok(Minimum {
            x: best.x,
            value: best.value,
            iterations: 0,
        }),
        _ => Err(StatsError::DidNotConverge),
    }
}

struct Evaluation {
    x: Vec<f64>,
    value: f64,
    gradient: Vec<f64>,
}

struct Best {
    x: Vec<f64>,
    value: f64,
    gradient_norm: f64,
}

/// argmin asks for the cost and the gradient at the same point separately; the
/// likelihoods compute both in one pass, so the last pass is kept.
struct Cached<'a, O> {
    objective: &'a O,
    last: RefCell<Option<Evaluation>>,
    best: &'a RefCell<Option<Best>>,
}

impl<O: Objective> Cached<'_, O> {
    fn evaluate<T>(&self, x: &[f64], read: impl Fn(&Evaluation) -> T) -> T {
        let mut last = self.last.borrow_mut();
        if let Some(hit) = last.as_ref().filter(|e| e.x == x) {
            return read(hit);
        }
        let mut gradient = vec![0.0; x.len()];
        let value = self.objective.value_and_gradient(x, &mut gradient);
        let gradient_norm = gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
        let mut best = self.best.borrow_mut();
        if value.is_finite() && best.as_ref().is_none_or(|b| value < b.value) {
            *best = Some(Best {
                x: x.to_vec(),
                value,
                gradient_norm,
            });
        }
        let evaluation = Evaluation {
            x: x.to_vec(),
            value,
            gradient,
        };
        let out = read(&evaluation);
        *last = Some(evaluation);
        out
    }
}

impl<O: Objective> CostFunction for Cached<'_, O> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        Ok(self.evaluate(x, |e| e.value))
    }
}

impl<O: Objective> Gradient for Cached<'_, O> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        Ok(self.evaluate(x, |e| e.gradient.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rosenbrock;

    impl Objective for Rosenbrock {
        fn value(&self, x: &[f64]) -> f64 {
            (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
        }
    }

    #[test]
    fn finds_the_rosenbrock_minimum_with_numeric_gradients() {
        let found = minimize(&Rosenbrock, vec![-1.2, 1.0]).unwrap();
        assert!((found.x[0] - 1.0).abs() < 1e-5, "{:?}", found.x);
        assert!((found.x[1] - 1.0).abs() < 1e-5, "{:?}", found.x);
    }
}
