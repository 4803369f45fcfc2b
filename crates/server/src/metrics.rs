//! `/metrics` in the Prometheus text format (version 0.0.4): what an operator of several nodes
//! watches. Process-wide, like the process it describes; lock-free counters, so counting costs an
//! atomic add on the paths it measures.
//!
//! - `lonceng_streams_open`: open `GET /v1/stream` connections on this node;
//! - `lonceng_events_received_total`: producer events and Qontak webhooks taken in;
//! - `lonceng_changes_sent_total`: changes written to streams;
//! - `lonceng_delivery_lag_seconds`: from a change's commit to its frame on a stream;
//! - `lonceng_db_seconds`: how long database calls take (every backend call);
//! - `lonceng_db_unavailable_total`: calls that found the database unreachable;
//! - `lonceng_dead_letters_total`: webhook and CRM items kept as dead letters;
//! - `lonceng_http_responses_total{class}`: answers by status class.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the histograms' buckets, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// Microseconds.
    sum_us: AtomicU64,
}

impl Histogram {
    const fn new() -> Histogram {
        Histogram {
            buckets: [const { AtomicU64::new(0) }; BUCKETS.len()],
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_us.fetch_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    /// The upper bound (seconds) of the bucket the `q`-quantile falls in; none before anything
    /// was observed, or when it lies beyond the last bound.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let count = self.count.load(Relaxed);
        if count == 0 {
            return None;
        }
        let wanted = (q * count as f64).ceil().max(1.0) as u64;
        let mut cumulative = 0u64;
        for (bound, n) in BUCKETS.iter().zip(&self.buckets) {
            cumulative = cumulative.saturating_add(n.load(Relaxed));
            if cumulative >= wanted {
                return Some(*bound);
            }
        }
        None
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0u64;
        for (bound, n) in BUCKETS.iter().zip(&self.buckets) {
            cumulative = cumulative.saturating_add(n.load(Relaxed));
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_us.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
    }
}

pub struct Metrics {
    pub events_received: AtomicU64,
    pub changes_sent: AtomicU64,
    pub delivery_lag: Histogram,
    pub db: Histogram,
    pub db_unavailable: AtomicU64,
    pub dead_letters: AtomicU64,
    /// 1xx–5xx.
    pub responses: [AtomicU64; 5],
}

pub static METRICS: Metrics = Metrics {
    events_received: AtomicU64::new(0),
    changes_sent: AtomicU64::new(0),
    delivery_lag: Histogram::new(),
    db: Histogram::new(),
    db_unavailable: AtomicU64::new(0),
    dead_letters: AtomicU64::new(0),
    responses: [const { AtomicU64::new(0) }; 5],
};

impl Metrics {
    pub fn response(&self, status: u16) {
        if let Some(n) = (status / 100).checked_sub(1).and_then(|i| self.responses.get(usize::from(i))) {
            n.fetch_add(1, Relaxed);
        }
    }

    /// The text a Prometheus scrape reads; `streams` is this node's open streams now.
    pub fn render(&self, streams: usize) -> String {
        let mut out = String::with_capacity(4096);
        let mut counter = |name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        counter(
            "lonceng_events_received_total",
            "Producer events and Qontak webhooks taken in.",
            self.events_received.load(Relaxed),
        );
        counter("lonceng_changes_sent_total", "Changes written to streams.", self.changes_sent.load(Relaxed));
        counter(
            "lonceng_db_unavailable_total",
            "Database calls that found the database unreachable.",
            self.db_unavailable.load(Relaxed),
        );
        counter(
            "lonceng_dead_letters_total",
            "Webhook and CRM items kept as dead letters.",
            self.dead_letters.load(Relaxed),
        );
        let _ = writeln!(out, "# HELP lonceng_streams_open Open event streams on this node.\n# TYPE lonceng_streams_open gauge\nlonceng_streams_open {streams}");
        let _ = writeln!(out, "# HELP lonceng_http_responses_total HTTP answers by status class.\n# TYPE lonceng_http_responses_total counter");
        for (i, n) in self.responses.iter().enumerate() {
            let _ =
                writeln!(out, "lonceng_http_responses_total{{class=\"{}xx\"}} {}", i + 1, n.load(Relaxed));
        }
        self.delivery_lag.render(
            &mut out,
            "lonceng_delivery_lag_seconds",
            "From a change's commit to its frame on a stream.",
        );
        self.db.render(&mut out, "lonceng_db_seconds", "Database calls, by how long they took.");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quantile_is_the_bound_of_its_bucket() {
        let h = Histogram::new();
        assert_eq!(h.quantile(0.5), None);
        for _ in 0..98 {
            h.observe(Duration::from_micros(300));
        }
        h.observe(Duration::from_millis(20));
        h.observe(Duration::from_millis(80));
        assert_eq!(h.quantile(0.5), Some(0.0005));
        assert_eq!(h.quantile(0.99), Some(0.025));
        assert_eq!(h.quantile(1.0), Some(0.1));
        h.observe(Duration::from_secs(60));
        assert_eq!(h.quantile(1.0), None, "beyond the last bound");
    }

    #[test]
    fn histograms_are_cumulative_and_counters_render_in_the_text_format() {
        let h = Histogram::new();
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_millis(20));
        h.observe(Duration::from_secs(60));
        let mut out = String::new();
        h.render(&mut out, "x_seconds", "X.");
        assert!(out.contains("x_seconds_bucket{le=\"0.0005\"} 1\n"), "{out}");
        assert!(out.contains("x_seconds_bucket{le=\"0.025\"} 2\n"), "{out}");
        assert!(out.contains("x_seconds_bucket{le=\"5\"} 2\n"), "{out}");
        assert!(out.contains("x_seconds_bucket{le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_seconds_count 3\n"), "{out}");
        let text = METRICS.render(7);
        assert!(text.contains("lonceng_streams_open 7\n"), "{text}");
        assert!(text.contains("# TYPE lonceng_db_seconds histogram\n"), "{text}");
        // Every sample line is "name{labels} value".
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').expect(line);
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
