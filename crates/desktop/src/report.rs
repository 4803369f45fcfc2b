//! `lonceng doctor --bundle` and Settings → Diagnose → "Save a report": one zip an agent can send
//! to IT, with the doctor's report, the week's logs and the settings, redacted: no token, secret,
//! customer's or colleague's name, or message text leaves the computer in it.
//!
//! Redaction works from what is known (the secrets this app holds, every text parameter of the
//! stored items, quarantined payloads) and from what such things look like in a log line (bearer
//! tokens, JWTs, `token=` and the like, long random strings, the JSON fields of names and text).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use crate::error::AppError;

/// Shorter known values are too likely to be ordinary words ("Ok", a channel name).
const MIN_KNOWN: usize = 3;

const REDACTED: &str = "[redacted]";

/// What a secret or a person's words look like in a log line, and what replaces them.
static PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (r"(?i)\b(bearer|basic)\s+[^\s\x22',;]+", "$1 [redacted]"),
        (r"\beyJ[\w-]+\.[\w-]+\.[\w-]*", REDACTED),
        // Secrets by name, as `name=value` or `"name": "value"`.
        (
            r#"(?i)\b(access_token|refresh_token|client_secret|code_verifier|id_token|token|secret|password|signature)(\\?["']?\s*[:=]\s*\\?["']?)[^\s"'&,}\\]+"#,
            "$1$2[redacted]",
        ),
        // In a URL's query only: "status code: 401" is no secret.
        (r"(?i)([?&](?:code|ticket|state)=)[^\s&#\x22']+", "$1[redacted]"),
        // The JSON fields of names and text (escaped quotes inside included).
        (
            r#"(?i)(\\?"(?:text|preview|body|message|sender_name|contact_name|customer_name|name|email)\\?"\s*:\s*\\?")(?:[^"\\]|\\.)*"#,
            "$1[redacted]",
        ),
        (r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", "[redacted email]"),
        (r"\b[A-Za-z0-9_-]{32,}\b", REDACTED),
    ]
    .into_iter()
    .filter_map(|(re, with)| Regex::new(re).ok().map(|re| (re, with)))
    .collect()
});

/// Removes what must not leave the computer from text.
pub struct Redactor {
    /// Every known secret and name at once (the longest where two start together).
    known: Option<aho_corasick::AhoCorasick>,
}

impl Redactor {
    pub fn new(known: impl IntoIterator<Item = String>) -> Redactor {
        let mut known: Vec<String> = known
            .into_iter()
            .map(|k| k.trim().to_owned())
            .filter(|k| k.chars().count() >= MIN_KNOWN)
            .collect();
        known.sort();
        known.dedup();
        let known = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&known)
            .ok()
            .filter(|_| !known.is_empty());
        Redactor { known }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (re, with) in PATTERNS.iter() {
            out = re.replace_all(&out, *with).into_owned();
        }
        let Some(known) = &self.known else { return out };
        // Whole words only: a name inside a longer word is another word.
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        let mut redacted = String::with_capacity(out.len());
        let mut at = 0;
        for m in known.find_iter(&out) {
            let before = out[..m.start()].chars().next_back();
            let after = out[m.end()..].chars().next();
            if word(before) || word(after) {
                continue;
            }
            redacted.push_str(&out[at..m.start()]);
            redacted.push_str(REDACTED);
            at = m.end();
        }
        redacted.push_str(&out[at..]);
        redacted
    }
}

/// What must not leave the computer beside its secrets: every name and message text the local
/// copy holds (none without one), and the labels of muted conversations. A copy that cannot be
/// read fails the report: its names could not be redacted.
pub fn private_words(
    store: Option<&lonceng_client::store::Store>,
    settings: &crate::settings::DesktopSettings,
) -> Result<Vec<String>, AppError> {
    let mut words: Vec<String> = match store {
        Some(store) => store.private_texts()?.into_iter().collect(),
        None => Vec::new(),
    };
    words.extend(settings.muted_conversations.values().map(|m| m.label.clone()));
    Ok(words)
}

/// The secrets a credentials JSON holds (the access and refresh tokens), for the redactor.
pub fn credential_secrets(json: &str) -> Vec<String> {
    serde_json::from_str::<lonceng_client::auth::Credentials>(json)
        .map(|c| vec![c.access_token, c.refresh_token])
        .unwrap_or_default()
}

/// The report's file name for now: `lonceng-report-20261207-0930.zip`.
pub fn file_name(now: chrono::DateTime<chrono::Local>) -> String {
    format!("lonceng-report-{}.zip", now.format("%Y%m%d-%H%M%S"))
}

/// Writes the zip at `out`: what it is, the report, the settings and every log file, redacted.
pub fn write(
    out: &Path,
    report: &str,
    settings_json: &str,
    logs: &Path,
    redactor: &Redactor,
) -> Result<PathBuf, AppError> {
    let failed = |e: &dyn std::fmt::Display| AppError::Platform(format!("writing {}: {e}", out.display()));
    let file = std::fs::File::create(out).map_err(|e| failed(&e))?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default();
    let mut add = |name: &str, text: &str| -> Result<(), AppError> {
        zip.start_file(name, options).map_err(|e| failed(&e))?;
        zip.write_all(text.as_bytes()).map_err(|e| failed(&e))
    };
    add("README.txt", README)?;
    add("report.txt", &redactor.redact(report))?;
    add("settings.json", &redactor.redact(settings_json))?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(logs)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    for path in files {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()).into_owned();
        add(&format!("logs/{name}"), &redactor.redact(&text))?;
    }
    zip.finish().map_err(|e| failed(&e))?;
    Ok(out.to_path_buf())
}

const README: &str = "Lonceng's report for IT: the doctor's checks (report.txt), the settings \
(settings.json) and up to seven days of logs (logs/). Tokens, secrets, names and message text \
are replaced by [redacted].\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_names_and_text_are_redacted_and_the_rest_stays() {
        let r = Redactor::new(["Siti Rahmawati".to_owned(), "PT Maju".to_owned(), "ok".to_owned()]);
        let line = r#"INFO sync: GET /v1/stream?ticket=abc123 Authorization: Bearer s3cr3t-token-value {"text":"Halo kak, \"rahasia\"","name":"Siti Rahmawati"} deal PT Maju jwt eyJhbGciOi.eyJzdWIi.sig id 0123456789abcdef0123456789abcdef ok done"#;
        let out = r.redact(line);
        for secret in [
            "abc123",
            "s3cr3t",
            "Halo kak",
            "rahasia",
            "Siti",
            "PT Maju",
            "eyJhbGciOi",
            "0123456789abcdef0123",
        ] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.starts_with("INFO sync: GET /v1/stream?ticket=[redacted]"), "{out}");
        assert!(out.ends_with("ok done"), "short words stay: {out}");
        // Paths and versions stay readable.
        let plain = "wrote /home/sari/.local/share/id.lonceng.desktop/lonceng.db (v0.1.0)";
        assert_eq!(r.redact(plain), plain);
    }
}
