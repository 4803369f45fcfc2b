//! ORG-2: what an admin does with people and their devices — list a user's devices, sign one out or
//! all of them, disable a user, import the agents' mapping from a CSV file — and the audit trail
//! that records it with every sign-in. A revoked device's open streams end at once on every node
//! (the database's signal reaches the others), and its tokens are refused from its next request.

use serde::{Deserialize, Serialize};

use super::{Service, ServiceError, ServiceResult};
use crate::db::{
    AuditEntry, AuditQuery, Database, DeviceInfo, NewAudit, NodeReport, Signal, UserInfo, UserQuery,
};
use crate::hub::Frame;

/// Who did something, and from where (for the audit trail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub who: String,
    pub address: Option<String>,
}

impl Actor {
    /// The holder of the admin token.
    pub fn admin(address: Option<String>) -> Actor {
        Actor { who: "admin".into(), address }
    }

    pub fn user(id: &str, address: Option<String>) -> Actor {
        Actor { who: format!("user:{id}"), address }
    }

    /// An admin signed in to the console through the identity provider (ORG-4).
    pub fn console(email: &str, address: Option<String>) -> Actor {
        Actor { who: format!("admin:{email}"), address }
    }

    /// The server itself (a refused sign-in whose person is not known).
    pub fn server(address: Option<String>) -> Actor {
        Actor { who: "server".into(), address }
    }
}

/// How often a node reports its health; one not heard from for three times as long is stale.
pub const NODE_REPORT_EVERY: chrono::Duration = chrono::Duration::seconds(5);
/// Nodes not heard from for this long are gone from the health page.
const NODE_GONE_AFTER: chrono::Duration = chrono::Duration::minutes(10);

/// A node on the health page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeView {
    #[serde(flatten)]
    pub report: NodeReport,
    /// Not heard from for three report intervals: down, or cut off from the database.
    pub stale: bool,
}

/// Rows a CSV import takes at most.
pub const MAX_IMPORT_ROWS: usize = 10_000;
/// The columns of the agents' CSV file.
pub const IMPORT_COLUMNS: [&str; 4] = ["email", "name", "qontak_agent_id", "crm_sso_id"];

/// What happened (or, in a preview, would happen) to one row of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    pub email: String,
    pub name: String,
    pub qontak_agent_id: Option<String>,
    pub crm_sso_id: Option<String>,
    /// The user it is (none for a row in error, or new in a preview).
    pub user_id: Option<String>,
    /// Why the row is not taken; the other rows are.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// True when nothing was written (a preview).
    pub dry_run: bool,
    pub rows: Vec<ImportRow>,
    pub imported: usize,
    pub errors: usize,
}

/// What a spreadsheet would run as a formula: a cell starting with one of these.
const FORMULA: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell a spreadsheet shows as text: `'` before what it would take for a formula.
fn spreadsheet_safe(cell: &str) -> String {
    if cell.starts_with(FORMULA) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// A cell as exported, read back: the `'` [`spreadsheet_safe`] put before a formula goes.
fn from_spreadsheet(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA) => rest,
        _ => cell,
    }
}

/// An email as the human key: one `@`, something either side, no spaces; lower case.
fn email(s: &str) -> Option<String> {
    let s = s.trim().to_lowercase();
    let (local, domain) = s.split_once('@')?;
    let fine = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"(),;:[]\\".contains(c));
    fine.then_some(s)
}

