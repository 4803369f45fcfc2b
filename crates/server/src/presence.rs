//! Where the agent is active, per device, as the devices report it (input to NC-R12). Kept in memory:
//! presence is only meaningful while fresh, and devices report again after a restart.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use lonceng_domain::protocol::{DevicePresence, Presence, PresenceReport, Surface};

pub struct PresenceBook {
    users: Mutex<HashMap<String, HashMap<String, DevicePresence>>>,
    /// Reports older than this no longer count: a device that stopped reporting is not "active".
    ttl: Duration,
}

impl PresenceBook {
    pub fn new(ttl: Duration) -> PresenceBook {
        PresenceBook { users: Mutex::new(HashMap::new()), ttl }
    }

    pub fn report(&self, user: &str, device: &str, r: PresenceReport, now: DateTime<Utc>) -> Presence {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let devices = users.entry(user.to_owned()).or_default();
        devices.insert(
            device.to_owned(),
            DevicePresence {
                device_id: device.to_owned(),
                surface: r.surface,
                active: r.active,
                updated_at: now,
            },
        );
        summarise(devices, now, self.ttl)
    }

    pub fn get(&self, user: &str, now: DateTime<Utc>) -> Presence {
        let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        users
            .get(user)
            .map_or_else(|| summarise(&HashMap::new(), now, self.ttl), |d| summarise(d, now, self.ttl))
    }
}

fn summarise(devices: &HashMap<String, DevicePresence>, now: DateTime<Utc>, ttl: Duration) -> Presence {
    let mut fresh: Vec<DevicePresence> =
        devices.values().filter(|d| now - d.updated_at <= ttl).cloned().collect();
    fresh.sort_by(|a, b| a.device_id.cmp(&b.device_id));
    let active = |s: &[Surface]| fresh.iter().any(|d| d.active && s.contains(&d.surface));
    Presence {
        active_in_web_chat: active(&[Surface::WebChat]),
        active_in_chat: active(&[Surface::WebChat, Surface::MobileChat]),
        devices: fresh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn presence_combines_devices_and_forgets_stale_reports() {
        let book = PresenceBook::new(Duration::minutes(2));
        let now = t("2026-01-20T01:00:00Z");
        let p =
            book.report("u-1", "phone", PresenceReport { surface: Surface::MobileChat, active: true }, now);
        assert!(p.active_in_chat && !p.active_in_web_chat);
        let p = book.report("u-1", "laptop", PresenceReport { surface: Surface::WebChat, active: true }, now);
        assert!(p.active_in_web_chat);
        assert_eq!(p.devices.len(), 2);
        // Another user's presence is separate.
        assert!(!book.get("u-2", now).active_in_chat);
        // Three minutes later, without new reports, nothing counts.
        let later = book.get("u-1", now + Duration::minutes(3));
        assert!(!later.active_in_chat && later.devices.is_empty());
    }
}
