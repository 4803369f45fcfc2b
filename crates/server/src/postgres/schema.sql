-- The Lonceng server's schema on PostgreSQL, in steps (see `db/schema.rs`): a database's version is
-- the number of steps it has had (the lonceng_schema table), and steps are only ever appended. The
-- same tables as on SQLite (sqlite/schema.sql); times are timestamptz (UTC, milliseconds), JSON is
-- kept as text exactly as written.

-- step 1: everything SQLite's steps 1 and 2 hold
CREATE TABLE users (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0          -- the user's change sequence
);
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,                -- SHA-256 of the bearer token, hex
    user_id    TEXT NOT NULL REFERENCES users (id),
    device_id  TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE notifications (
    id          TEXT COLLATE "C" PRIMARY KEY,
    user_id     TEXT NOT NULL,
    tab         BIGINT NOT NULL,
    category    BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    params      TEXT NOT NULL,
    actor_id    TEXT,
    url         TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    read_at     TIMESTAMPTZ,
    created_seq BIGINT NOT NULL                 -- the change that announced it; bounds mark-all
);
CREATE INDEX notif_user_tab ON notifications (user_id, tab, created_at DESC, id DESC);
CREATE INDEX notif_user_category ON notifications (user_id, category, created_at DESC, id DESC);
CREATE INDEX notif_expiry ON notifications (tab, created_at);
CREATE TABLE changes (
    user_id TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (user_id, seq)
);
CREATE INDEX changes_at ON changes (at);
CREATE TABLE events (
    key         TEXT PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL,
    response    TEXT NOT NULL                   -- '' while the claiming transaction runs
);
CREATE INDEX events_received ON events (received_at);
CREATE TABLE queued_events (
    pos         BIGSERIAL PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    received_at TIMESTAMPTZ NOT NULL,
    body        TEXT NOT NULL
);
CREATE TABLE client_ops (
    user_id  TEXT NOT NULL,
    key      TEXT NOT NULL,
    at       TIMESTAMPTZ NOT NULL,
    response TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE TABLE maintenance_windows (
    id        BIGSERIAL PRIMARY KEY,
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at   TIMESTAMPTZ NOT NULL,
    message   TEXT NOT NULL
);
CREATE TABLE qontak_webhook_secrets (
    id             TEXT COLLATE "C" PRIMARY KEY,
    hash           TEXT NOT NULL,               -- SHA-256 of the secret, hex
    previous_hash  TEXT,
    previous_until TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    rotated_at     TIMESTAMPTZ,
    last_used_at   TIMESTAMPTZ
);
CREATE TABLE qontak_agents (
    user_id    TEXT COLLATE "C" PRIMARY KEY REFERENCES users (id),
    agent_id   TEXT UNIQUE,
    crm_sso_id TEXT UNIQUE
);
CREATE TABLE qontak_rooms (
    id    TEXT PRIMARY KEY,
    state TEXT NOT NULL                         -- RoomState, JSON
);
CREATE TABLE dead_letters (
    id          BIGSERIAL PRIMARY KEY,
    source      TEXT NOT NULL,
    key         TEXT NOT NULL UNIQUE,
    received_at TIMESTAMPTZ NOT NULL,
    reason      TEXT NOT NULL,
    body        TEXT NOT NULL,
    replays     BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE crm_items (
    id       TEXT PRIMARY KEY,                  -- the notification's id
    user_id  TEXT NOT NULL,
    crm_read BOOLEAN NOT NULL                   -- whether the CRM knows it is read
);

-- step 2: SQLite's step 3 (sign-in: emails and identities, devices, expiring access tokens,
-- rotating refresh tokens, sign-ins under way, the audit trail)
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;
CREATE UNIQUE INDEX users_email ON users (email);
CREATE TABLE identities (
    issuer  TEXT NOT NULL,
    subject TEXT NOT NULL,
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
    signed_in    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ,
    last_address TEXT,
    revoked_at   TIMESTAMPTZ,
    revoked_why  TEXT,
    idp_refresh  TEXT,
    PRIMARY KEY (user_id, id)
);
INSERT INTO devices (user_id, id, created_at)
    SELECT user_id, device_id, MIN(created_at) FROM tokens GROUP BY user_id, device_id;
ALTER TABLE tokens ADD COLUMN expires_at TIMESTAMPTZ;
CREATE INDEX tokens_device ON tokens (user_id, device_id);
CREATE TABLE refresh_tokens (
    hash      TEXT PRIMARY KEY,
    user_id   TEXT NOT NULL,
    device_id TEXT NOT NULL,
    issued_at TIMESTAMPTZ NOT NULL,
    spent_at  TIMESTAMPTZ
);
CREATE INDEX refresh_device ON refresh_tokens (user_id, device_id);
CREATE TABLE sign_ins (
    state_hash  TEXT PRIMARY KEY,
    started_at  TIMESTAMPTZ NOT NULL,
    taken_at    TIMESTAMPTZ,
    request     TEXT NOT NULL,
    code_hash   TEXT UNIQUE,
    user_id     TEXT,
    coded_at    TIMESTAMPTZ,
    redeemed_at TIMESTAMPTZ,
    device_id   TEXT,
    idp_refresh TEXT
);
CREATE TABLE audit (
    id      BIGSERIAL PRIMARY KEY,
    at      TIMESTAMPTZ NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    address TEXT,
    detail  TEXT NOT NULL DEFAULT ''
);

-- step 3: SQLite's step 4 (each node's health, reported by the node itself)
CREATE TABLE nodes (
    id      TEXT PRIMARY KEY,
    seen_at TIMESTAMPTZ NOT NULL,
    report  TEXT NOT NULL
);

-- step 4: SQLite's step 5 (the admin console's sessions, by the hash of the cookie's id)
CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY,
    person     TEXT NOT NULL,
    record     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_sessions_person ON console_sessions (person);
