//! The list as the window and the tray read it (pages, counts, search, the snoozed view, the tray's
//! look), and what the agent does to it: each a call into the one path for actions.

use chrono::{DateTime, Local, Utc};
use lonceng_client::store::{ListQuery, PageCursor, Scope, SearchQuery, Store, MAX_RESULTS};
use lonceng_client::sync::ConnState;
use lonceng_client::toast::{snooze_times, Reason, SnoozeTimes, Zone};
use lonceng_domain::i18n::{Catalog, Lang};
use lonceng_domain::model::{Notification, Tab};

use crate::error::AppError;
use crate::settings::SourceKind;
use crate::views::{
    CountsView, FirstPaint, MarkAllView, PageView, QuarantineView, QuarantinedView, SearchView, SnoozedView,
    TrayInput, TrayView, TRAY_ITEMS,
};

use super::Desktop;

/// The reasons shown for notifications that could not be shown.
const QUARANTINE_SHOWN: usize = 20;

/// The newest unread items of every tab (the snoozed left out, as in the list), newest first: what
/// the tray menu lists.
fn newest_unread(store: &Store) -> Result<Vec<Notification>, AppError> {
    let mut items = Vec::new();
    for &tab in Tab::ALL {
        let q =
            ListQuery { scope: Scope::new(tab, None)?, unread_only: true, after: None, limit: TRAY_ITEMS };
        items.extend(store.page(&q)?.items);
    }
    items.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    items.truncate(TRAY_ITEMS);
    Ok(items)
}

impl Desktop {
    pub fn page(
        &self,
        scope: Scope,
        unread_only: bool,
        after: Option<PageCursor>,
        limit: usize,
    ) -> Result<PageView, AppError> {
        let scope = Scope::new(scope.tab, scope.category)?;
        let page = self.store().page(&ListQuery { scope, unread_only, after, limit })?;
        Ok(PageView { items: page.items.iter().map(|n| n.to_wire()).collect(), next: page.next })
    }

    /// What the window's first paint needs ([`FirstPaint`]), read as it is built.
    pub fn first_paint(&self) -> Result<FirstPaint, AppError> {
        let (scope, unread_only, limit) = (FirstPaint::SCOPE, false, FirstPaint::LIMIT);
        Ok(FirstPaint {
            page: self.page(scope, unread_only, None, limit)?,
            counts: self.counts()?,
            settings: self.settings(),
            status: self.status(),
            scope,
            unread_only,
            limit,
        })
    }

    pub fn counts(&self) -> Result<CountsView, AppError> {
        let store = self.store();
        Ok(CountsView::new(&store.unread_counts()?, store.quarantine_count()?))
    }

    /// Why notifications could not be shown: the count and the latest reasons.
    pub fn quarantine(&self) -> Result<QuarantineView, AppError> {
        let store = self.store();
        let latest = store
            .quarantine_reasons(QUARANTINE_SHOWN)?
            .into_iter()
            .map(|(received_at, reason)| QuarantinedView { received_at, reason })
            .collect();
        Ok(QuarantineView { count: store.quarantine_count()?, latest })
    }

    pub fn why(&self, id: &str) -> Option<Reason> {
        self.toasts.why(id)
    }

