//! Prints the bell list of a demo store in the terminal, in English and Indonesian: tabs with unread
//! counts, Today / Older in the device's time zone, and a scoped mark-all.
//!
//! `cargo run -p lonceng-client --example bell`

use chrono::{Duration, Local, Utc};
use lonceng_client::store::{ListQuery, Scope, Store};
use lonceng_domain::i18n::{Catalog, Lang};
use lonceng_domain::model::{Category, Kind, Notification, Params, Tab};
use lonceng_domain::rules::{section, Section};

fn n(id: &str, kind: Kind, category: Category, minutes_ago: i64, params: Params) -> Notification {
    Notification {
        id: id.into(),
        category,
        kind,
        params,
        actor_id: None,
        recipient_id: "agent-1".into(),
        url: format!("https://app.qontak.com/demo/{id}"),
        created_at: Utc::now() - Duration::minutes(minutes_ago),
        read_at: None,
    }
}

fn demo_items() -> Vec<Notification> {
    use Category as C;
    use Kind as K;
    vec![
        n(
            "1",
            K::Mention,
            C::Mention,
            3,
            Params::new()
                .with("actor", "Budi Santoso")
                .with("target", "deal")
                .with("object_name", "PT Sinar Jaya renewal"),
        ),
        n(
            "2",
            K::ConversationAssigned,
            C::ChatAssignment,
            7,
            Params::new()
                .with("actor", "Sari Wulandari")
                .with("contact_name", "Andi")
                .with("channel", "whatsapp"),
        ),
        n(
            "3",
            K::DealOwnerAutoAssigned,
            C::Assignment,
            25,
            Params::new().with("deal_name", "Toko Makmur — 40 units").with("source", "chatbot"),
        ),
        n(
            "4",
            K::ExpenseApprovalRequested,
            C::Expenses,
            50,
            Params::new()
                .with("actor", "Dewi Lestari")
                .with("expense_name", "Client dinner Surabaya")
                .with("amount", "Rp 1.250.000"),
        ),
        n(
            "5",
            K::ConversationResolved,
            C::Resolved,
            90,
            Params::new()
                .with("actor", "Rina")
                .with("contact_name", "Michael Tan")
                .with("channel", "instagram"),
        ),
        n(
            "6",
            K::ExportReady,
            C::DownloadUpload,
            60 * 20,
            Params::new().with("object_type", "deals").with("count", 1250),
        ),
        n(
            "7",
            K::Reminder,
            C::Reminder,
            60 * 26,
            Params::new().with("object_type", "task").with("object_name", "Call back Ibu Ratna"),
        ),
        n(
            "8",
            K::ContactBlocked,
            C::BlockedContact,
            60 * 30,
            Params::new().with("actor", "Agus").with("contact_name", "+62 812-0000-0000"),
        ),
        n(
            "9",
            K::DealApprovalApproved,
            C::Deals,
            60 * 48,
            Params::new().with("actor", "Hendra").with("deal_name", "Koperasi Maju discount"),
        ),
        n(
            "10",
            K::ImportProcessed,
            C::DownloadUpload,
            60 * 72,
            Params::new().with("object_type", "contacts").with("success_count", 980).with("failure_count", 3),
        ),
    ]
}

fn print_bell(store: &Store, catalog: &Catalog, lang: Lang) -> Result<(), Box<dyn std::error::Error>> {
    let counts = store.unread_counts()?;
    let now = Utc::now();
    println!("\n=== {} — {} ===", catalog.message(lang, "bell-title", &[]), lang.native_name());
    println!("{}", catalog.message(lang, "unread-count", &[("count", (counts.total() as i64).into())]));
    for tab in Tab::ALL {
        println!("\n[{} · {}]", catalog.message(lang, &format!("tab-{tab}"), &[]), counts.tab(*tab));
        let page = store.page(&ListQuery {
            scope: Scope::new(*tab, None)?,
            unread_only: false,
            after: None,
            limit: 50,
        })?;
        let mut current = None;
        for item in &page.items {
            let sec = section(item.created_at, now, &Local);
            if current != Some(sec) {
                let id = if sec == Section::Today { "section-today" } else { "section-older" };
                println!("  {}", catalog.message(lang, id, &[]));
                current = Some(sec);
            }
            let local = item.created_at.with_timezone(&Local);
            let when =
                if sec == Section::Today { local.format("%H:%M") } else { local.format("%d %b %H:%M") };
            let dot = if item.is_unread() { "●" } else { " " };
            let text = catalog.render(lang, item.kind, &item.params).body;
            println!("    {dot} {when}  {text}");
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let catalog = Catalog::builtin()?;
    let mut store = Store::open_in_memory()?;
    store.upsert(&demo_items(), Utc::now())?;
    store.mark_read("9", Utc::now())?;
    print_bell(&store, &catalog, Lang::En)?;

    let scope = Scope::new(Tab::Inbox, Some(Category::ChatAssignment))?;
    let report = store.mark_all_read(scope, Utc::now())?;
    println!(
        "\n> {} (Inbox · Assignment only; General and Approval untouched)",
        catalog.message(Lang::En, "mark-all-read-done", &[("count", (report.changed as i64).into())])
    );
    print_bell(&store, &catalog, Lang::Id)?;
    Ok(())
}
