//! Mapping from the Qontak CRM notifications API (shared/reference/qontak-crm-notifications.openapi.yaml)
//! onto Lonceng's tabs, categories and kinds.
//!
//! The CRM sends `notif_type_id` (1 General, 2 Approval), `notif_category_id` (1 Reminder … 9 Expenses),
//! an `origin` (deal, ticket, task, …) and a `description` that the CRM has already rendered. Its text
//! cannot be re-rendered in another language, so these items become [`Kind::CrmNotice`] with the origin
//! and description as parameters; the title and everything around them still follow the language.

use base64::Engine;
use chrono::{DateTime, FixedOffset, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::model::{Category, Kind, Notification, Params, Tab};

pub mod client;

/// HMAC credentials from the Mekari Developer Center, and the CRM user to act as.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub secret: String,
    /// Sent as `X-Crm-User-Sso-Id`.
    pub sso_user_id: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).field("secret", &"…").finish()
    }
}

/// The headers of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub date: String,
    pub authorization: String,
}

/// The `Date` header format the gateway signs (RFC 1123, always GMT).
pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The HMAC-SHA256 signature of the reference: over `"date: <Date>\n<METHOD> <path?query> HTTP/1.1"`,
/// keyed with the secret, Base64-encoded.
pub fn signature(secret: &str, date: &str, method: &str, path_and_query: &str) -> String {
    let payload = format!("date: {date}\n{method} {path_and_query} HTTP/1.1");
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Signs a request exactly as the reference's pre-request script does.
pub fn sign(creds: &Credentials, method: &str, path_and_query: &str, at: DateTime<Utc>) -> Signed {
    let date = http_date(at);
    let sig = signature(&creds.secret, &date, method, path_and_query);
    let authorization = format!(
        r#"hmac username="{}", algorithm="hmac-sha256", headers="date request-line", signature="{sig}""#,
        creds.username
    );
    Signed { date, authorization }
}

/// The `response` envelope of the CRM list endpoint.
#[derive(Debug, Clone, Deserialize)]
pub struct CrmPage {
    #[serde(default)]
    pub response: Vec<serde_json::Value>,
    #[serde(default, deserialize_with = "lenient_count")]
    pub page: Option<u32>,
    /// A count the API may send as a number or a string; anything else (negative, fractional, an
    /// object) reads as unknown rather than failing the page.
    #[serde(default, deserialize_with = "lenient_count")]
    pub total_page: Option<u32>,
}

fn lenient_count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let v = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
    let n = match &v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    Ok(n.map(|n| u32::try_from(n).unwrap_or(u32::MAX)))
}

/// One item of `GET /qontak/crm/notifications` as the reference documents it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CrmNotification {
    pub id: i64,
    #[serde(default)]
    pub origin: Option<String>,
    pub is_read: bool,
    pub created_at: DateTime<FixedOffset>,
    #[serde(default)]
    pub updated_at: Option<DateTime<FixedOffset>>,
    pub user_id: i64,
    pub description: String,
    pub click_action_url: String,
    pub notif_category_id: i64,
    pub notif_type_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrmMapError {
    #[error("unknown notif_type_id {0} (the CRM documents 1 General and 2 Approval)")]
    UnknownType(i64),
    #[error("unknown notif_category_id {0} (the CRM documents 1 to 9)")]
    UnknownCategory(i64),
    #[error("notif_category_id {category} belongs to notif_type_id {expected}, not {got}")]
    TypeMismatch { category: i64, expected: i64, got: i64 },
    #[error("CRM notification {id}: {problem}")]
    Invalid { id: i64, problem: crate::model::Problem },
}

/// Lonceng's id for the CRM's notification `crm_id`.
pub fn crm_item_id(crm_id: i64) -> String {
    format!("crm_{crm_id}")
}

/// The CRM's id of a Lonceng item that came from the CRM.
pub fn crm_id_of(item_id: &str) -> Option<i64> {
    item_id.strip_prefix("crm_")?.parse().ok()
}

/// The tab of a CRM `notif_type_id`.
pub fn tab(notif_type_id: i64) -> Result<Tab, CrmMapError> {
    match notif_type_id {
        1 => Ok(Tab::General),
        2 => Ok(Tab::Approval),
        other => Err(CrmMapError::UnknownType(other)),
    }
}

