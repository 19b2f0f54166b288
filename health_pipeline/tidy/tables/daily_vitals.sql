-- daily_vitals: one row per (person, provider, day): nightly vitals of the night ending on `day`, and
-- daily stress and VO2 max.
CREATE TABLE IF NOT EXISTS daily_vitals (
    person          VARCHAR NOT NULL,  -- [id] whose data it is (`[app] user`, or a person added with `health-pipeline people`)
    provider                     VARCHAR NOT NULL,  -- [-] oura, fitbit, withings, whoop, polar or apple_health
    day                          DATE    NOT NULL,  -- [local date] the day (for nightly values: the wake-up day)
    hrv_ms                       DOUBLE,            -- [ms] average nightly heart-rate variability (RMSSD)
    spo2_pct                     DOUBLE,            -- [%] average nightly blood oxygen saturation
    breathing_disturbance_index  DOUBLE,            -- [events/h] Oura's breathing disturbance index
    respiratory_rate_brpm        DOUBLE,            -- [breaths/min] average nightly breathing rate
    temperature_deviation_c      DOUBLE,            -- [degC] nightly skin temperature minus the personal baseline
    stress_high_s                BIGINT,            -- [s] time in high stress
    recovery_high_s              BIGINT,            -- [s] time in high recovery
    vo2_max                      DOUBLE,            -- [ml/kg/min] estimated VO2 max
    resting_hr_bpm               DOUBLE,            -- [bpm] the night's resting heart rate (Polar: the average of its first hours)
    skin_temp_c                  DOUBLE,            -- [degC] nightly skin temperature (absolute, not a deviation)
    hrv_sdnn_ms                  DOUBLE             -- [ms] heart-rate variability as SDNN (Apple Watch): not comparable with RMSSD
);
