-- workouts: one row per (person, provider, workout_id). `activity` is normalised across providers
-- (strength_training, running, walking, cycling, swimming, hiking, ...); `title` is the provider's.
CREATE TABLE IF NOT EXISTS workouts (
    person          VARCHAR NOT NULL,  -- [id] whose data it is (`[app] user`, or a person added with `health-pipeline people`)
    provider     VARCHAR     NOT NULL,  -- [-] oura, fitbit, withings, hevy, whoop, strava or polar
    workout_id   VARCHAR     NOT NULL,  -- [-] the provider's id of the workout
    day          DATE        NOT NULL,  -- [local date] the day the workout started
    start_ts     TIMESTAMPTZ NOT NULL,  -- [UTC instant] start
    end_ts       TIMESTAMPTZ NOT NULL,  -- [UTC instant] end
    activity     VARCHAR     NOT NULL,  -- [-] normalised activity
    title        VARCHAR,               -- [-] the provider's name for it
    duration_s   BIGINT,                -- [s] active duration
    active_kcal  DOUBLE,                -- [kcal] energy burned (WHOOP's kilojoule / 4.184; never a power meter's work)
    distance_m   DOUBLE,                -- [m] distance covered
    avg_hr_bpm   DOUBLE,                -- [bpm] average heart rate
    work_kj      DOUBLE                 -- [kJ] mechanical work measured by a power meter (Strava `kilojoules`): not energy burned
);
