//! Expansion: the products similar accounts hold that an account does not
//! (whitespace), the signals in an account's own data that it could buy more
//! (signals), and the expansion ARR booked on contracts with the opportunities it is
//! attributed to (attribution).

pub mod attribution;
pub mod signals;
pub mod whitespace;

pub use attribution::{attribute, booked_expansion, Attribution, Booking, WonOpportunity};
pub use signals::{
    expansion_signals, ExpansionConfig, ExpansionError, ExpansionSignal, Module, DEFAULT_EXPANSION,
};
pub use whitespace::{whitespace, Gap, Holder, MIN_PEERS, SIZE_FACTOR};
