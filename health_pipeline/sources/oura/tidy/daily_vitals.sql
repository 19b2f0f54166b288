-- Oura -> daily_vitals, one row per day: HRV and breathing rate of the night's main sleep
-- (`long_sleep`; the longest if there are several), temperature deviation from daily_readiness,
-- SpO2, stress and VO2 max from their documents.
-- lineage: day <- sleep:day, daily_readiness:day, daily_spo2:day, daily_stress:day, vO2_max:day
-- lineage: hrv_ms <- sleep:average_hrv
-- lineage: spo2_pct <- daily_spo2:spo2_percentage.average
-- lineage: breathing_disturbance_index <- daily_spo2:breathing_disturbance_index
-- lineage: respiratory_rate_brpm <- sleep:average_breath
-- lineage: temperature_deviation_c <- daily_readiness:temperature_deviation
-- lineage: stress_high_s <- daily_stress:stress_high
-- lineage: recovery_high_s <- daily_stress:recovery_high
-- lineage: vo2_max <- vO2_max:vo2_max
WITH nights AS (
    SELECT CAST(day AS DATE) AS day,
           arg_max(CAST(payload->>'average_hrv' AS DOUBLE), CAST(payload->>'time_in_bed' AS BIGINT)) AS hrv_ms,
           arg_max(CAST(payload->>'average_breath' AS DOUBLE), CAST(payload->>'time_in_bed' AS BIGINT)) AS breath
    FROM raw
    WHERE resource = 'sleep' AND payload->>'type' = 'long_sleep'
    GROUP BY ALL
), others AS (
    SELECT CAST(day AS DATE) AS day,
           max(CAST(payload->'spo2_percentage'->>'average' AS DOUBLE)) FILTER (WHERE resource = 'daily_spo2') AS spo2_pct,
           max(CAST(payload->>'breathing_disturbance_index' AS DOUBLE)) FILTER (WHERE resource = 'daily_spo2') AS bdi,
           max(CAST(payload->>'temperature_deviation' AS DOUBLE)) FILTER (WHERE resource = 'daily_readiness') AS temp_dev,
           max(CAST(payload->>'stress_high' AS BIGINT)) FILTER (WHERE resource = 'daily_stress') AS stress_high_s,
           max(CAST(payload->>'recovery_high' AS BIGINT)) FILTER (WHERE resource = 'daily_stress') AS recovery_high_s,
           max(CAST(payload->>'vo2_max' AS DOUBLE)) FILTER (WHERE resource = 'vO2_max') AS vo2_max
    FROM raw
    WHERE resource <> 'sleep'
    GROUP BY ALL
)
SELECT
    'oura'                 AS provider,
    day,
    nights.hrv_ms,
    others.spo2_pct,
    others.bdi             AS breathing_disturbance_index,
    nights.breath          AS respiratory_rate_brpm,
    others.temp_dev        AS temperature_deviation_c,
    others.stress_high_s,
    others.recovery_high_s,
    others.vo2_max,
    CAST(NULL AS DOUBLE)   AS resting_hr_bpm,
    CAST(NULL AS DOUBLE)   AS skin_temp_c,
    CAST(NULL AS DOUBLE)   AS hrv_sdnn_ms
FROM nights FULL OUTER JOIN others USING (day)
