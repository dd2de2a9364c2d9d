//! The Monte Carlo's inner loop: `LANES` draws at once in one pass over the
//! renewals, each lane with a xoshiro256++ generator of its own. Where the processor
//! has AVX2 the lanes run four to a register (an unsafe kernel, about three times as
//! fast: no maintained crate offers a lane-parallel generator); elsewhere one after
//! another. Both paths make the same numbers bit for bit — the same generator, the
//! same products and sums in the same order — so a forecast does not depend on the
//! machine (a test holds them equal, and the generator equal to `rand_xoshiro`'s).

use std::collections::HashMap;

use rand::{RngCore, SeedableRng};
use rand_xoshiro::SplitMix64;

use super::{list_key, RenewalDraw};

/// Draws made side by side in one pass: each renewal is read once per `LANES` draws,
/// and the lanes' sums and generators do not wait on each other.
pub(super) const LANES: usize = 8;

/// The state of one lane's xoshiro256++.
pub(super) type State = [u64; 4];

/// The state `rand_xoshiro`'s `Xoshiro256PlusPlus::seed_from_u64(seed)` starts from.
pub(super) fn state_of(seed: u64) -> State {
    let mut mix = SplitMix64::seed_from_u64(seed);
    std::array::from_fn(|_| mix.next_u64())
}

/// The renewals laid out for the draws: a 32-bit threshold per probability (up to
/// 2³², a certain renewal), the due amount, and where its ratios are in one table (a
/// renewal without ratios points at a single 1).
pub(super) struct Layout {
    thresholds: Vec<u64>,
    dues: Vec<f64>,
    /// (first index in `table`, length); every index drawn is below first + length,
    /// which is at most `table.len()`: the AVX2 kernel's reads rely on it.
    lists: Vec<(u64, u64)>,
    table: Vec<f64>,
}

impl Layout {
    pub(super) fn of(renewals: &[RenewalDraw]) -> Layout {
        // Renewals sharing a ratio list are drawn one after another, so that its
        // table stays in cache.
        let mut order: Vec<&RenewalDraw> = renewals.iter().collect();
        order.sort_by_key(|r| list_key(r.ratios));
        let mut table = vec![1.0];
        let mut placed: HashMap<(usize, usize), (u64, u64)> = HashMap::new();
        let mut lists = Vec::with_capacity(order.len());
        for r in &order {
            lists.push(if r.ratios.is_empty() {
                (0, 1)
            } else {
                *placed.entry(list_key(r.ratios)).or_insert_with(|| {
                    let at = table.len() as u64;
                    table.extend_from_slice(r.ratios);
                    (at, r.ratios.len() as u64)
                })
            });
        }
        Layout {
            thresholds: order
                .iter()
                .map(|r| (r.probability * 4_294_967_296.0).min(4_294_967_296.0) as u64)
                .collect(),
            dues: order.iter().map(|r| r.due).collect(),
            lists,
            table,
        }
    }

    /// `passes` × `LANES` totals from the lanes' generators, which move on; pass by
    /// pass, lane by lane.
    pub(super) fn draw(&self, states: &mut [State; LANES], passes: usize) -> Vec<f64> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2, and `lists` keeps every index in
            // `table`.
            return unsafe { avx2::draw(self, states, passes) };
        }
        self.draw_scalar(states, passes)
    }

    /// [`Layout::draw`] one lane after another.
    pub(super) fn draw_scalar(&self, states: &mut [State; LANES], passes: usize) -> Vec<f64> {
        let mut totals = Vec::with_capacity(passes * LANES);
        for _ in 0..passes {
            let mut sums = [0.0; LANES];
            for ((&threshold, &due), &(at, len)) in
                self.thresholds.iter().zip(&self.dues).zip(&self.lists)
            {
                for (state, sum) in states.iter_mut().zip(&mut sums) {
                    // One 64-bit draw: its high 32 bits decide whether it renews
                    // (against the probability as a 32-bit threshold), its low 32 bits
                    // pick the ratio (Lemire's multiply-shift, unbiased enough at these
                    // list sizes). Branch-free: whether it renews is a coin a branch
                    // predictor cannot guess.
                    let x = step(state);
                    let renews = f64::from(u8::from((x >> 32) < threshold));
                    let ratio = self.table[(at + (((x & 0xFFFF_FFFF) * len) >> 32)) as usize];
                    *sum += renews * (due * ratio);
                }
            }
            totals.extend(sums);
        }
        totals
    }
}

