//! Presence: where the agent is active, the input to NC-R12.

use crate::util::*;

// NC-R12 input
#[tokio::test]
async fn nc_r12_presence_from_the_web_chat_reaches_the_desktop() {
    let s = server().await;
    let desktop = s.token("u-1", "desktop").await;
    let web = s.token("u-1", "web-chat-tab").await;
    let mut stream = s.stream(&desktop, None).await;
    let first: Value = serde_json::from_str(&next_of(&mut stream, "presence").await.data).unwrap();
    assert_eq!(first["active_in_web_chat"], false);

    let req = s
        .http
        .put(s.url("/v1/presence"))
        .bearer_auth(&web)
        .json(&json!({"surface": "web_chat", "active": true}));
    let (status, _) = s.send(req).await;
    assert_eq!(status, StatusCode::OK);
    let live: Value = serde_json::from_str(&next_of(&mut stream, "presence").await.data).unwrap();
    assert_eq!(live["active_in_web_chat"], true);
    let (_, p) = s.get(&desktop, "/v1/presence").await;
    assert_eq!(p["devices"][0]["device_id"], "web-chat-tab");

    s.clock.advance(Duration::minutes(3));
    let (_, p) = s.get(&desktop, "/v1/presence").await;
    assert_eq!(p["active_in_web_chat"], false, "a silent device stops counting");
}
