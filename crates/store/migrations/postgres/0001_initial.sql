-- hotdesk schema, PostgreSQL dialect (keep in step with ../sqlite/0001_initial.sql).
-- Keys and everything filtered or indexed are real columns; `data` holds the rest of the
-- record as a JSON object. Times are unix milliseconds (`*_ms`).

CREATE TABLE domains (
    name TEXT NOT NULL PRIMARY KEY,
    data TEXT NOT NULL
);

CREATE TABLE users (
    domain    TEXT NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
    extension TEXT NOT NULL,
    data      TEXT NOT NULL,
    PRIMARY KEY (domain, extension)
);

CREATE TABLE devices (
    domain    TEXT NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
    extension TEXT NOT NULL,
    mac       TEXT NOT NULL,
    data      TEXT NOT NULL,
    PRIMARY KEY (domain, extension),
    CONSTRAINT devices_mac_unique UNIQUE (mac)
);

CREATE TABLE trunks (
    domain TEXT NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
    name   TEXT NOT NULL,
    data   TEXT NOT NULL,
    PRIMARY KEY (domain, name)
);

-- One row per device: a device holds at most one person (HD-LOGIN-3).
CREATE TABLE associations (
    domain           TEXT NOT NULL,
    device           TEXT NOT NULL,
    user_ext         TEXT NOT NULL,
    last_activity_ms BIGINT NOT NULL,
    data             TEXT NOT NULL,
    PRIMARY KEY (domain, device),
    FOREIGN KEY (domain, device) REFERENCES devices (domain, extension) ON DELETE CASCADE,
    FOREIGN KEY (domain, user_ext) REFERENCES users (domain, extension) ON DELETE CASCADE
);
CREATE INDEX associations_user ON associations (domain, user_ext);

CREATE TABLE audit (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain   TEXT NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
    at_ms    BIGINT NOT NULL,
    kind     TEXT NOT NULL,
    user_ext TEXT,
    device   TEXT,
    data     TEXT NOT NULL
);
CREATE INDEX audit_domain_at ON audit (domain, at_ms);
CREATE INDEX audit_kind_at ON audit (kind, at_ms);

CREATE TABLE cdrs (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain   TEXT NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
    start_ms BIGINT NOT NULL,
    call_id  TEXT NOT NULL,
    anchor   TEXT,
    user_ext TEXT,
    data     TEXT NOT NULL
);
CREATE INDEX cdrs_domain_start ON cdrs (domain, start_ms);
CREATE INDEX cdrs_domain_user ON cdrs (domain, user_ext, start_ms);
CREATE INDEX cdrs_domain_anchor ON cdrs (domain, anchor, start_ms);

-- A token dies with its domain and with its user (MATCH SIMPLE: NULL columns skip the check).
CREATE TABLE tokens (
    hash     TEXT NOT NULL PRIMARY KEY,
    domain   TEXT REFERENCES domains (name) ON DELETE CASCADE,
    user_ext TEXT,
    data     TEXT NOT NULL,
    FOREIGN KEY (domain, user_ext) REFERENCES users (domain, extension) ON DELETE CASCADE
);
CREATE INDEX tokens_user ON tokens (domain, user_ext);

CREATE TABLE bindings (
    domain     TEXT NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
    aor        TEXT NOT NULL,
    contact    TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (domain, aor, contact)
);
