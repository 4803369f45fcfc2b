-- The Lonceng server's schema on SQLite, in steps (see `db/schema.rs`): a file's version is the number
-- of steps it has had (PRAGMA user_version), and steps are only ever appended. The same tables as on
-- PostgreSQL (postgres/schema.sql); times are milliseconds since the Unix epoch (UTC), JSON is kept as
-- text exactly as written.

-- step 1: users and their tokens, items, the change feed, idempotency keys, maintenance windows
CREATE TABLE users (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0      -- the user's change sequence
);
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,             -- SHA-256 of the bearer token, hex
    user_id    TEXT NOT NULL REFERENCES users (id),
    device_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE notifications (
    pk          INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    user_id     TEXT NOT NULL,
    tab         INTEGER NOT NULL,
    category    INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    params      TEXT NOT NULL,
    actor_id    TEXT,
    url         TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    read_at     INTEGER,
    created_seq INTEGER NOT NULL             -- the change that announced it; bounds mark-all
);
CREATE INDEX notif_user_tab ON notifications (user_id, tab, created_at DESC, id DESC);
CREATE INDEX notif_user_category ON notifications (user_id, category, created_at DESC, id DESC);
CREATE INDEX notif_expiry ON notifications (tab, created_at);
CREATE TABLE changes (
    user_id TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (user_id, seq)
) WITHOUT ROWID;
CREATE INDEX changes_at ON changes (at);
CREATE TABLE events (
    key         TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL,
    response    TEXT NOT NULL
);
CREATE TABLE queued_events (
    pos         INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    received_at INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE TABLE client_ops (
    user_id  TEXT NOT NULL,
    key      TEXT NOT NULL,
    at       INTEGER NOT NULL,
    response TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
CREATE TABLE maintenance_windows (
    id        INTEGER PRIMARY KEY,
    starts_at INTEGER NOT NULL,
    ends_at   INTEGER NOT NULL,
    message   TEXT NOT NULL
);

-- step 2: Qontak (webhook secrets, linked agents, rooms, dead letters) and CRM items
CREATE TABLE qontak_webhook_secrets (
    id             TEXT PRIMARY KEY,
    hash           TEXT NOT NULL,            -- SHA-256 of the secret, hex
    previous_hash  TEXT,
    previous_until INTEGER,
    created_at     INTEGER NOT NULL,
    rotated_at     INTEGER,
    last_used_at   INTEGER
);
CREATE TABLE qontak_agents (
    user_id    TEXT PRIMARY KEY REFERENCES users (id),
    agent_id   TEXT UNIQUE,
    crm_sso_id TEXT UNIQUE
);
CREATE TABLE qontak_rooms (
    id    TEXT PRIMARY KEY,
    state TEXT NOT NULL                      -- RoomState, JSON
);
CREATE TABLE dead_letters (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    key         TEXT NOT NULL UNIQUE,
    received_at INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    body        TEXT NOT NULL,
    replays     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE crm_items (
    id       TEXT PRIMARY KEY,               -- the notification's id
    user_id  TEXT NOT NULL,
    crm_read INTEGER NOT NULL                -- whether the CRM knows it is read
);
