//! MW-4 for chat messages: they are never stored, so re-sent ones are recognised by the event ids
//! seen recently (a bounded memory: a re-send comes within minutes, not days).

use std::collections::{HashSet, VecDeque};

/// Chat event ids remembered for dedupe.
const RECENT_CHATS: usize = 2_000;

#[derive(Debug, Default)]
pub(super) struct RecentChats {
    order: VecDeque<String>,
    seen: HashSet<String>,
}

impl RecentChats {
    /// Whether this is the first time `event_id` is seen (remembering it).
    pub(super) fn first_time(&mut self, event_id: &str) -> bool {
        if !self.seen.insert(event_id.to_owned()) {
            return false;
        }
        self.order.push_back(event_id.to_owned());
        if self.order.len() > RECENT_CHATS {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mw4_a_resent_chat_message_is_seen_once_and_memory_stays_bounded() {
        let mut r = RecentChats::default();
        assert!(r.first_time("wa-1"));
        assert!(!r.first_time("wa-1"));
        for i in 0..RECENT_CHATS {
            r.first_time(&format!("other-{i}"));
        }
        assert!(r.order.len() <= RECENT_CHATS && r.seen.len() <= RECENT_CHATS);
        assert!(r.first_time("wa-1"), "forgotten after {RECENT_CHATS} newer ones");
    }
}