/// Reads the agents' CSV: a header naming the columns (any order), then one agent per row. Each row
/// gets its own verdict; only a file that is not such a CSV fails.
pub fn read_agents_csv(text: &str) -> ServiceResult<Vec<ImportRow>> {
    let mut reader =
        csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| ServiceError::Invalid(format!("the CSV header cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    if let Some(unknown) = header.iter().find(|h| !IMPORT_COLUMNS.contains(&h.as_str())) {
        return Err(ServiceError::Invalid(format!(
            "unknown column '{unknown}': the columns are {}",
            IMPORT_COLUMNS.join(", ")
        )));
    }
    let (Some(email_at), Some(name_at)) = (column("email"), column("name")) else {
        return Err(ServiceError::Invalid("the CSV needs the columns email and name".into()));
    };
    let (agent_at, sso_at) = (column("qontak_agent_id"), column("crm_sso_id"));
    let mut rows = Vec::new();
    let mut seen_emails = std::collections::HashSet::new();
    let mut seen_ids = std::collections::HashSet::new();
    for (n, record) in reader.records().enumerate() {
        if rows.len() >= MAX_IMPORT_ROWS {
            return Err(ServiceError::Invalid(format!("import at most {MAX_IMPORT_ROWS} agents at a time")));
        }
        let line = u64::try_from(n).unwrap_or(u64::MAX).saturating_add(2);
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                rows.push(ImportRow {
                    line,
                    email: String::new(),
                    name: String::new(),
                    qontak_agent_id: None,
                    crm_sso_id: None,
                    user_id: None,
                    error: Some(format!("the row cannot be read: {e}")),
                });
                continue;
            }
        };
        let field =
            |at: Option<usize>| from_spreadsheet(at.and_then(|i| record.get(i)).unwrap_or("")).to_owned();
        let optional = |at: Option<usize>| Some(field(at)).filter(|v| !v.is_empty());
        let mut row = ImportRow {
            line,
            email: field(Some(email_at)),
            name: field(Some(name_at)),
            qontak_agent_id: optional(agent_at),
            crm_sso_id: optional(sso_at),
            user_id: None,
            error: None,
        };
        let id_fits = |v: &Option<String>| {
            v.as_ref().is_none_or(|s| lonceng_domain::model::is_plain_id(s, lonceng_domain::qontak::MAX_ID))
        };
        row.error = match email(&row.email) {
            None => Some(format!("'{}' is not an email address", row.email)),
            Some(e) if !seen_emails.insert(e.clone()) => Some(format!("{e} is in the file twice")),
            Some(e) => {
                row.email = e;
                if row.name.is_empty()
                    || row.name.chars().count() > 200
                    || row.name.chars().any(char::is_control)
                {
                    Some("the name must be 1 to 200 characters".into())
                } else if !(id_fits(&row.qontak_agent_id) && id_fits(&row.crm_sso_id)) {
                    Some("qontak_agent_id and crm_sso_id must be at most 128 characters without control characters".into())
                } else if let Some(dup) =
                    [("qontak_agent_id", &row.qontak_agent_id), ("crm_sso_id", &row.crm_sso_id)]
                        .into_iter()
                        .find_map(|(k, v)| {
                            v.as_ref().filter(|v| !seen_ids.insert((k, (*v).clone()))).map(|v| (k, v.clone()))
                        })
                {
                    Some(format!("{} '{}' is in the file twice", dup.0, dup.1))
                } else {
                    None
                }
            }
        };
        rows.push(row);
    }
    Ok(rows)
}

impl<D: Database> Service<D> {
    /// Adds to the audit trail; a failure to record is logged, never fails what was done.
    pub(super) async fn record(&self, actor: &Actor, action: &str, target: &str, detail: &str) {
        let entry = NewAudit {
            at: self.clock.now(),
            actor: actor.who.clone(),
            action: action.into(),
            target: target.into(),
            address: actor.address.clone(),
            detail: detail.into(),
        };
        if let Err(e) = self.db.add_audit(entry).await {
            tracing::warn!(error = %e, action, "not recorded in the audit trail");
        }
    }

    /// Devices just revoked: their tokens are forgotten and their streams end, here and (through
    /// the database) on every other node.
    pub(super) async fn devices_revoked(&self, user: &str, devices: &[String]) {
        if devices.is_empty() {
            return;
        }
        self.drop_devices(user, devices);
        self.share(Signal::Revoked { user: user.to_owned(), devices: devices.to_vec() }).await;
    }

    /// This node forgets the devices' tokens and ends their streams.
    pub(super) fn drop_devices(&self, user: &str, devices: &[String]) {
        self.known_tokens()
            .retain(|_, known| !(known.device.user_id == user && devices.contains(&known.device.device_id)));
        self.hub.send_to(user, Frame::Revoked(devices.to_vec().into()));
    }

    /// This node's health, as its `/metrics` shows it, kept for the admin's health page.
    pub(super) async fn report_health(&self, now: chrono::DateTime<chrono::Utc>) -> ServiceResult<()> {
        use std::sync::atomic::Ordering::Relaxed;
        let m = &crate::metrics::METRICS;
        let ms = |s: Option<f64>| s.map(|s| s * 1000.0);
        let report = NodeReport {
            id: self.node.0.clone(),
            version: env!("CARGO_PKG_VERSION").into(),
            started_at: self.node.1,
            seen_at: now,
            streams_open: u64::try_from(self.streams()).unwrap_or(u64::MAX),
            events_received: m.events_received.load(Relaxed),
            changes_sent: m.changes_sent.load(Relaxed),
            delivery_lag_p50_ms: ms(m.delivery_lag.quantile(0.5)),
            delivery_lag_p99_ms: ms(m.delivery_lag.quantile(0.99)),
            db_p99_ms: ms(m.db.quantile(0.99)),
            db_unavailable: m.db_unavailable.load(Relaxed),
            dead_letters: m.dead_letters.load(Relaxed),
        };
        Ok(self.db.report_node(report).await?)
    }

