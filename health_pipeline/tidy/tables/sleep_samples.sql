-- sleep_samples: one row per (person, provider, sleep_id, ts): Oura's 5-minute heart-rate and HRV arrays
-- expanded; item i sits at the array's timestamp + i x interval, null items are gaps (NULL here),
-- and an instant where both arrays are null has no row.
CREATE TABLE IF NOT EXISTS sleep_samples (
    person          VARCHAR NOT NULL,  -- [id] whose data it is (`[app] user`, or a person added with `health-pipeline people`)
    provider  VARCHAR     NOT NULL,  -- [-] oura
    sleep_id  VARCHAR     NOT NULL,  -- [-] the sleep the sample belongs to (sleep_sessions.sleep_id)
    ts        TIMESTAMPTZ NOT NULL,  -- [UTC instant] the sample's instant
    day       DATE        NOT NULL,  -- [local date] the sleep's wake-up day
    hr_bpm    DOUBLE,                -- [bpm] heart rate over the interval
    hrv_ms    DOUBLE                 -- [ms] heart-rate variability (RMSSD) over the interval
);