/// The category of a CRM `notif_category_id`, checked against its `notif_type_id`.
/// "Complete" and "Other" are status updates; "Download" and "Upload" share one chip.
pub fn category(notif_type_id: i64, notif_category_id: i64) -> Result<Category, CrmMapError> {
    let tab = tab(notif_type_id)?;
    let category = match notif_category_id {
        1 => Category::Reminder,
        2 => Category::Mention,
        3 => Category::Assignment,
        4 | 7 => Category::Update,
        5 | 6 => Category::DownloadUpload,
        8 => Category::Deals,
        9 => Category::Expenses,
        other => return Err(CrmMapError::UnknownCategory(other)),
    };
    if category.tab() != tab {
        let expected = if category.tab() == Tab::Approval { 2 } else { 1 };
        return Err(CrmMapError::TypeMismatch { category: notif_category_id, expected, got: notif_type_id });
    }
    Ok(category)
}

/// The origin as a catalog-friendly word; the CRM's own value when it names something else.
fn origin_label(origin: Option<&str>) -> String {
    match origin.map(str::trim) {
        Some(o) if !o.is_empty() => o.to_owned(),
        _ => "notification".to_owned(),
    }
}

impl CrmNotification {
    /// The Lonceng notification for this CRM item. Ids get a `crm_` prefix so that they can never
    /// collide with a Lonceng server's ids in one store (and stay within the ids page cursors carry).
    pub fn to_notification(
        &self,
        recipient_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Notification, CrmMapError> {
        let category = category(self.notif_type_id, self.notif_category_id)?;
        let params = Params::new()
            .with("origin", origin_label(self.origin.as_deref()))
            .with("description", self.description.clone());
        let invalid = |problem| CrmMapError::Invalid { id: self.id, problem };
        params.validate(Kind::CrmNotice).map_err(invalid)?;
        if !crate::model::is_web_url(&self.click_action_url) {
            return Err(invalid(crate::model::Problem::BadUrl));
        }
        let created_at = self.created_at.with_timezone(&Utc);
        // The CRM reports only a flag; the last update is the best estimate of when it was read.
        let read_at = self
            .is_read
            .then(|| self.updated_at.map(|u| u.with_timezone(&Utc)).unwrap_or(now).max(created_at));
        Ok(Notification {
            id: crm_item_id(self.id),
            category,
            kind: Kind::CrmNotice,
            params,
            actor_id: None,
            recipient_id: recipient_id.to_owned(),
            url: self.click_action_url.clone(),
            created_at,
            read_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> serde_json::Value {
        // Verbatim from the reference's listNotifications example.
        serde_json::json!({
            "id": 1, "obj_id": null, "click_action": "OPEN_NOTIFICATIONS", "origin": "deal",
            "task_status_id": null, "is_read": false, "is_reminder": true,
            "created_at": "2025-01-24T09:56:46.336+07:00", "updated_at": "2025-01-24T10:02:06.340+07:00",
            "crm_person_id": null, "crm_company_id": null, "crm_deal_id": null, "crm_note_id": null,
            "crm_task_id": null, "user_id": 1, "description": "Test sending notification deal 1",
            "click_action_url": "https://app.qontak.com/crm/deals/xxxx-xxx-xxx-xxx-xxx/edit",
            "notif_category_id": 7, "notif_type_id": 1
        })
    }

    /// Expected values computed independently (Python's hmac module) from the yaml's algorithm.
    // The CRM source's pages: one odd field does not fail a page (each item is judged on its own).
    #[test]
    fn page_counts_in_any_reasonable_form_read_as_counts_and_odd_ones_as_unknown() {
        let page = |total: &str| {
            serde_json::from_str::<CrmPage>(&format!(
                r#"{{"response": [], "page": 1, "total_page": {total}}}"#
            ))
            .unwrap()
            .total_page
        };
        assert_eq!(page("2"), Some(2));
        assert_eq!(page(r#""3""#), Some(3));
        assert_eq!(page("99999999999"), Some(u32::MAX));
        for odd in ["-1", "1.5", "null", "{}", r#""many""#] {
            assert_eq!(page(odd), None, "{odd}");
        }
    }

    #[test]
    fn signatures_match_the_reference_algorithm() {
        assert_eq!(
            signature(
                "CLIENT_SECRET",
                "Wed, 14 Nov 2024 06:23:23 GMT",
                "GET",
                "/qontak/crm/notifications?page=2"
            ),
            "+n0pquFmJMYOMogFLoF0hFjkz9Fkd3elkqnED2EkLDg="
        );
        assert_eq!(
            signature(
                "s3cr3t-ü",
                "Sat, 20 Jan 2024 01:00:00 GMT",
                "PUT",
                "/qontak/crm/notifications/42/mark_as_read"
            ),
            "lJ1lB+1q/SUxeLIpq/Q5fcEkpLRLSIVfFLp+XuJs0gM="
        );
    }

    #[test]
    fn signed_headers_have_the_reference_shape() {
        let creds = Credentials {
            username: "CLIENT_ID".into(),
            secret: "CLIENT_SECRET".into(),
            sso_user_id: "sso".into(),
        };
        let at = "2024-11-14T06:23:23Z".parse().unwrap();
        let s = sign(&creds, "GET", "/qontak/crm/notifications?page=2", at);
        // (The reference's sample date says "Wed"; 14 Nov 2024 was a Thursday.)
        assert_eq!(s.date, "Thu, 14 Nov 2024 06:23:23 GMT");
        assert_eq!(
            s.authorization,
            r#"hmac username="CLIENT_ID", algorithm="hmac-sha256", headers="date request-line", signature="8Zk141Ul7Wz83dMkUDcWtsItr4ojPIbeu+c6rqRenO8=""#
        );
        assert!(!format!("{creds:?}").contains("CLIENT_SECRET"), "secrets stay out of logs");
    }

    #[test]
    fn every_documented_category_maps_onto_a_chip_of_the_right_tab() {
        let expected = [
            (1, 1, Category::Reminder),
            (1, 2, Category::Mention),
            (1, 3, Category::Assignment),
            (1, 4, Category::Update),
            (1, 5, Category::DownloadUpload),
            (1, 6, Category::DownloadUpload),
            (1, 7, Category::Update),
            (2, 8, Category::Deals),
            (2, 9, Category::Expenses),
        ];
        for (ty, cat, want) in expected {
            assert_eq!(category(ty, cat), Ok(want), "type {ty} category {cat}");
        }
    }

    #[test]
    fn unknown_and_mismatched_ids_are_named() {
        assert_eq!(category(3, 1), Err(CrmMapError::UnknownType(3)));
        assert_eq!(category(1, 10), Err(CrmMapError::UnknownCategory(10)));
        let err = category(1, 8).unwrap_err();
        assert_eq!(err, CrmMapError::TypeMismatch { category: 8, expected: 2, got: 1 });
        assert!(err.to_string().contains("belongs to notif_type_id 2"));
    }

    #[test]
    fn the_reference_example_becomes_a_general_update_in_utc() {
        let item: CrmNotification = serde_json::from_value(sample()).unwrap();
        let now = "2025-01-25T00:00:00Z".parse().unwrap();
        let n = item.to_notification("u-1", now).unwrap();
        assert_eq!(n.id, "crm_1");
        assert_eq!(n.tab(), Tab::General);
        assert_eq!(n.category, Category::Update);
        assert_eq!(n.kind, Kind::CrmNotice);
        assert_eq!(n.params.text("origin"), Some("deal"));
        assert_eq!(n.created_at, "2025-01-24T02:56:46.336Z".parse::<DateTime<Utc>>().unwrap());
        assert_eq!(n.read_at, None);
    }

    #[test]
    fn read_items_take_their_update_time_and_bad_urls_are_refused() {
        let mut raw = sample();
        raw["is_read"] = true.into();
        let item: CrmNotification = serde_json::from_value(raw).unwrap();
        let n = item.to_notification("u-1", Utc::now()).unwrap();
        assert_eq!(n.read_at, Some("2025-01-24T03:02:06.340Z".parse().unwrap()));

        let mut raw = sample();
        raw["click_action_url"] = "javascript:alert(1)".into();
        let item: CrmNotification = serde_json::from_value(raw).unwrap();
        assert!(matches!(item.to_notification("u-1", Utc::now()), Err(CrmMapError::Invalid { id: 1, .. })));
    }
}
