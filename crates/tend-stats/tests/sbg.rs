//! The shifted-beta-geometric model against Fader and Hardie (2007): fitted to the
//! first seven years of the paper's survivor counts it must give the parameters the
//! paper published, and its closed-form DERL (Fader and Hardie 2010) must equal the
//! term-by-term sums of `tools/make_sbg_fixtures.py` (mpmath, 40 digits).

mod common;

use common::numbers;
use tend_stats::sbg::ShiftedBetaGeometric;

#[test]
fn fitting_the_papers_survivor_counts_gives_its_published_parameters() {
    let fixture = common::fixture("sbg.json");
    for (name, cohort) in fixture["cohorts"].as_object().unwrap() {
        let alive = numbers(&cohort["alive"]);
        let model = ShiftedBetaGeometric::fit_cohort(&alive).unwrap();
        let published = &cohort["published"];
        for (what, got, paper, mle) in [
            ("gamma", model.gamma, &published["gamma"], &cohort["gamma"]),
            ("delta", model.delta, &published["delta"], &cohort["delta"]),
        ] {
            let (paper, mle) = (paper.as_f64().unwrap(), mle.as_f64().unwrap());
            // The paper prints three decimals.
            assert!(
                (got - paper).abs() < 1e-3,
                "{name} {what}: {got} vs the paper's {paper}"
            );
            // The optimum is flat along δ: L-BFGS on numerical gradients stops within 1e-5.
            assert!(
                (got - mle).abs() < 1e-5,
                "{name} {what}: {got} vs the optimum {mle}"
            );
        }
        let ll = cohort["log_likelihood"].as_f64().unwrap();
        assert!(
            (model.log_likelihood - ll).abs() < 1e-6,
            "{name}: log-likelihood {}",
            model.log_likelihood
        );
        for (t, expected) in numbers(&cohort["survival"]).into_iter().enumerate() {
            let got = model.survival(t as u32);
            assert!(
                (got - expected).abs() < 1e-6,
                "{name}: S({t}) = {got}, expected {expected}"
            );
        }
    }
}

#[test]
fn the_closed_form_derl_equals_the_sum_of_discounted_survival() {
    let fixture = common::fixture("sbg.json");
    let cases = fixture["derl"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for case in cases {
        let model = ShiftedBetaGeometric {
            gamma: case["gamma"].as_f64().unwrap(),
            delta: case["delta"].as_f64().unwrap(),
            log_likelihood: 0.0,
        };
        let rate = case["discount_rate"].as_f64().unwrap();
        let renewals = case["renewals"].as_u64().unwrap() as u32;
        let expected = case["derl"].as_f64().unwrap();
        let got = model.derl(rate, renewals);
        assert!(
            ((got - expected) / expected).abs() < 1e-9,
            "{} at d = {rate} after {renewals} renewals: {got} vs {expected}",
            case["segment"]
        );
    }
}
