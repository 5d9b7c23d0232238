//! The one clock validation reads. Consensus rules that look at the time — a header not too far
//! in the future (Bitcoin Core's `MAX_FUTURE_BLOCK_TIME`), a slot not ahead of the wall clock —
//! and the producer and mempool expiry ask a [`Clock`], so a test can run a node whose clock is
//! skewed against its peers' without touching the machine's time.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, as this node believes them.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time in whole seconds since 1970-01-01 UTC.
    fn unix_now(&self) -> u64;
}

/// A shared clock handle.
pub type SharedClock = Arc<dyn Clock>;

/// The machine's wall clock, optionally shifted by a fixed number of seconds (a node configured
/// with a skewed clock, to test how its peers treat it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock {
    offset_secs: i64,
}

impl SystemClock {
    /// The machine's clock unchanged.
    pub fn new() -> SystemClock {
        SystemClock::default()
    }

    /// The machine's clock shifted by `offset_secs` (negative: behind).
    pub fn skewed(offset_secs: i64) -> SystemClock {
        SystemClock { offset_secs }
    }

    /// A shared handle to this clock.
    pub fn shared(self) -> SharedClock {
        Arc::new(self)
    }
}

impl Clock for SystemClock {
    fn unix_now(&self) -> u64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        now.saturating_add_signed(self.offset_secs)
    }
}

/// A clock that only moves when told to: unit tests of time-dependent rules.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock standing at `unix_secs`.
    pub fn at(unix_secs: u64) -> ManualClock {
        ManualClock(AtomicU64::new(unix_secs))
    }

    /// Moves the clock to `unix_secs`.
    pub fn set(&self, unix_secs: u64) {
        self.0.store(unix_secs, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn unix_now(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skewed_clock_is_shifted_by_its_offset_and_never_wraps() {
        let real = SystemClock::new().unix_now();
        let ahead = SystemClock::skewed(3_600).unix_now();
        assert!(
            (3_600..3_602).contains(&(ahead - real)),
            "{ahead} vs {real}"
        );
        assert_eq!(SystemClock::skewed(i64::MIN).unix_now(), 0);
    }

    #[test]
    fn a_manual_clock_moves_only_when_set() {
        let clock = ManualClock::at(1_000);
        assert_eq!(clock.unix_now(), 1_000);
        clock.set(2_000);
        assert_eq!(clock.unix_now(), 2_000);
    }
}
