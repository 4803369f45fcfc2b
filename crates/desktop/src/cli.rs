//! The app's options, parsed once from its command line and environment (clap). Autostart launches
//! `lonceng --hidden`; a second launch hands its options to the running instance, which honours
//! `--hidden` there too (it does not pop the window up at login).

use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use lonceng_domain::i18n::Lang;

/// How long a hidden window lingers by default, in milliseconds.
const LINGER_MS: u64 = 10_000;
/// The demo's default pace, in milliseconds.
const DEMO_PACE_MS: u64 = 4_000;

#[derive(Debug, Clone, Parser)]
#[command(name = "lonceng", version, about = "The Qontak Notification Center in the desktop tray")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Run the embedded reference server with simulated activity, signed in as its first agent.
    #[arg(long)]
    pub demo: bool,
    /// Open the bell window at start (otherwise Lonceng starts in the tray).
    #[arg(long, conflicts_with = "hidden")]
    pub show: bool,
    /// Start in the tray without opening anything (what start-at-login passes).
    #[arg(long)]
    pub hidden: bool,
    /// Where the store, settings and token live (default: the platform's app data directory).
    #[arg(long, env = "LONCENG_DATA_DIR", value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Keep the window open when it loses focus (`LONCENG_PINNED=1`: any value but 0, false, no, off).
    #[arg(long, env = "LONCENG_PINNED", value_parser = clap::builder::FalseyValueParser::new())]
    pub pinned: bool,
    /// How long a hidden window is kept before WebKit is released, in milliseconds.
    #[arg(long, env = "LONCENG_LINGER_MS", default_value_t = LINGER_MS, value_name = "MS")]
    pub linger_ms: u64,
    /// The demo's average pace between events, in milliseconds.
    #[arg(long, env = "LONCENG_DEMO_PACE_MS", default_value_t = DEMO_PACE_MS, value_name = "MS")]
    pub demo_pace_ms: u64,
    /// The signed-update manifest to check (overrides Settings; an organisation can set it for
    /// every agent).
    #[arg(long, env = "LONCENG_UPDATE_URL", value_name = "URL", global = true)]
    pub update_url: Option<String>,
    /// Stop the demo after this many events.
    #[arg(long, env = "LONCENG_DEMO_EVENTS", value_name = "N")]
    pub demo_events: Option<u64>,
    /// A sign-in link an admin sent (`lonceng://sign-in?server=https://…`), as the browser passes it
    /// when the agent clicks it: the app asks before it signs in there.
    #[arg(value_name = "LINK")]
    pub link: Option<String>,
}

/// What `lonceng <command>` does instead of starting the tray app.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Check this desktop and the server: notifications, tray, display, screen lock, keyring,
    /// start at login, the server, the token, the stream, the clock and what could not be shown.
    /// Exits with 1 when something is a problem.
    Doctor {
        /// The report's language (default: the app's setting).
        #[arg(long, value_parser = parse_lang)]
        lang: Option<Lang>,
        /// Also save one zip for IT: the report, the week's logs and the settings, with tokens,
        /// secrets, names and message text redacted (default: lonceng-report-<time>.zip here).
        #[arg(long, value_name = "ZIP", num_args = 0..=1, default_missing_value = "")]
        bundle: Option<PathBuf>,
    },
    /// Check the update manifest and, with --yes, install a newer signed version.
    Update {
        /// Install what was found (the agent's consent, given on the command line).
        #[arg(long)]
        yes: bool,
    },
    /// Write the manual page (lonceng.1) into DIR: packaging.
    #[command(hide = true)]
    Manpages { dir: PathBuf },
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    match s {
        "en" => Ok(Lang::En),
        "id" => Ok(Lang::Id),
        other => Err(format!("'{other}' is not a language of Lonceng (en, id)")),
    }
}

impl Cli {
    /// The options of this launch. `--help` and `--version` answer and exit; anything else that is
    /// wrong (an option from another version of Lonceng, a bad value in the environment) is said
    /// on stderr, and what clap could read is kept with defaults for the rest, so that the launch
    /// still starts Lonceng, or reaches the running one.
    ///
    /// `version` is the app's own (Tauri's package version, which a release may set apart from
    /// the crates'): `--version` says what `lonceng update` compares.
    pub fn from_launch(version: &str) -> Cli {
        Cli::from_args(version, std::env::args_os().collect::<Vec<_>>())
    }