    /// The nodes of this deployment, as they last reported (the admin's health page).
    pub async fn nodes(&self) -> ServiceResult<Vec<NodeView>> {
        let now = self.clock.now();
        let reports = self.db.nodes(now - NODE_GONE_AFTER).await?;
        Ok(reports
            .into_iter()
            .map(|report| NodeView { stale: now - report.seen_at > NODE_REPORT_EVERY * 3, report })
            .collect())
    }

    /// Whether a device is still signed in (not revoked, its user not disabled): what a stream
    /// ticket, which is not looked up like a token, is checked against.
    pub async fn still_signed_in(&self, device: &crate::db::Device) -> ServiceResult<()> {
        let devices = self.db.devices(device.user_id.clone()).await?.ok_or(ServiceError::Unauthorized)?;
        if devices.iter().any(|d| d.id == device.device_id && d.revoked_at.is_none()) {
            Ok(())
        } else {
            Err(ServiceError::Unauthorized)
        }
    }

    /// A user's devices, newest first.
    pub async fn devices(&self, user: &str) -> ServiceResult<Vec<DeviceInfo>> {
        self.db
            .devices(user.to_owned())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no user '{user}'")))
    }

    /// Signs one device out (`Some`) or all of the user's: returns the devices signed out now.
    pub async fn revoke_devices(
        &self,
        actor: &Actor,
        user: &str,
        device: Option<&str>,
    ) -> ServiceResult<Vec<String>> {
        let known = self.devices(user).await?;
        if let Some(d) = device {
            if !known.iter().any(|k| k.id == d) {
                return Err(ServiceError::NotFound(format!("user '{user}' has no device '{d}'")));
            }
        }
        let why =
            if actor.who == "admin" { "signed out by the organisation" } else { "signed out on the device" };
        let revoked =
            self.db.revoke(user.to_owned(), device.map(str::to_owned), why.into(), self.clock.now()).await?;
        self.devices_revoked(user, &revoked).await;
        for d in &revoked {
            self.record(actor, "device_revoked", &format!("{user}/{d}"), why).await;
        }
        Ok(revoked)
    }

    /// Disables a user (every device signed out, sign-in refused) or enables them again.
    pub async fn set_disabled(
        &self,
        actor: &Actor,
        user: &str,
        disabled: bool,
    ) -> ServiceResult<Vec<String>> {
        let revoked = self
            .db
            .set_disabled(user.to_owned(), disabled, self.clock.now())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no user '{user}'")))?;
        self.devices_revoked(user, &revoked).await;
        let action = if disabled { "user_disabled" } else { "user_enabled" };
        self.record(actor, action, user, &format!("{} device(s) signed out", revoked.len())).await;
        Ok(revoked)
    }

    /// The newest audit entries the query names (at most 500 a page).
    pub async fn audit(&self, mut query: AuditQuery) -> ServiceResult<Vec<AuditEntry>> {
        query.limit = query.limit.clamp(1, 500);
        Ok(self.db.audit(query).await?)
    }

    /// Users by id, those holding `text` in their id, name or email (at most 500 a page).
    pub async fn users(&self, mut query: UserQuery) -> ServiceResult<Vec<UserInfo>> {
        query.limit = query.limit.clamp(1, 500);
        query.text = query.text.filter(|t| !t.trim().is_empty());
        if query.text.as_ref().is_some_and(|t| t.chars().count() > 200) {
            return Err(ServiceError::Invalid("search at most 200 characters".into()));
        }
        Ok(self.db.users(query).await?)
    }

