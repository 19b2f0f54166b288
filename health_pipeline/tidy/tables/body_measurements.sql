-- body_measurements: one row per (person, provider, measured_at, metric), long format. Withings values are
-- `value x 10^unit`; ambiguous weigh-ins (attrib 1: maybe another person) are left out. A segmental
-- value (Withings Body Scan) is its own metric, named after the segment (`muscle_mass_left_arm`),
-- with `segment` set; a whole-body value has `segment` NULL.
CREATE TABLE IF NOT EXISTS body_measurements (
    person          VARCHAR NOT NULL,  -- [id] whose data it is (`[app] user`, or a person added with `health-pipeline people`)
    provider     VARCHAR     NOT NULL,  -- [-] withings or fitbit
    measured_at  TIMESTAMPTZ NOT NULL,  -- [UTC instant] when it was measured
    day          DATE        NOT NULL,  -- [local date] the user's calendar day it was measured on
    metric       VARCHAR     NOT NULL,  -- [-] weight, fat_ratio, fat_mass, fat_free_mass, muscle_mass, bone_mass, hydration, systolic_bp, diastolic_bp, heart_pulse, spo2, body_temperature, ...
    value        DOUBLE      NOT NULL,  -- [see unit] the measured value
    unit         VARCHAR     NOT NULL,  -- [-] kg, %, mmHg, bpm, degC, m/s, ml/min/kg or 1
    source_id    VARCHAR     NOT NULL,  -- [-] the provider's id of the measurement (Withings grpid, Google data point name)
    segment      VARCHAR                -- [-] the body segment of a segmental value (torso, left_arm, right_arm, left_leg, right_leg); NULL: the whole body
);
