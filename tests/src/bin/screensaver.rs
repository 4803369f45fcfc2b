//! A locked screen for the GUI suites: owns `org.freedesktop.ScreenSaver` on the session bus and
//! answers `GetActive` with true (the screen is locked) until it is stopped, as a desktop's screen
//! locker does. Prints `{"call":"ready"}` once it owns the name.

struct Locked;

#[zbus::interface(name = "org.freedesktop.ScreenSaver")]
impl Locked {
    fn get_active(&self) -> bool {
        true
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let _conn = zbus::connection::Builder::session()
        .name("org.freedesktop.ScreenSaver")
        .serve_at("/org/freedesktop/ScreenSaver", Locked)
        .build()
        .await?;
    println!("{}", serde_json::json!({ "call": "ready" }));
    std::future::pending::<()>().await;
    Ok(())
}
