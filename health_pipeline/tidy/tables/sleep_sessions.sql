-- sleep_sessions: one row per (provider, sleep_id). `day` is the wake-up day (the user's local
-- calendar day the sleep ends on); start_ts / end_ts are instants (UTC). Durations in seconds,
-- heart rate in beats per minute, HRV in milliseconds. `is_main` marks the night's main sleep
-- (naps are not main). NULL: the provider does not report that figure (yet).
CREATE TABLE IF NOT EXISTS sleep_sessions (
    provider       VARCHAR     NOT NULL,
    sleep_id       VARCHAR     NOT NULL,
    day            DATE        NOT NULL,
    start_ts       TIMESTAMPTZ NOT NULL,
    end_ts         TIMESTAMPTZ NOT NULL,
    is_main        BOOLEAN     NOT NULL,
    time_in_bed_s  BIGINT,
    asleep_s       BIGINT,
    deep_s         BIGINT,
    light_s        BIGINT,
    rem_s          BIGINT,
    awake_s        BIGINT,
    avg_hr_bpm     DOUBLE,
    lowest_hr_bpm  DOUBLE,
    avg_hrv_ms     DOUBLE
);
