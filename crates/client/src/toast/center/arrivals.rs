//! An arrival (a notification, a chat message) through the policy (NC-R12) and into a toast: what
//! the policy is told, the decision remembered for "why no toast?", a held one logged for the
//! summary, and the toast's text, urgency and sound. Kept apart from the screen's bookkeeping so
//! that what a toast says can change without touching how toasts are kept.

use lonceng_domain::model::{Category, ChatMessage, Notification, ParamValue, Tab};

use super::ToastCenter;
use crate::toast::policy::{chat_sensitive, decide, Focus, PolicyInput, Reason};
use crate::toast::ports::{Held, Toast, Urgency};
use crate::toast::settings::{MessageText, ToastSettings};

/// Muted conversations whose messages are tallied for their next toast, at most.
const MUTED_TALLIES: usize = 500;

/// One toast per object: notifications about the same page share a toast; a conversation's messages
/// share one.
fn object_key(n: &Notification) -> String {
    format!("page:{}", n.url)
}

/// Approvals are urgent (shown through the OS's Do Not Disturb) only where the agent chose so
/// (ORG-6); the rest never are.
fn urgency(n: &Notification, settings: &ToastSettings) -> Urgency {
    match n.tab() {
        Tab::Approval if settings.approvals_break_dnd => Urgency::Critical,
        Tab::Approval => Urgency::Normal,
        Tab::Inbox => Urgency::Normal,
        Tab::General => match n.category {
            Category::Mention | Category::Assignment | Category::Reminder => Urgency::Normal,
            _ => Urgency::Low,
        },
    }
}

impl ToastCenter {
    /// ORG-5: whether a toast about to be shown must leave out names and text (`probed`: the focus
    /// already read for this arrival, if it was).
    async fn private(&self, settings: &ToastSettings, probed: Focus) -> bool {
        match settings.message_text {
            MessageText::Always => false,
            MessageText::Never => true,
            MessageText::NotWhileLocked if probed == Focus::Locked => true,
            // Only a probe that ran says "not locked"; one that was skipped is asked now.
            MessageText::NotWhileLocked if probed != Focus::Unknown => false,
            MessageText::NotWhileLocked => self.probe().await == Focus::Locked,
        }
    }

    /// ORG-6: asks the OS whether its Do Not Disturb is on, and remembers the answer.
    pub(super) async fn probe_dnd(&self) -> bool {
        let focus = self.focus.clone();
        let on = tokio::task::spawn_blocking(move || focus.do_not_disturb()).await.unwrap_or(false);
        self.state().system_quiet = on;
        on
    }

    async fn probe(&self) -> Focus {
        let focus = self.focus.clone();
        tokio::task::spawn_blocking(move || focus.focus()).await.unwrap_or(Focus::Unknown)
    }

    /// What the policy needs, and whether the toast (if any) is held to silence by quiet hours.
    async fn input(
        &self,
        tab: Option<Tab>,
        category: Option<Category>,
        read: bool,
        late: bool,
        muted: bool,
    ) -> (PolicyInput, bool) {
        let settings = self.settings();
        let quiet = self.quiet_in(&settings).map(|q| q.kind);
        let breaks_through = category.is_some_and(|c| settings.quiet_hours.breakthrough.contains(&c));
        let held = quiet.is_some() && !breaks_through;
        let breaks_system_quiet = tab == Some(Tab::Approval) && settings.approvals_break_dnd;
        // ORG-6: the OS's Do Not Disturb, asked only for what would otherwise be shown.
        let system_quiet = !read && !late && !muted && !held && self.probe_dnd().await;
        let held = held || (system_quiet && !breaks_system_quiet);
        // The focus probe costs a round trip to the display server: only ask when it matters.
        let needs_focus = !read && !late && !muted && !held && chat_sensitive(tab);
        let focus = if needs_focus { self.probe().await } else { Focus::Unknown };
        let web_chat_active = self.state().presence.as_ref().map(|p| p.active_in_web_chat);
        let input = PolicyInput {
            tab,
            read,
            late,
            muted,
            quiet,
            breaks_through,
            system_quiet,
            breaks_system_quiet,
            focus,
            web_chat_active,
        };
        (input, quiet.is_some() || system_quiet)
    }

