-- Queues and ring groups (HD-ROUTE-7): one row per queue extension; name, strategy, ring
-- time, overflow and the members (as User or as Phone) live in `data`.
CREATE TABLE queues (
    domain    TEXT NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
    extension TEXT NOT NULL,
    data      TEXT NOT NULL,
    PRIMARY KEY (domain, extension)
);
