-- WHOOP recoveries and main sleeps -> daily_vitals, per the day the night ended: HRV (RMSSD, ms),
-- resting heart rate, SpO2 and skin temperature (WHOOP 4.0 and later: NULL otherwise) from the
-- recovery, breathing rate from the night's sleep. Only scored records.
-- lineage: day <- recoveries:sleep_id, sleeps:end, sleeps:timezone_offset
-- lineage: hrv_ms <- recoveries:score.hrv_rmssd_milli
-- lineage: resting_hr_bpm <- recoveries:score.resting_heart_rate
-- lineage: spo2_pct <- recoveries:score.spo2_percentage
-- lineage: skin_temp_c <- recoveries:score.skin_temp_celsius
-- lineage: respiratory_rate_brpm <- sleeps:score.respiratory_rate
WITH recoveries AS (
    SELECT CAST(day AS DATE) AS day, payload->'score' AS score
    FROM raw WHERE resource = 'recoveries' AND payload->>'score_state' = 'SCORED'
), nights AS (
    SELECT CAST(day AS DATE) AS day, max(CAST(payload->'score'->>'respiratory_rate' AS DOUBLE)) AS breathing
    FROM raw WHERE resource = 'sleeps' AND payload->>'score_state' = 'SCORED' AND NOT CAST(payload->>'nap' AS BOOLEAN)
    GROUP BY 1
), days AS (SELECT day FROM recoveries UNION SELECT day FROM nights)
SELECT
    'whoop'                                                        AS provider,
    days.day,
    max(CAST(recoveries.score->>'hrv_rmssd_milli' AS DOUBLE))      AS hrv_ms,
    max(CAST(recoveries.score->>'spo2_percentage' AS DOUBLE))      AS spo2_pct,
    CAST(NULL AS DOUBLE)                                           AS breathing_disturbance_index,
    max(nights.breathing)                                          AS respiratory_rate_brpm,
    CAST(NULL AS DOUBLE)                                           AS temperature_deviation_c,
    CAST(NULL AS BIGINT)                                           AS stress_high_s,
    CAST(NULL AS BIGINT)                                           AS recovery_high_s,
    CAST(NULL AS DOUBLE)                                           AS vo2_max,
    max(CAST(recoveries.score->>'resting_heart_rate' AS DOUBLE))   AS resting_hr_bpm,
    max(CAST(recoveries.score->>'skin_temp_celsius' AS DOUBLE))    AS skin_temp_c,
    CAST(NULL AS DOUBLE)                                           AS hrv_sdnn_ms
FROM days LEFT JOIN recoveries USING (day) LEFT JOIN nights USING (day)
GROUP BY days.day
