-- Polar Nightly Recharge -> daily_vitals, per the night's wake-up date: HRV (RMSSD, ms), breathing rate and
-- heart rate averaged over the night's first hours (Polar's measure for the recharge). A night whose
-- beat-to-beat signal was missing (`beat_to_beat_avg` 0) has no readings: NULL.
-- lineage: day <- nightly_recharge:date
-- lineage: hrv_ms <- nightly_recharge:heart_rate_variability_avg
-- lineage: respiratory_rate_brpm <- nightly_recharge:breathing_rate_avg
-- lineage: resting_hr_bpm <- nightly_recharge:heart_rate_avg
WITH r AS (
    SELECT day, payload, CAST(payload->>'beat_to_beat_avg' AS DOUBLE) > 0 AS signal
    FROM raw WHERE resource = 'nightly_recharge'
)
SELECT
    'polar'                                                                  AS provider,
    CAST(day AS DATE)                                                        AS day,
    CASE WHEN signal THEN CAST(payload->>'heart_rate_variability_avg' AS DOUBLE) END AS hrv_ms,
    CAST(NULL AS DOUBLE)                                                     AS spo2_pct,
    CAST(NULL AS DOUBLE)                                                     AS breathing_disturbance_index,
    CASE WHEN signal THEN CAST(payload->>'breathing_rate_avg' AS DOUBLE) END AS respiratory_rate_brpm,
    CAST(NULL AS DOUBLE)                                                     AS temperature_deviation_c,
    CAST(NULL AS BIGINT)                                                     AS stress_high_s,
    CAST(NULL AS BIGINT)                                                     AS recovery_high_s,
    CAST(NULL AS DOUBLE)                                                     AS vo2_max,
    CASE WHEN signal THEN CAST(payload->>'heart_rate_avg' AS DOUBLE) END     AS resting_hr_bpm,
    CAST(NULL AS DOUBLE)                                                     AS skin_temp_c,
    CAST(NULL AS DOUBLE)                                                     AS hrv_sdnn_ms
FROM r
