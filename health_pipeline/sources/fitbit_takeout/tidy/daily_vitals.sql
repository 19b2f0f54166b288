-- A Fitbit export's nightly vitals -> daily_vitals (provider fitbit), one row per day, from the CSV
-- folders: HRV (`Daily Heart Rate Variability Summary`, rmssd ms), SpO2 (`Daily SpO2`, average %),
-- breathing (`Daily Respiratory Rate Summary`, breaths/min) and skin temperature (`Computed
-- Temperature`: the night's mean deviation from the baseline, sample sum / samples, to 0.001 degC, and
-- the night's mean, `nightly_temperature`). Google's CSV re-export fills each measure on the days those
-- folders do not have it: `daily_heart_rate_variability` (ms), `daily_oxygen_saturation` (%),
-- `daily_respiratory_rate` (breaths/min) else `respiratory_rate_sleep_summary` (milli-breaths/min, the
-- full sleep's), `daily_sleep_temperature_derivations` (the night's mean skin temperature and its
-- deviation from the 30-day baseline, degC) and `daily_vo2_max` (ml/kg/min); a day with two readings
-- (two sleeps, two apps) keeps the latest by its timestamp (then by source name).
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: day <- daily_hrv:row.timestamp, daily_spo2:row.timestamp, daily_respiratory_rate:row.timestamp, computed_temperature:row.sleep_end, google_daily_hrv:rows[].timestamp, google_daily_spo2:rows[].timestamp, google_daily_respiratory_rate:rows[].timestamp, google_respiratory_rate_sleep:rows[].timestamp, google_sleep_temperature:rows[].timestamp, google_daily_vo2_max:rows[].timestamp
-- lineage: hrv_ms <- daily_hrv:row.rmssd, google_daily_hrv:rows[].average heart rate variability milliseconds
-- lineage: spo2_pct <- daily_spo2:row.average_value, google_daily_spo2:rows[].average percentage
-- lineage: respiratory_rate_brpm <- daily_respiratory_rate:row.daily_respiratory_rate, google_daily_respiratory_rate:rows[].breaths per minute, google_respiratory_rate_sleep:rows[].full sleep stats - milli breaths per minute
-- lineage: temperature_deviation_c <- computed_temperature:row.baseline_relative_sample_sum, computed_temperature:row.temperature_samples, google_sleep_temperature:rows[].nightly temperature celsius, google_sleep_temperature:rows[].baseline temperature celsius
-- lineage: skin_temp_c <- computed_temperature:row.nightly_temperature, google_sleep_temperature:rows[].nightly temperature celsius
-- lineage: vo2_max <- google_daily_vo2_max:rows[].daily vo2 max value
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
WITH folders AS (
    SELECT CAST(day AS DATE) AS day,
           max(TRY_CAST(payload->'row'->>'rmssd' AS DOUBLE)) FILTER (WHERE resource = 'daily_hrv')            AS hrv_ms,
           max(TRY_CAST(payload->'row'->>'average_value' AS DOUBLE)) FILTER (WHERE resource = 'daily_spo2')   AS spo2_pct,
           max(TRY_CAST(payload->'row'->>'daily_respiratory_rate' AS DOUBLE))
               FILTER (WHERE resource = 'daily_respiratory_rate')                                            AS breathing,
           max(round(TRY_CAST(payload->'row'->>'baseline_relative_sample_sum' AS DOUBLE)
                     / nullif(TRY_CAST(payload->'row'->>'temperature_samples' AS DOUBLE), 0), 3))
               FILTER (WHERE resource = 'computed_temperature')                                              AS deviation_c,
           max(TRY_CAST(payload->'row'->>'nightly_temperature' AS DOUBLE))
               FILTER (WHERE resource = 'computed_temperature')                                              AS skin_c
    FROM raw
    WHERE resource IN ('daily_hrv', 'daily_spo2', 'daily_respiratory_rate', 'computed_temperature')
    GROUP BY ALL
), google_rows AS (
    SELECT resource, day, unnest(from_json(payload->'rows', '[{"timestamp": "VARCHAR",
               "average heart rate variability milliseconds": "VARCHAR", "average percentage": "VARCHAR",
               "breaths per minute": "VARCHAR", "full sleep stats - milli breaths per minute": "VARCHAR",
               "nightly temperature celsius": "VARCHAR", "baseline temperature celsius": "VARCHAR",
               "daily vo2 max value": "VARCHAR", "data source": "VARCHAR"}]')) AS r
    FROM raw WHERE resource IN ('google_daily_hrv', 'google_daily_spo2', 'google_daily_respiratory_rate',
                                'google_respiratory_rate_sleep', 'google_sleep_temperature', 'google_daily_vo2_max')
), readings AS (
    SELECT resource, CAST(day AS DATE) AS day, r.timestamp, coalesce(r."data source", '') AS source,
           TRY_CAST(coalesce(r."average heart rate variability milliseconds", r."average percentage",
                             r."breaths per minute", r."daily vo2 max value", r."nightly temperature celsius") AS DOUBLE) AS value,
           TRY_CAST(r."full sleep stats - milli breaths per minute" AS DOUBLE) / 1000.0 AS sleep_breathing,
           round(TRY_CAST(r."nightly temperature celsius" AS DOUBLE) - TRY_CAST(r."baseline temperature celsius" AS DOUBLE), 3)
               AS deviation_c
    FROM google_rows
), latest AS (  -- a day's latest reading per family
    SELECT resource, day, arg_max(value, (timestamp, source)) AS value,
           arg_max(sleep_breathing, (timestamp, source)) AS sleep_breathing,
           arg_max(deviation_c, (timestamp, source)) AS deviation_c
    FROM readings GROUP BY ALL
), google AS (
    SELECT day,
           max(value) FILTER (WHERE resource = 'google_daily_hrv')                     AS hrv_ms,
           max(value) FILTER (WHERE resource = 'google_daily_spo2')                    AS spo2_pct,
           max(value) FILTER (WHERE resource = 'google_daily_respiratory_rate')        AS breathing,
           max(sleep_breathing) FILTER (WHERE resource = 'google_respiratory_rate_sleep') AS sleep_breathing,
           max(deviation_c) FILTER (WHERE resource = 'google_sleep_temperature')       AS deviation_c,
           max(value) FILTER (WHERE resource = 'google_sleep_temperature')             AS skin_c,
           max(value) FILTER (WHERE resource = 'google_daily_vo2_max')                 AS vo2_max
    FROM latest GROUP BY ALL
)
SELECT
    'fitbit'                                                                                AS provider,
    day,
    coalesce(folders.hrv_ms, google.hrv_ms)                                                 AS hrv_ms,
    coalesce(folders.spo2_pct, google.spo2_pct)                                             AS spo2_pct,
    CAST(NULL AS DOUBLE)                                                                    AS breathing_disturbance_index,
    coalesce(folders.breathing, google.breathing, google.sleep_breathing)                   AS respiratory_rate_brpm,
    coalesce(folders.deviation_c, google.deviation_c)                                       AS temperature_deviation_c,
    CAST(NULL AS BIGINT)                                                                    AS stress_high_s,
    CAST(NULL AS BIGINT)                                                                    AS recovery_high_s,
    google.vo2_max                                                                          AS vo2_max,
    CAST(NULL AS DOUBLE)                                                                    AS resting_hr_bpm,
    coalesce(folders.skin_c, google.skin_c)                                                 AS skin_temp_c,
    CAST(NULL AS DOUBLE)                                                                    AS hrv_sdnn_ms
FROM folders FULL OUTER JOIN google USING (day)
