-- Provisioning and message waiting (HD-PROV, HD-MWI): templates, users' keys per model and
-- MWI subscriptions, as typed JSON records keyed by (domain, kind, key). The server owns
-- the shapes; the store only keeps them and drops them with their domain.
CREATE TABLE prov_records (
    domain TEXT NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
    kind   TEXT NOT NULL,
    key    TEXT NOT NULL,
    data   TEXT NOT NULL,
    PRIMARY KEY (domain, kind, key)
);
CREATE INDEX prov_records_kind ON prov_records (kind);
