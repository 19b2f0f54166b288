-- daily_activity: one row per (person, provider, day). NULL: the provider does not report that figure.
CREATE TABLE IF NOT EXISTS daily_activity (
    person          VARCHAR NOT NULL,  -- [id] whose data it is (`[app] user`, or a person added with `health-pipeline people`)
    provider        VARCHAR NOT NULL,  -- [-] oura, fitbit or withings
    day             DATE    NOT NULL,  -- [local date] the user's calendar day
    steps           BIGINT,            -- [steps] steps counted over the day
    distance_m      DOUBLE,            -- [m] distance walked or run (Oura reports none)
    active_kcal     DOUBLE,            -- [kcal] energy burned by activity, basal excluded
    total_kcal      DOUBLE,            -- [kcal] energy burned in total, basal included
    floors          DOUBLE,            -- [floors] floors climbed
    elevation_gain_m DOUBLE,           -- [m] height gained by climbing (Fitbit only: Withings counts floors)
    sedentary_s     BIGINT,            -- [s] time sedentary
    light_s         BIGINT,            -- [s] time in light activity
    moderate_s      BIGINT,            -- [s] time in moderate activity
    vigorous_s      BIGINT,            -- [s] time in vigorous activity
    resting_hr_bpm  DOUBLE,            -- [bpm] resting heart rate of the day
    equivalent_walking_distance_m DOUBLE -- [m] Oura: the walking distance that would burn the day's energy (not distance covered)
);
