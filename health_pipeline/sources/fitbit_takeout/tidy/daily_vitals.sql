-- A Fitbit export's nightly vitals -> daily_vitals (provider fitbit), one row per day, from the CSV
-- folders: HRV (`Daily Heart Rate Variability Summary`, rmssd ms), SpO2 (`Daily SpO2`, average %),
-- breathing (`Daily Respiratory Rate Summary`, breaths/min) and skin temperature (`Computed
-- Temperature`: the night's mean deviation from the baseline, sample sum / samples, to 0.001 degC).
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: day <- daily_hrv:row.timestamp, daily_spo2:row.timestamp, daily_respiratory_rate:row.timestamp, computed_temperature:row.sleep_end
-- lineage: hrv_ms <- daily_hrv:row.rmssd
-- lineage: spo2_pct <- daily_spo2:row.average_value
-- lineage: respiratory_rate_brpm <- daily_respiratory_rate:row.daily_respiratory_rate
-- lineage: temperature_deviation_c <- computed_temperature:row.baseline_relative_sample_sum, computed_temperature:row.temperature_samples
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
SELECT
    'fitbit'                                                                                AS provider,
    CAST(day AS DATE)                                                                       AS day,
    max(TRY_CAST(payload->'row'->>'rmssd' AS DOUBLE)) FILTER (WHERE resource = 'daily_hrv')  AS hrv_ms,
    max(TRY_CAST(payload->'row'->>'average_value' AS DOUBLE)) FILTER (WHERE resource = 'daily_spo2') AS spo2_pct,
    CAST(NULL AS DOUBLE)                                                                    AS breathing_disturbance_index,
    max(TRY_CAST(payload->'row'->>'daily_respiratory_rate' AS DOUBLE))
        FILTER (WHERE resource = 'daily_respiratory_rate')                                 AS respiratory_rate_brpm,
    max(round(TRY_CAST(payload->'row'->>'baseline_relative_sample_sum' AS DOUBLE)
              / nullif(TRY_CAST(payload->'row'->>'temperature_samples' AS DOUBLE), 0), 3))
        FILTER (WHERE resource = 'computed_temperature')                                   AS temperature_deviation_c,
    CAST(NULL AS BIGINT)                                                                    AS stress_high_s,
    CAST(NULL AS BIGINT)                                                                    AS recovery_high_s,
    CAST(NULL AS DOUBLE)                                                                    AS vo2_max,
    CAST(NULL AS DOUBLE)                                                                    AS resting_hr_bpm,
    CAST(NULL AS DOUBLE)                                                                    AS skin_temp_c,
    CAST(NULL AS DOUBLE)                                                                    AS hrv_sdnn_ms
FROM raw
WHERE resource IN ('daily_hrv', 'daily_spo2', 'daily_respiratory_rate', 'computed_temperature')
GROUP BY day
