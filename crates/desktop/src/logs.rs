//! The app's log: on stderr as always, and in a file in the data folder (`logs/lonceng.<date>.log`),
//! because the release app on Windows has no console and its lines were lost. A new file each day
//! (UTC), seven kept, at most [`MAX_DAY_BYTES`] a day so that a loop gone wrong cannot fill a disk;
//! `lonceng doctor --bundle` sends them to IT, redacted ([`crate::report`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// Days of logs kept.
pub const KEPT_DAYS: usize = 7;
/// The most one day's file grows to.
pub const MAX_DAY_BYTES: u64 = 10 * 1024 * 1024;

/// Where the log files are.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("logs")
}

/// Starts logging to stderr and, where the data folder can take it, to the day's file. Keep the
/// guard for the app's life: the file is written by a thread that flushes when it drops.
pub fn init(data_dir: Option<&Path>, default_filter: &str) -> Option<WorkerGuard> {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| default_filter.into());
    let stderr = fmt::layer().with_writer(std::io::stderr).with_filter(filter());
    let appender = data_dir.and_then(|d| {
        RollingFileAppender::builder()
            .rotation(Rotation::DAILY)
            .filename_prefix("lonceng")
            .filename_suffix("log")
            .max_log_files(KEPT_DAYS)
            .build(dir(d))
            .map_err(|e| eprintln!("lonceng: no log file in {}: {e}", dir(d).display()))
            .ok()
    });
    let Some(appender) = appender else {
        tracing_subscriber::registry().with(stderr).init();
        return None;
    };
    // What today's file holds already counts: a crash loop restarting every second stays capped.
    let today = dir(data_dir?).join(format!("lonceng.{}.log", chrono::Utc::now().format("%Y-%m-%d")));
    let written = std::fs::metadata(today).map_or(0, |m| m.len());
    let (writer, guard) =
        tracing_appender::non_blocking(Capped::new(appender, MAX_DAY_BYTES).with_written(written));
    let file = fmt::layer().with_ansi(false).with_writer(writer).with_filter(filter());
    tracing_subscriber::registry().with(stderr).with(file).init();
    // A panic reaches the file too (the release app on Windows has no stderr to print it on).
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!(panic = %info, "Lonceng panicked");
        default(info);
    }));
    Some(guard)
}

/// A writer that takes at most `max` bytes a day (UTC, as the files rotate), says once when it
/// stops, and starts again the next day.
pub struct Capped<W> {
    inner: W,
    max: u64,
    /// The day being written, its bytes, and whether the stop was said.
    day: Mutex<(chrono::NaiveDate, u64, bool)>,
}

impl<W: Write> Capped<W> {
    pub fn new(inner: W, max: u64) -> Capped<W> {
        Capped { inner, max, day: Mutex::new((chrono::Utc::now().date_naive(), 0, false)) }
    }

    /// Today's bytes written before this process.
    pub fn with_written(self, bytes: u64) -> Capped<W> {
        self.day.lock().unwrap_or_else(|p| p.into_inner()).1 = bytes;
        self
    }
}

impl<W: Write> Write for Capped<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let today = chrono::Utc::now().date_naive();
        let day = self.day.get_mut().unwrap_or_else(|p| p.into_inner());
        if day.0 != today {
            *day = (today, 0, false);
        }
        let len = buf.len() as u64;
        if day.1.saturating_add(len) > self.max {
            if !day.2 {
                day.2 = true;
                let note = "lonceng: today's log is full; lines are dropped until tomorrow (UTC)\n";
                self.inner.write_all(note.as_bytes())?;
            }
            // Dropped, as said: the caller must not retry.
            return Ok(buf.len());
        }
        day.1 += len;
        self.inner.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_of_log_stops_at_its_cap_and_says_so_once() {
        let mut w = Capped::new(Vec::new(), 100);
        for _ in 0..10 {
            w.write_all(&[b'x'; 30]).unwrap();
        }
        let text = String::from_utf8(w.inner.clone()).unwrap();
        assert_eq!(text.matches('x').count(), 90, "three lines of thirty fit in a hundred");
        assert_eq!(text.matches("today's log is full").count(), 1);
        // The next day starts afresh.
        w.day.get_mut().unwrap().0 -= chrono::Duration::days(1);
        w.write_all(b"tomorrow").unwrap();
        assert!(String::from_utf8(w.inner).unwrap().ends_with("tomorrow"));
    }
}
