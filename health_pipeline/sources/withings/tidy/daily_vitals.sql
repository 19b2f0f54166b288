-- Withings sleep summaries -> daily_vitals: the average breathing rate of the day's main
-- (longest) sleep.
-- lineage: day <- sleep_summary:date
-- lineage: respiratory_rate_brpm <- sleep_summary:data.rr_average
SELECT
    'withings'                                          AS provider,
    CAST(payload->>'date' AS DATE)                      AS day,
    CAST(NULL AS DOUBLE)                                AS hrv_ms,
    CAST(NULL AS DOUBLE)                                AS spo2_pct,
    CAST(NULL AS DOUBLE)                                AS breathing_disturbance_index,
    CAST(payload->'data'->>'rr_average' AS DOUBLE)      AS respiratory_rate_brpm,
    CAST(NULL AS DOUBLE)                                AS temperature_deviation_c,
    CAST(NULL AS BIGINT)                                AS stress_high_s,
    CAST(NULL AS BIGINT)                                AS recovery_high_s,
    CAST(NULL AS DOUBLE)                                AS vo2_max,
    CAST(NULL AS DOUBLE)                                AS resting_hr_bpm,
    CAST(NULL AS DOUBLE)                                AS skin_temp_c,
    CAST(NULL AS DOUBLE)                                AS hrv_sdnn_ms
FROM raw
WHERE (payload->'data'->>'rr_average') IS NOT NULL
QUALIFY row_number() OVER (
    PARTITION BY payload->>'date'
    ORDER BY CAST(payload->>'enddate' AS BIGINT) - CAST(payload->>'startdate' AS BIGINT) DESC, record_id
) = 1
