//! Harrell's concordance index, with lifelines' rules for ties.

/// The share of comparable pairs whose predicted times are ordered like their
/// observed times; ties in prediction count one half. A pair is comparable when the
/// earlier of the two had the event and the other lasted strictly longer, or was
/// censored no earlier. Sorting plus a Fenwick tree: O(n log n).
///
/// ```
/// use tend_stats::concordance_index;
/// let times = [1.0, 2.0, 3.0];
/// let observed = [true, true, true];
/// assert_eq!(concordance_index(&times, &[1.0, 2.0, 3.0], &observed), 1.0);
/// assert_eq!(concordance_index(&times, &[3.0, 2.0, 1.0], &observed), 0.0);
/// ```
pub fn concordance_index(times: &[f64], predicted: &[f64], observed: &[bool]) -> f64 {
    concordance_counts(times, predicted, observed).index()
}

/// Comparable pairs, and how many of them are ordered correctly or tied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConcordanceCounts {
    pub correct: u64,
    pub tied: u64,
    pub pairs: u64,
}

impl ConcordanceCounts {
    /// (correct + ½ tied) ÷ pairs; one half when nothing is comparable.
    pub fn index(&self) -> f64 {
        if self.pairs == 0 {
            return 0.5;
        }
        (self.correct as f64 + 0.5 * self.tied as f64) / self.pairs as f64
    }

    /// Pools the counts of two groups, as a stratified concordance does.
    pub fn plus(self, other: ConcordanceCounts) -> ConcordanceCounts {
        ConcordanceCounts {
            correct: self.correct + other.correct,
            tied: self.tied + other.tied,
            pairs: self.pairs + other.pairs,
        }
    }
}

/// The counts behind [`concordance_index`].
pub fn concordance_counts(
    times: &[f64],
    predicted: &[f64],
    observed: &[bool],
) -> ConcordanceCounts {
    let mut deaths: Vec<usize> = (0..times.len()).filter(|&i| observed[i]).collect();
    let mut censored: Vec<usize> = (0..times.len()).filter(|&i| !observed[i]).collect();
    if deaths.is_empty() {
        return ConcordanceCounts::default();
    }
    deaths.sort_by(|&a, &b| times[a].total_cmp(&times[b]));
    censored.sort_by(|&a, &b| times[a].total_cmp(&times[b]));
    // Ranks of the deaths' predictions, for the tree.
    let mut values: Vec<f64> = deaths.iter().map(|&i| predicted[i]).collect();
    values.sort_by(f64::total_cmp);
    values.dedup();
    let mut tree = Fenwick::new(values.len());
    // Each subject's prediction as (rank among the deaths' predictions, whether it
    // equals the prediction at that rank), looked up once.
    let ranks: Vec<(usize, bool)> = predicted
        .iter()
        .map(|&x| {
            let rank = values.partition_point(|&v| v < x);
            (rank, values.get(rank) == Some(&x))
        })
        .collect();

    let (mut pairs, mut correct, mut tied) = (0u64, 0u64, 0u64);
    let (mut d, mut c) = (0, 0);
    let mut count_against_earlier_deaths = |group: &[usize], tree: &Fenwick| {
        for &i in group {
            let (rank, exact) = ranks[i];
            let below = tree.prefix(rank);
            pairs += tree.total();
            correct += below;
            if exact {
                tied += tree.prefix(rank + 1) - below;
            }
        }
    };
    while d < deaths.len() || c < censored.len() {
        // Deaths at a time come before censorings at the same time.
        let take_censored =
            c < censored.len() && (d == deaths.len() || times[deaths[d]] > times[censored[c]]);
        if take_censored {
            let time = times[censored[c]];
            let end = c + censored[c..]
                .iter()
                .take_while(|&&i| times[i] == time)
                .count();
            count_against_earlier_deaths(&censored[c..end], &tree);
            c = end;
        } else {
            let time = times[deaths[d]];
            let end = d + deaths[d..]
                .iter()
                .take_while(|&&i| times[i] == time)
                .count();
            count_against_earlier_deaths(&deaths[d..end], &tree);
            for &i in &deaths[d..end] {
                tree.insert(ranks[i].0);
            }
            d = end;
        }
    }
    ConcordanceCounts {
        correct,
        tied,
        pairs,
    }
}

/// Counts of inserted ranks, with prefix sums in O(log n).
struct Fenwick {
    tree: Vec<u64>,
    total: u64,
}

impl Fenwick {
    fn new(size: usize) -> Self {
        Fenwick {
            tree: vec![0; size + 1],
            total: 0,
        }
    }

    fn insert(&mut self, rank: usize) {
        self.total += 1;
        let mut i = rank + 1;
        while i < self.tree.len() {
            self.tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }

    /// How many inserted ranks are below `rank`.
    fn prefix(&self, rank: usize) -> u64 {
        let mut sum = 0;
        let mut i = rank;
        while i > 0 {
            sum += self.tree[i];
            i -= i & i.wrapping_neg();
        }
        sum
    }

    fn total(&self) -> u64 {
        self.total
    }
}