    pub fn lang(&self) -> Lang {
        self.settings_snapshot().lang
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The tray's look now (NC-R14, MW-2, NC-R11).
    pub fn tray(&self) -> TrayView {
        let settings = self.settings_snapshot();
        let (unread, newest_unread) = {
            let store = self.store();
            let unread = store.unread_counts().map(|c| c.total()).unwrap_or(0);
            (unread, newest_unread(&store).unwrap_or_default())
        };
        let state = self.status().state;
        let update = self.update_offer();
        let quiet = self.quiet();
        let local = |t: DateTime<Utc>| t.with_timezone(&Local).format("%H:%M").to_string();
        let until = quiet.map(|q| local(q.until));
        let maintenance_until = match state {
            ConnState::Maintenance { until: Some(t), .. } => Some(local(t)),
            _ => None,
        };
        TrayView::compute(
            &self.catalog,
            TrayInput {
                lang: settings.lang,
                unread,
                state: &state,
                quiet: quiet.zip(until.as_deref()).map(|(q, t)| (q.kind, t)),
                quiet_hours_on: settings.quiet_hours.enabled,
                autostart: settings.autostart,
                autostart_managed: self.autostart_exe.is_some(),
                locked: &self.policy.locked(),
                update: update.as_ref().map(|u| u.version.as_str()),
                sign_in: self.needs_sign_in(),
                maintenance_until: maintenance_until.as_deref(),
                system_quiet: self.system_quiet(),
                newest_unread: &newest_unread,
            },
        )
    }

    /// The "Snoozed" view: what waits, soonest first.
    pub fn snoozed(&self) -> Result<Vec<SnoozedView>, AppError> {
        let waiting = self.store().snoozed()?;
        Ok(waiting
            .into_iter()
            .map(|s| SnoozedView { item: s.notification.to_wire(), until: s.until })
            .collect())
    }

    /// The snooze menu's times, where the agent is.
    pub fn snooze_times(&self) -> Result<SnoozeTimes, AppError> {
        snooze_times(self.clock.now(), Zone::Device)
            .ok_or_else(|| AppError::Invalid("no snooze time fits this date".into()))
    }

    /// Searches the history: within `scope` (the active tab and chip) or everywhere; a page at a
    /// time (`before`: the previous page's `next`), with how many match in all on the first.
    pub fn search(
        &self,
        text: &str,
        scope: Option<Scope>,
        unread_only: bool,
        before: Option<&str>,
    ) -> Result<SearchView, AppError> {
        let scope = scope.map(|s| Scope::new(s.tab, s.category)).transpose()?;
        let before = before
            .map(|c| c.parse::<i64>().map_err(|_| AppError::Invalid(format!("not a search cursor: {c:?}"))))
            .transpose()?;
        let q = SearchQuery { text: text.to_owned(), scope, unread_only, limit: MAX_RESULTS, before };
        let store = self.store();
        let page = store.search(&q)?;
        let total = match before {
            None => Some(store.search_count(&q)?),
            Some(_) => None,
        };
        Ok(SearchView {
            items: page.items.iter().map(|n| n.to_wire()).collect(),
            next: page.next.map(|seq| seq.to_string()),
            total,
        })
    }

    /// Tabs that may have lost items while the agent was away (NC-R5), until dismissed.
    pub fn gaps(&self) -> Result<Vec<Tab>, AppError> {
        Ok(self.store().gaps()?)
    }

    /// NC-R8.
    pub fn mark_read(&self, id: &str) -> Result<(), AppError> {
        self.actions.mark_read(id)
    }

    /// ORG-7: not in the direct CRM mode, whose API cannot mark anything unread (its next poll
    /// would read it again).
    pub fn mark_unread(&self, id: &str) -> Result<(), AppError> {
        let settings = self.settings_snapshot();
        if settings.source == SourceKind::Crm && !self.demo {
            return Err(AppError::Refused(
                "the Qontak CRM cannot mark notifications unread; through your organisation's Lonceng server it can".into(),
            ));
        }
        self.actions.mark_unread(id)
    }

    /// NC-R7.
    pub fn open_item(&self, id: &str) -> Result<(), AppError> {
        self.actions.open(id)
    }

    /// NC-R6.
    pub fn mark_all_read(&self, scope: Scope) -> Result<MarkAllView, AppError> {
        self.actions.mark_all_read(scope)
    }

    /// The tray's "Mark all as read": every tab, each scoped (NC-R6).
    pub fn mark_everything_read(&self) -> Result<u64, AppError> {
        self.actions.mark_everything_read()
    }

    pub fn undo(&self, token: &str) -> Result<bool, AppError> {
        self.actions.undo(token)
    }

    /// Snoozes an unread item until `until` (it comes back then, unread, with a fresh toast).
    pub fn snooze(&self, id: &str, until: DateTime<Utc>) -> Result<bool, AppError> {
        self.actions.snooze(id, until)
    }

    /// Brings a snoozed item back now.
    pub fn unsnooze(&self, id: &str) -> Result<bool, AppError> {
        self.actions.unsnooze(id)
    }

    pub fn dismiss_gap(&self, tab: Tab) -> Result<(), AppError> {
        self.actions.dismiss_gap(tab)
    }
}
