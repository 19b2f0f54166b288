-- sleep_sessions: one row per (person, provider, sleep_id). Oura `deleted` and `rest` periods are left out;
-- a sleep whose kind the provider does not say (Oura `type` null) is kept with is_main NULL.
CREATE TABLE IF NOT EXISTS sleep_sessions (
    person          VARCHAR NOT NULL,  -- [id] whose data it is (`[app] user`, or a person added with `health-pipeline people`)
    provider       VARCHAR     NOT NULL,  -- [-] oura, fitbit or withings
    sleep_id       VARCHAR     NOT NULL,  -- [-] the provider's id of the sleep
    day            DATE        NOT NULL,  -- [local date] the wake-up day (the day the sleep counts towards)
    start_ts       TIMESTAMPTZ NOT NULL,  -- [UTC instant] bedtime start
    end_ts         TIMESTAMPTZ NOT NULL,  -- [UTC instant] bedtime end
    is_main        BOOLEAN,               -- [-] the night's main sleep (false: a nap; NULL: the provider does not say)
    time_in_bed_s  BIGINT,                -- [s] time in bed
    asleep_s       BIGINT,                -- [s] time asleep (deep + light + REM)
    deep_s         BIGINT,                -- [s] deep sleep
    light_s        BIGINT,                -- [s] light sleep
    rem_s          BIGINT,                -- [s] REM sleep
    awake_s        BIGINT,                -- [s] time awake in bed
    avg_hr_bpm     DOUBLE,                -- [bpm] average heart rate during the sleep
    lowest_hr_bpm  DOUBLE,                -- [bpm] lowest heart rate during the sleep
    avg_hrv_ms     DOUBLE                 -- [ms] average heart-rate variability (RMSSD) during the sleep
);
