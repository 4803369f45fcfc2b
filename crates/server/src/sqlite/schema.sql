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

-- step 3: sign-in through the organisation's identity provider: people's emails and identities,
-- devices (with an admin's tokens as devices too), expiring access tokens, rotating refresh tokens,
-- sign-ins under way, and the audit trail
ALTER TABLE users ADD COLUMN email TEXT;        -- lower case: the human key of an imported agent
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
CREATE UNIQUE INDEX users_email ON users (email);
CREATE TABLE identities (
    issuer  TEXT NOT NULL,
    subject TEXT NOT NULL,                      -- the identity provider's `sub`: stable
    user_id TEXT NOT NULL REFERENCES users (id),
    email   TEXT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE TABLE devices (
    user_id      TEXT NOT NULL REFERENCES users (id),
    id           TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    os           TEXT NOT NULL DEFAULT '',
    app_version  TEXT NOT NULL DEFAULT '',
    signed_in    INTEGER NOT NULL DEFAULT 0,    -- 1: through the identity provider; 0: an admin's token
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER,
    last_address TEXT,
    revoked_at   INTEGER,
    revoked_why  TEXT,
    idp_refresh  TEXT,                          -- the identity provider's refresh token, sealed
    PRIMARY KEY (user_id, id)
);
INSERT INTO devices (user_id, id, created_at)
    SELECT user_id, device_id, MIN(created_at) FROM tokens GROUP BY user_id, device_id;
ALTER TABLE tokens ADD COLUMN expires_at INTEGER;   -- NULL: an admin's token, good until revoked
CREATE INDEX tokens_device ON tokens (user_id, device_id);
CREATE TABLE refresh_tokens (
    hash      TEXT PRIMARY KEY,                 -- SHA-256, hex
    user_id   TEXT NOT NULL,
    device_id TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    spent_at  INTEGER                           -- used once; a second use revokes the device
);
CREATE INDEX refresh_device ON refresh_tokens (user_id, device_id);
CREATE TABLE sign_ins (
    state_hash  TEXT PRIMARY KEY,               -- SHA-256 of the state sent to the identity provider
    started_at  INTEGER NOT NULL,
    taken_at    INTEGER,                       -- the identity provider answered (once)
    request     TEXT NOT NULL,                  -- db::SignIn's request, JSON
    code_hash   TEXT UNIQUE,                    -- the one-time code handed to the app, SHA-256
    user_id     TEXT,
    coded_at    INTEGER,
    redeemed_at INTEGER,
    device_id   TEXT,                           -- the device the code made
    idp_refresh TEXT                            -- the identity provider's refresh token, sealed
);
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    address TEXT,
    detail  TEXT NOT NULL DEFAULT ''
);

-- step 4: each node's health, reported by the node itself every few seconds (the admin's health page)
CREATE TABLE nodes (
    id      TEXT PRIMARY KEY,
    seen_at INTEGER NOT NULL,
    report  TEXT NOT NULL                       -- db::NodeReport, JSON
);

-- step 5: the admin console's sessions, by the hash of the cookie's id (never the id itself)
CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY,
    person     TEXT NOT NULL,                   -- the admin's email ('admin': the admin token)
    record     TEXT NOT NULL,                   -- the session's data, JSON
    expires_at INTEGER NOT NULL
);
CREATE INDEX console_sessions_person ON console_sessions (person);
