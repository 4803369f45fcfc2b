//! Time as the databases keep it: UTC instants as Unix milliseconds, one representation for the
//! local store and the server's SQLite backend, so that neither can drift from the other (a
//! seconds column in one and milliseconds in the other would sort right and mean nonsense).

use chrono::{DateTime, Utc};

/// An instant as stored: Unix milliseconds, UTC.
pub fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A stored instant; `None` when the value is outside what chrono can hold (a damaged row).
pub fn from_ms(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_round_trip_and_out_of_range_values_are_refused() {
        let t: DateTime<Utc> = "2026-01-20T08:00:00.123Z".parse().unwrap();
        assert_eq!(from_ms(to_ms(t)), Some(t));
        assert_eq!(from_ms(i64::MAX), None);
    }
}