    /// The agents with an email, in the import's CSV format (an export imports back as it was). A
    /// cell a spreadsheet would take for a formula starts with `'` (OWASP: CSV injection); the
    /// import takes it off again.
    pub async fn export_agents_csv(&self) -> ServiceResult<String> {
        let mut out = csv::Writer::from_writer(Vec::new());
        let header = IMPORT_COLUMNS;
        out.write_record(header).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let mut after = None;
        loop {
            let page = self.db.users(UserQuery { text: None, after: after.clone(), limit: 500 }).await?;
            for u in &page {
                let Some(email) = &u.email else { continue };
                let cells = [
                    email.as_str(),
                    &u.name,
                    u.agent_id.as_deref().unwrap_or(""),
                    u.crm_sso_id.as_deref().unwrap_or(""),
                ];
                out.write_record(cells.map(spreadsheet_safe))
                    .map_err(|e| ServiceError::Invalid(e.to_string()))?;
            }
            match page.last() {
                Some(last) if page.len() == 500 => after = Some(last.id.clone()),
                _ => break,
            }
        }
        let bytes = out.into_inner().map_err(|e| ServiceError::Invalid(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| ServiceError::Invalid(e.to_string()))
    }

    /// Imports (or, `dry_run`, previews) the agents' mapping: each person by email, made when new,
    /// linked to their Qontak agent and CRM SSO ids, so that their first sign-in finds them linked.
    /// A row in error is reported and skipped; the others are taken.
    pub async fn import_agents(
        &self,
        actor: &Actor,
        csv_text: &str,
        dry_run: bool,
    ) -> ServiceResult<ImportReport> {
        let mut rows = read_agents_csv(csv_text)?;
        let links = self.agent_links().await?;
        for row in rows.iter_mut().filter(|r| r.error.is_none()) {
            // Taken already by someone else (by another email)?
            let taken = links.iter().find(|l| {
                let same_id =
                    |mine: &Option<String>, theirs: &Option<String>| mine.is_some() && mine == theirs;
                (same_id(&row.qontak_agent_id, &l.agent_id) || same_id(&row.crm_sso_id, &l.crm_sso_id))
                    && l.email.as_deref() != Some(row.email.as_str())
            });
            if let Some(other) = taken {
                row.error = Some(format!("the Qontak id is linked to user '{}' already", other.user_id));
                continue;
            }
            if dry_run {
                row.user_id = links
                    .iter()
                    .find(|l| l.email.as_deref() == Some(row.email.as_str()))
                    .map(|l| l.user_id.clone());
                continue;
            }
            let user = self.db.person(row.email.clone(), row.name.clone()).await?;
            if row.qontak_agent_id.is_some() || row.crm_sso_id.is_some() {
                if let Err(e) =
                    self.link_agent(&user, row.qontak_agent_id.clone(), row.crm_sso_id.clone()).await
                {
                    row.error = Some(e.to_string());
                    continue;
                }
            }
            row.user_id = Some(user);
        }
        let errors = rows.iter().filter(|r| r.error.is_some()).count();
        let report = ImportReport { dry_run, imported: rows.len() - errors, errors, rows };
        if !dry_run {
            let detail = format!("{} imported, {} in error", report.imported, report.errors);
            self.record(actor, "agents_imported", "agents", &detail).await;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_row_in_error_is_reported_and_the_others_are_read() {
        let csv = "Email,name,qontak_agent_id,crm_sso_id\n\
                   Sari@Example.COM,Sari,agent-1,sso-1\n\
                   not-an-email,Budi,agent-2,\n\
                   dewi@example.com,,agent-3,\n\
                   eko@example.com,Eko,agent-1,\n\
                   sari@example.com,Sari again,,\n\
                   \"fitri@example.com\",\"Fitri, CS\",,sso-9\n";
        let rows = read_agents_csv(csv).unwrap();
        let errors: Vec<_> = rows.iter().map(|r| (r.line, r.error.is_some())).collect();
        assert_eq!(errors, [(2, false), (3, true), (4, true), (5, true), (6, true), (7, false)]);
        assert_eq!(rows[0].email, "sari@example.com");
        assert_eq!(rows[5].name, "Fitri, CS");
        assert_eq!(rows[5].qontak_agent_id, None);
    }

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_exported_as_text_and_imported_as_it_was() {
        for cell in ["=HYPERLINK(\"http://evil\")", "+1", "-2", "@SUM(A1)", "\tx"] {
            let safe = spreadsheet_safe(cell);
            assert!(safe.starts_with('\''), "{cell}");
            assert_eq!(from_spreadsheet(&safe), cell);
        }
        assert_eq!(spreadsheet_safe("Sari"), "Sari");
        assert_eq!(from_spreadsheet("'quoted"), "'quoted", "an apostrophe of a name's own stays");
    }

    #[test]
    fn a_file_that_is_not_the_agents_csv_is_refused_as_a_whole() {
        assert!(read_agents_csv("email,name,password\n").is_err());
        assert!(read_agents_csv("name\nSari\n").is_err());
        assert!(read_agents_csv("\u{feff}email,name\na@b.co,A\n").is_ok());
    }
}
