-- heart_rate: one row per (person, provider, ts). Oura rows as measured; Fitbit one row per minute (the
-- minute's average); Withings per-minute watch samples (with `[withings] intraday`).
CREATE TABLE IF NOT EXISTS heart_rate (
    person          VARCHAR NOT NULL,  -- [id] whose data it is (`[app] user`, or a person added with `health-pipeline people`)
    provider  VARCHAR     NOT NULL,  -- [-] oura, fitbit or withings
    ts        TIMESTAMPTZ NOT NULL,  -- [UTC instant] when the sample was taken (Fitbit: the minute's start)
    day       DATE        NOT NULL,  -- [local date] the user's calendar day `ts` falls in
    bpm       DOUBLE      NOT NULL,  -- [bpm] heart rate
    source    VARCHAR                -- [-] context: Oura awake/rest/sleep/workout/live/session, Fitbit minute_avg, Withings intraday
);
