-- daily_activity: one row per (provider, day); `day` is the user's local calendar day.
-- Units are in the column names: metres, kilocalories, seconds, beats per minute.
-- NULL means the provider does not report that figure (never 0 for "unknown").
CREATE TABLE IF NOT EXISTS daily_activity (
    provider        VARCHAR NOT NULL,
    day             DATE    NOT NULL,
    steps           BIGINT,
    distance_m      DOUBLE,
    active_kcal     DOUBLE,
    total_kcal      DOUBLE,
    floors          DOUBLE,
    sedentary_s     BIGINT,
    light_s         BIGINT,
    moderate_s      BIGINT,
    vigorous_s      BIGINT,
    resting_hr_bpm  DOUBLE
);