    pub(super) async fn arrived(&self, n: &Notification, late: bool) {
        let settings = self.settings();
        let muted = settings.muted.contains(&n.category);
        let (input, quiet) =
            self.input(Some(n.tab()), Some(n.category), n.read_at.is_some(), late, muted).await;
        let reason = decide(&input);
        self.remember(&n.id, reason);
        match reason {
            Reason::Toasted => {}
            Reason::Paused | Reason::QuietHours | Reason::SystemQuiet => {
                return self.held_back(Held::Item(&n.id))
            }
            _ => return,
        }
        let lang = settings.lang;
        let rendered = self.catalog.render(lang, n.kind, &n.params);
        // The title names the kind ("Conversation assigned"), never a person: it stays.
        let body = if self.private(&settings, input.focus).await {
            self.catalog.message(lang, "toast-private", &[])
        } else {
            rendered.body
        };
        let toast = Toast {
            title: rendered.title,
            body,
            urgency: urgency(n, &settings),
            action_label: self.catalog.message(lang, "tray-open", &[]),
            mark_read_label: Some(self.catalog.message(lang, "mark-read", &[])),
            mute_label: None,
            // A category that breaks through quiet hours does so silently.
            sound: !quiet && settings.sound_for(Some(n.category)),
        };
        let key = object_key(n);
        if let Some(handle) = self.show(&key, toast).await {
            self.record(&key, handle, &n.url, |a| {
                if !a.ids.contains(&n.id) {
                    a.ids.push(n.id.clone());
                }
            });
            self.trim().await;
        }
    }

    pub(super) async fn chat(&self, m: &ChatMessage) {
        let settings = self.settings();
        let muted = settings.chat_muted(&m.conversation_id, &m.channel, self.clock.now());
        let (input, quiet) = self.input(None, None, false, false, muted).await;
        let reason = decide(&input);
        if matches!(reason, Reason::Paused | Reason::QuietHours | Reason::SystemQuiet) {
            self.held_back(Held::Other(1));
        }
        let key = format!("chat:{}", m.conversation_id);
        let conversation_muted =
            settings.muted_conversations.get(&m.conversation_id).is_some_and(|c| c.active(self.clock.now()));
        if reason == Reason::Muted {
            // A muted conversation's messages count in its next toast, once it is unmuted (a muted
            // channel or all chat: nothing is owed later). A bounded tally: it is only a courtesy.
            let mut st = self.state();
            if conversation_muted
                && (st.muted_messages.len() < MUTED_TALLIES || st.muted_messages.contains_key(&key))
            {
                *st.muted_messages.entry(key).or_default() += 1;
            }
            return;
        }
        if reason != Reason::Toasted {
            return;
        }
        let count = {
            let mut st = self.state();
            let muted_meanwhile = st.muted_messages.remove(&key).unwrap_or(0);
            st.by_object.get(&key).map_or(0, |a| a.messages).saturating_add(muted_meanwhile).saturating_add(1)
        };
        let lang = settings.lang;
        let args: Vec<(&str, ParamValue)> = vec![
            ("sender", m.sender_name.clone().into()),
            ("channel", m.channel.clone().into()),
            ("preview", m.preview.clone().into()),
            ("count", count.into()),
        ];
        let id = if count > 1 { "chat-messages" } else { "chat-message" };
        // ORG-5: the channel and how many, without the customer's name or words.
        let (title, body) = if self.private(&settings, input.focus).await {
            (
                self.catalog.message(lang, "chat-private", &args),
                self.catalog.message(lang, "toast-private", &[]),
            )
        } else {
            (self.catalog.attribute(lang, id, "title", &args), self.catalog.message(lang, id, &args))
        };
        let toast = Toast {
            title,
            body,
            urgency: Urgency::Normal,
            action_label: self.catalog.message(lang, "open-conversation", &[]),
            mark_read_label: None,
            mute_label: Some(self.catalog.message(lang, "mute-conversation", &[])),
            sound: !quiet && settings.sound_for(None),
        };
        // What a mute from this toast is called in Settings, whatever the toast shows.
        let label = lonceng_domain::i18n::strip_bidi_controls(&self.catalog.attribute(
            lang,
            "chat-message",
            "title",
            &args,
        ));
        if let Some(handle) = self.show(&key, toast).await {
            self.record(&key, handle, &m.url, |a| {
                a.messages = count;
                a.label = Some(label);
            });
            self.trim().await;
        }
    }
}
