//! The agent's settings: read, saved (secrets to the keyring), and handed to the parts that use
//! them; the pause and quiet hours; start at login; the update on offer; Settings → Diagnose.

use chrono::{DateTime, Local, Utc};
use lonceng_client::toast::{QuietKind, QuietState, Zone};

use crate::error::AppError;
use crate::keyring::{SecretKind, TokenStore};
use crate::settings::{DesktopSettings, SettingsChanges, SettingsView, ShortcutProblem};
use crate::views::{UiEvent, UpdateOffer};

use super::Desktop;

impl Desktop {
    pub fn settings(&self) -> SettingsView {
        let settings = self.settings_snapshot();
        // Before `held` is locked: it locks it too.
        let account = self.account();
        let held = self.held();
        let token_store = held.token_store.unwrap_or(TokenStore::None);
        let crm_store = held.crm_store.unwrap_or(TokenStore::None);
        SettingsView {
            settings,
            has_token: self.demo || token_store != TokenStore::None,
            token_store: token_store.as_str(),
            has_crm_secret: crm_store != TokenStore::None,
            crm_secret_store: crm_store.as_str(),
            demo: self.demo,
            autostart_managed: self.autostart_exe.is_some(),
            locked: self.policy.locked(),
            account,
            shortcut_problem: self.shortcut_problem.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    }

    /// What the shell found when it registered the keyboard shortcut (Settings says it).
    pub fn set_shortcut_problem(&self, problem: Option<ShortcutProblem>) {
        let changed = {
            let mut current = self.shortcut_problem.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::replace(&mut *current, problem.clone()) != problem
        };
        if changed {
            (self.notify)(UiEvent::Settings);
        }
    }

    /// Saves a change from the window or the tray. Secrets (the sign-in token, the CRM client
    /// secret) go to the OS keyring (or a private file where none runs). A change of source, of its
    /// address or of a secret starts sync again with it, and the list then holds only what that
    /// source has.
    pub async fn save_settings(&self, changes: SettingsChanges) -> Result<SettingsView, AppError> {
        // Refused before anything is written (a setting IT fixed, an address that is not http(s)).
        self.policy.check(&changes)?;
        let before = self.settings_snapshot();
        before.clone().apply(changes.clone())?;
        let mut secret_changed = false;
        for (kind, value) in [
            (SecretKind::SignInToken, &changes.token),
            (SecretKind::CrmClientSecret, &changes.crm_client_secret),
        ] {
            let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else { continue };
            let store = self.secrets.write(kind, value).await.map_err(AppError::Store)?;
            let mut held = self.held();
            match kind {
                SecretKind::SignInToken => {
                    (held.token, held.token_store) = (Some(value.to_owned()), Some(store))
                }
                SecretKind::CrmClientSecret => {
                    (held.crm_secret, held.crm_store) = (Some(value.to_owned()), Some(store))
                }
                // Kept by signing in, never typed.
                SecretKind::DeviceCredentials => {}
            }
            secret_changed = true;
        }
        // Applied to the settings as they are now: a change made meanwhile (the tray's pause,
        // say, while the keyring took its time) is kept.
        let autostart = changes.autostart;
        self.update(|s| {
            let before = s.clone();
            s.apply(changes)?;
            self.policy.keep_own(&before, s);
            Ok(())
        })?;
        if autostart.is_some() {
            self.apply_autostart();
        }
        let after = self.settings_snapshot();
        let source_changed = after.source_changed(&before);
        if source_changed {
            // The proxy among them: the way out taken anew (the desktop's proxy read again too).
            let _ = tokio::task::spawn_blocking(move || after.use_network()).await;
        }
        if !self.demo && (secret_changed || source_changed) {
            self.reconnect().await;
        }
        Ok(self.settings())
    }

    /// "Pause for an hour" (from the tray).
    pub async fn pause_for_an_hour(&self) -> Result<(), AppError> {
        self.pause(Some(self.clock.now() + chrono::Duration::hours(1))).await
    }

    /// "Pause until tomorrow": 08:00 tomorrow where the agent is.
    pub async fn pause_until_tomorrow(&self) -> Result<(), AppError> {
        self.pause(tomorrow_morning(self.clock.now().with_timezone(&Local))).await
    }

    /// Ends a pause, or skips the quiet hours running now; what was held gets one summary.
    pub async fn resume(&self) -> Result<(), AppError> {
        self.pause(None).await
    }

    /// Pauses toasts until `until`; `None` resumes (what arrived meanwhile gets one summary). The
    /// toasts follow only once the setting is saved.
    pub(super) async fn pause(&self, until: Option<DateTime<Utc>>) -> Result<(), AppError> {
        let now = self.clock.now();
        self.update(|s| {
            s.paused_until = until;
            if until.is_none() {
                // Resumed inside quiet hours (paused or not): the period running now is skipped.
                if let Some(QuietState { kind: QuietKind::Scheduled, until }) =
                    s.toasts().quiet(now, Zone::Device)
                {
                    s.quiet_skipped_until = Some(until);
                }
            }
            Ok(())
        })?;
        match until {
            Some(t) => self.toasts.pause(t),
            None => self.toasts.resume().await,
        }
        Ok(())
    }

    /// Turns the weekly quiet hours on or off (the tray's check item).
    pub async fn set_quiet_hours(&self, on: bool) -> Result<(), AppError> {
        let mut quiet_hours = self.settings_snapshot().quiet_hours;
        quiet_hours.enabled = on;
        self.save_settings(SettingsChanges { quiet_hours: Some(quiet_hours), ..SettingsChanges::default() })
            .await?;
        // Turned off in the middle of quiet hours: what they held is told now.
        self.toasts.end_quiet_if_over().await;
        Ok(())
    }

    /// Whether toasts are held now (a pause or quiet hours), and until when.
    pub fn quiet(&self) -> Option<QuietState> {
        self.toasts.quiet()
    }

    /// ORG-6: whether the OS's Do Not Disturb holds toasts back now.
    pub fn system_quiet(&self) -> bool {
        self.toasts.system_quiet()
    }

    pub fn paused_until(&self) -> Option<DateTime<Utc>> {
        self.settings_snapshot().paused_until.filter(|t| *t > self.clock.now())
    }

    /// Changes the settings as they are now, saves them, and hands them to the parts that use
    /// them; writers take turns, so no change is lost to another made at the same time.
    pub(super) fn update(
        &self,
        f: impl FnOnce(&mut DesktopSettings) -> Result<(), AppError>,
    ) -> Result<(), AppError> {
        let next = {
            let mut current = self.settings.lock().unwrap_or_else(|p| p.into_inner());
            let mut next = current.clone();
            f(&mut next)?;
            // The agent's own settings are saved; the parts get them under the policy.
            next.save(&self.settings_path)?;
            *current = next.clone();
            self.policy.over(next)
        };
        self.toasts.set_settings(next.toasts());
        self.focus.set_matcher(next.chat_match());
        (self.notify)(UiEvent::Settings);
        Ok(())
    }

    /// Writes or removes the login entry as the settings say, when this run manages it.
    pub(super) fn apply_autostart(&self) {
        let Some(exe) = &self.autostart_exe else { return };
        if let Err(e) = crate::autostart::set(self.settings_snapshot().autostart, exe) {
            tracing::warn!(error = %e, "could not change start at login");
        }
    }

    /// The signed update on offer, if any.
    pub fn update_offer(&self) -> Option<UpdateOffer> {
        self.update.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Offers an update (or withdraws the offer); the window and the tray are told.
    pub fn offer_update(&self, offer: Option<UpdateOffer>) {
        *self.update.lock().unwrap_or_else(|p| p.into_inner()) = offer;
        (self.notify)(UiEvent::Update);
    }

    /// Where updates are looked for: the settings' manifest URL, never in the demo.
    /// `flag`: the command line's address, if any (see `Loaded::update_url` for which wins).
    pub fn update_url(&self, flag: Option<String>) -> Option<String> {
        self.policy.update_url(flag, &self.settings_snapshot()).filter(|_| !self.demo)
    }

    /// Settings → Diagnose: the same checks as `lonceng doctor`, from the running app.
    pub async fn diagnose(&self) -> lonceng_client::doctor::Report {
        let settings = self.settings_snapshot();
        let now = self.clock.now();
        let (token, crm_secret_stored) = {
            let held = self.held();
            // The sign-in's access token while it lasts (the app renews it on its next request).
            let signed_in = held
                .credentials
                .as_ref()
                .filter(|c| c.server == settings.server_url.trim() && c.expires_at > now)
                .map(|c| c.access_token.clone());
            (signed_in.or(held.token.clone()), held.crm_store.is_some_and(|s| s != TokenStore::None))
        };
        let (server, token) = match &self.demo_endpoint {
            Some((url, token)) => (Some(url.clone()), Some(token.clone())),
            None => (Some(settings.server_url.trim().to_owned()).filter(|u| !u.is_empty()), token),
        };
        let lang = settings.lang;
        let context = crate::doctor::Context {
            settings,
            server,
            token,
            demo: self.demo,
            crm_secret_stored,
            exe: self.autostart_exe.clone().or_else(|| std::env::current_exe().ok()).unwrap_or_default(),
            autostart_managed: self.autostart_exe.is_some(),
            quarantined: self.store().quarantine_count().ok(),
            policy: self.policy.clone(),
        };
        crate::doctor::report(&context, &self.catalog, lang).await
    }
}

impl Desktop {
    /// Settings → Diagnose → "Save a report": the Diagnose report, the week's logs and the
    /// settings in one zip for IT, redacted, in the data folder's `reports/`; returns where.
    pub async fn save_report(&self) -> Result<String, AppError> {
        let report = self.diagnose().await;
        let settings = self.settings_snapshot();
        let text = report.text(&self.catalog, settings.lang);
        let mut known: Vec<String> = {
            let held = self.held();
            let creds =
                held.credentials.iter().flat_map(|c| [c.access_token.clone(), c.refresh_token.clone()]);
            creds.chain(held.token.clone()).chain(held.crm_secret.clone()).collect()
        };
        known.extend(self.demo_endpoint.as_ref().map(|(_, token)| token.clone()));
        known.extend(crate::report::private_words(Some(&*self.store()), &settings)?);
        let settings_json = serde_json::to_string_pretty(&settings).unwrap_or_default();
        // The data folder is where the settings are.
        let data_dir = self.settings_path.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        let dir = data_dir.join("reports");
        std::fs::create_dir_all(&dir)
            .map_err(|e| AppError::Platform(format!("creating {}: {e}", dir.display())))?;
        let out = dir.join(crate::report::file_name(chrono::Local::now()));
        let redactor = crate::report::Redactor::new(known);
        let logs = crate::logs::dir(&data_dir);
        let written = tokio::task::spawn_blocking(move || {
            crate::report::write(&out, &text, &settings_json, &logs, &redactor)
        })
        .await
        .map_err(|e| AppError::Platform(e.to_string()))??;
        Ok(written.display().to_string())
    }
}

/// "Pause until tomorrow": 08:00 on the next calendar day of `now`'s time zone (the device's).
pub fn tomorrow_morning<Z: chrono::TimeZone>(now: DateTime<Z>) -> Option<DateTime<Utc>> {
    let day = now.date_naive().succ_opt()?;
    let at = day.and_hms_opt(8, 0, 0)?;
    // On a daylight-saving jump take the earliest valid instant.
    now.timezone().from_local_datetime(&at).earliest().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};

    #[test]
    fn until_tomorrow_means_eight_in_the_morning_where_the_agent_is() {
        let jakarta = FixedOffset::east_opt(7 * 3600).unwrap();
        // 23:30 on Jan 20 in Jakarta -> 08:00 on Jan 21 in Jakarta = 01:00Z.
        let late = jakarta.with_ymd_and_hms(2026, 1, 20, 23, 30, 0).unwrap();
        assert_eq!(tomorrow_morning(late), Some("2026-01-21T01:00:00Z".parse().unwrap()));
        // 00:10 on Jan 21 -> still the next day: 08:00 on Jan 22.
        let early = jakarta.with_ymd_and_hms(2026, 1, 21, 0, 10, 0).unwrap();
        assert_eq!(tomorrow_morning(early), Some("2026-01-22T01:00:00Z".parse().unwrap()));
    }
}
