-- heart_rate: one row per (provider, ts); `ts` is the instant (TIMESTAMPTZ, stored as UTC),
-- `day` the user's local calendar day it falls in, `bpm` beats per minute, `source` the
-- provider's context for the sample (Oura: awake, rest, sleep, workout, live, session).
CREATE TABLE IF NOT EXISTS heart_rate (
    provider  VARCHAR     NOT NULL,
    ts        TIMESTAMPTZ NOT NULL,
    day       DATE        NOT NULL,
    bpm       DOUBLE      NOT NULL,
    source    VARCHAR
);