    fn from_args<I, T>(version: &str, args: I) -> Cli
    where
        I: IntoIterator<Item = T> + Clone,
        T: Into<std::ffi::OsString> + Clone,
    {
        let parsed = Cli::command()
            // Once per process: clap keeps the text for the program's life.
            .version(&*Box::leak(version.to_owned().into_boxed_str()))
            .try_get_matches_from(args.clone())
            .and_then(|m| Cli::from_arg_matches(&m));
        match parsed {
            Ok(cli) => cli,
            Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => e.exit(),
            Err(e) => {
                eprintln!("lonceng: {}; going on with the defaults for what is wrong", e.kind());
                let m = Cli::command().ignore_errors(true).get_matches_from(args);
                let flag = |id: &str| m.try_get_one::<bool>(id).ok().flatten().copied().unwrap_or(false);
                let number = |id: &str| m.try_get_one::<u64>(id).ok().flatten().copied();
                Cli {
                    // A launch with a mistake starts (or reaches) the app, never a command.
                    command: None,
                    demo: flag("demo"),
                    show: flag("show"),
                    hidden: flag("hidden"),
                    data_dir: m.try_get_one::<PathBuf>("data_dir").ok().flatten().cloned(),
                    pinned: flag("pinned"),
                    linger_ms: number("linger_ms").unwrap_or(LINGER_MS),
                    demo_pace_ms: number("demo_pace_ms").unwrap_or(DEMO_PACE_MS),
                    demo_events: number("demo_events"),
                    update_url: m.try_get_one::<String>("update_url").ok().flatten().cloned(),
                    link: m.try_get_one::<String>("link").ok().flatten().cloned(),
                }
            }
        }
    }

    /// Writes `lonceng.1` into `dir`, made from these options (clap_mangen): `man lonceng` says
    /// what `--help` says.
    pub fn manpage(version: &str, dir: &std::path::Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        // The process ends right after: clap keeps the text for its life.
        let command = Cli::command().version(&*Box::leak(version.to_owned().into_boxed_str()));
        let mut page = Vec::new();
        clap_mangen::Man::new(command).render(&mut page)?;
        let path = dir.join("lonceng.1");
        std::fs::write(&path, page)?;
        Ok(path)
    }

    /// What a launch asks of a running instance: open the window, unless it was started hidden.
    pub fn wants_window(args: &[String]) -> bool {
        !args.iter().any(|a| a == "--hidden")
    }

    /// A sign-in link among a second launch's arguments.
    pub fn link_in(args: &[String]) -> Option<&str> {
        args.iter().map(String::as_str).find(|a| a.starts_with(crate::runtime::LINK_PREFIX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("lonceng").chain(args.iter().copied()))
    }

    // Packaging: `man lonceng` is made from these options and says what `--help` says.
    #[test]
    fn the_manual_page_is_made_from_the_options() {
        let dir = tempfile::tempdir().unwrap();
        let page = std::fs::read_to_string(Cli::manpage("9.8.7", dir.path()).unwrap()).unwrap();
        assert!(page.contains(".TH lonceng 1") && page.contains("9.8.7"), "{page}");
        for option in ["\\-\\-hidden", "\\-\\-data\\-dir", "doctor", "update"] {
            assert!(page.contains(option), "{option} in {page}");
        }
        assert!(!page.contains("manpages"), "the packaging command stays hidden");
    }

    #[test]
    fn flags_parse_once_with_defaults() {
        let c = parse(&["--demo", "--show", "--demo-events", "5"]).unwrap();
        assert!(c.demo && c.show && !c.hidden);
        assert_eq!(c.demo_events, Some(5));
        assert_eq!(c.linger_ms, 10_000);
        assert!(parse(&["--hidden"]).unwrap().hidden);
        assert!(parse(&["--show", "--hidden"]).is_err(), "shown and hidden at once is a mistake");
        assert!(parse(&["--no-such-flag"]).is_err());
    }

    #[test]
    fn switches_from_the_environment_take_the_values_people_write() {
        // The only test that sets it: the others do not look at `pinned`.
        std::env::set_var("LONCENG_PINNED", "1");
        assert!(parse(&[]).unwrap().pinned);
        std::env::set_var("LONCENG_PINNED", "0");
        assert!(!parse(&[]).unwrap().pinned);
        std::env::remove_var("LONCENG_PINNED");
        assert!(!parse(&[]).unwrap().pinned);
        assert!(parse(&["--pinned"]).unwrap().pinned);
    }

    #[test]
    fn a_launch_with_options_this_version_does_not_know_still_starts() {
        let c = Cli::from_args("0.1.0", ["lonceng", "--hidden", "--from-a-newer-version"]);
        assert!(c.hidden, "what is known is kept");
        let c = Cli::from_args("0.1.0", ["lonceng", "--show", "--linger-ms", "soon"]);
        assert!(c.show);
        assert_eq!(c.linger_ms, 10_000, "a bad value falls back to the default");
    }

    #[test]
    fn a_second_launch_from_autostart_does_not_open_the_window() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(!Cli::wants_window(&args(&["lonceng", "--hidden"])));
        assert!(Cli::wants_window(&args(&["lonceng"])));
        assert!(Cli::wants_window(&args(&["lonceng", "--show"])));
    }
}
