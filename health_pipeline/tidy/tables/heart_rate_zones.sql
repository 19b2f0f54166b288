-- heart_rate_zones: one row per (person, provider, day, zone). NULL: the provider does not report that figure.
CREATE TABLE IF NOT EXISTS heart_rate_zones (
    person          VARCHAR NOT NULL,  -- [id] whose data it is (`[app] user`, or a person added with `health-pipeline people`)
    provider    VARCHAR NOT NULL,  -- [-] fitbit or withings
    day         DATE    NOT NULL,  -- [local date] the user's calendar day
    zone        VARCHAR NOT NULL,  -- [-] light, moderate, vigorous or peak (lowest to highest heart rate)
    duration_s  BIGINT,            -- [s] time with the heart rate in the zone
    kcal        DOUBLE             -- [kcal] energy burned while in the zone
);