/// One xoshiro256++ step on a plain state, the same as `rand_xoshiro`'s (a test
/// holds them equal); plain so that the AVX2 kernel can start from and hand back the
/// same states (`rand_xoshiro` keeps its state private).
pub(super) fn step(s: &mut State) -> u64 {
    let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
    result
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{Layout, State, LANES};

    /// Registers of four lanes each.
    const QUADS: usize = LANES / 4;

    /// Four lanes' generator states, one state word per register.
    struct Quad([__m256i; 4]);

    impl Quad {
        #[target_feature(enable = "avx2")]
        fn load(states: &[State]) -> Quad {
            let word = |w: usize| {
                _mm256_set_epi64x(
                    states[3][w] as i64,
                    states[2][w] as i64,
                    states[1][w] as i64,
                    states[0][w] as i64,
                )
            };
            Quad([word(0), word(1), word(2), word(3)])
        }

        #[target_feature(enable = "avx2")]
        fn store(&self, states: &mut [State]) {
            for (w, register) in self.0.iter().enumerate() {
                let mut words = [0i64; 4];
                // SAFETY: `words` holds four 64-bit values; unaligned store.
                unsafe { _mm256_storeu_si256(words.as_mut_ptr().cast(), *register) };
                for (state, word) in states.iter_mut().zip(words) {
                    state[w] = word as u64;
                }
            }
        }

        /// xoshiro256++'s step in four lanes.
        #[target_feature(enable = "avx2")]
        #[inline]
        fn next(&mut self) -> __m256i {
            let [s0, s1, s2, s3] = self.0;
            let sum = _mm256_add_epi64(s0, s3);
            let rotated = _mm256_or_si256(_mm256_slli_epi64(sum, 23), _mm256_srli_epi64(sum, 41));
            let result = _mm256_add_epi64(rotated, s0);
            let t = _mm256_slli_epi64(s1, 17);
            let s2 = _mm256_xor_si256(s2, s0);
            let s3 = _mm256_xor_si256(s3, s1);
            let s1 = _mm256_xor_si256(s1, s2);
            let s0 = _mm256_xor_si256(s0, s3);
            let s2 = _mm256_xor_si256(s2, t);
            let s3 = _mm256_or_si256(_mm256_slli_epi64(s3, 45), _mm256_srli_epi64(s3, 19));
            self.0 = [s0, s1, s2, s3];
            result
        }

        /// One renewal's amount in four lanes, as the scalar path computes it.
        #[target_feature(enable = "avx2")]
        #[inline]
        fn amount(
            &mut self,
            table: *const f64,
            threshold: __m256i,
            due: __m256d,
            at: __m256i,
            len: __m256i,
        ) -> __m256d {
            let x = self.next();
            // Both sides are below 2³³, so the signed comparison is the unsigned one.
            let renews = _mm256_cmpgt_epi64(threshold, _mm256_srli_epi64(x, 32));
            // The low 32 bits times the length, shifted: the index in the list.
            let index = _mm256_add_epi64(at, _mm256_srli_epi64(_mm256_mul_epu32(x, len), 32));
            // SAFETY: every index is below at + len ≤ the table's length (`Layout`).
            let ratio = unsafe { _mm256_i64gather_pd::<8>(table, index) };
            _mm256_and_pd(_mm256_mul_pd(due, ratio), _mm256_castsi256_pd(renews))
        }
    }

    /// [`Layout::draw`] with four lanes to a register.
    ///
    /// # Safety
    /// The processor must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn draw(
        layout: &Layout,
        states: &mut [State; LANES],
        passes: usize,
    ) -> Vec<f64> {
        let mut quads: [Quad; QUADS] =
            std::array::from_fn(|q| Quad::load(&states[4 * q..4 * q + 4]));
        let table = layout.table.as_ptr();
        let mut totals = Vec::with_capacity(passes * LANES);
        for _ in 0..passes {
            let mut sums = [_mm256_setzero_pd(); QUADS];
            for ((&threshold, &due), &(at, len)) in layout
                .thresholds
                .iter()
                .zip(&layout.dues)
                .zip(&layout.lists)
            {
                let threshold = _mm256_set1_epi64x(threshold as i64);
                let due = _mm256_set1_pd(due);
                let at = _mm256_set1_epi64x(at as i64);
                let len = _mm256_set1_epi64x(len as i64);
                for (quad, sum) in quads.iter_mut().zip(&mut sums) {
                    *sum = _mm256_add_pd(*sum, quad.amount(table, threshold, due, at, len));
                }
            }
            let mut lanes = [0.0; LANES];
            for (q, sum) in sums.iter().enumerate() {
                // SAFETY: `lanes` holds four doubles from 4·q on; unaligned store.
                unsafe { _mm256_storeu_pd(lanes.as_mut_ptr().add(4 * q), *sum) };
            }
            totals.extend(lanes);
        }
        for (q, quad) in quads.iter().enumerate() {
            quad.store(&mut states[4 * q..4 * q + 4]);
        }
        totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn the_plain_generator_is_rand_xoshiros() {
        let mut library = Xoshiro256PlusPlus::seed_from_u64(99);
        let mut plain = state_of(99);
        for _ in 0..1_000 {
            assert_eq!(step(&mut plain), library.next_u64());
        }
    }

    #[test]
    fn both_paths_draw_the_same_totals_and_leave_the_same_states() {
        let long: Vec<f64> = (0..5_000).map(|k| 0.7 + (k % 97) as f64 / 100.0).collect();
        let short = [0.9, 1.0, 1.25];
        let renewals: Vec<RenewalDraw> = (0..301)
            .map(|i| RenewalDraw {
                probability: [0.0, 1.0, 0.35, 0.97][i % 4],
                due: 100.0 + 37.5 * i as f64,
                ratios: match i % 3 {
                    0 => &long,
                    1 => &short,
                    _ => &[],
                },
            })
            .collect();
        let layout = Layout::of(&renewals);
        let start: [State; LANES] = std::array::from_fn(|lane| state_of(lane as u64 + 5));
        let (mut a, mut b) = (start, start);
        for _ in 0..3 {
            let fast = layout.draw(&mut a, 4);
            let plain = layout.draw_scalar(&mut b, 4);
            assert_eq!(fast.len(), 4 * LANES);
            assert!(fast
                .iter()
                .zip(&plain)
                .all(|(x, y)| x.to_bits() == y.to_bits()));
            assert_eq!(a, b);
        }
    }
}
