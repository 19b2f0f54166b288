-- A Garmin export's nights -> daily_vitals (provider garmin), one row per wake-up day: HRV (ms), the
-- night's heart rate, breathing and SpO2 from `*_healthStatusData.json` (`metrics[]` by `type`; a metric
-- without `value` was not measured), breathing and SpO2 from the sleep file where the health status has
-- none (older devices). Its `SKIN_TEMP_C` stays in the raw store: whether it is absolute or a deviation
-- is not known.
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: day <- health_status:calendarDate, sleep:calendarDate
-- lineage: hrv_ms <- health_status:metrics[].value
-- lineage: spo2_pct <- health_status:metrics[].value, sleep:spo2SleepSummary.averageSPO2
-- lineage: respiratory_rate_brpm <- health_status:metrics[].value, sleep:averageRespiration
-- lineage: resting_hr_bpm <- health_status:metrics[].value
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
WITH status AS (
    SELECT day, m.type AS type, m.value AS value
    FROM (SELECT day, unnest(from_json(payload->'metrics', '[{"type": "VARCHAR", "value": "DOUBLE"}]')) AS m
          FROM raw WHERE resource = 'health_status')
), by_day AS (
    SELECT day,
           max(value) FILTER (WHERE type = 'HRV')         AS hrv_ms,
           max(value) FILTER (WHERE type = 'HR')          AS hr_bpm,
           max(value) FILTER (WHERE type = 'RESPIRATION') AS breaths,
           max(value) FILTER (WHERE type = 'SPO2')        AS spo2
    FROM status GROUP BY day
), nights AS (
    SELECT day, max(TRY_CAST(payload->'spo2SleepSummary'->>'averageSPO2' AS DOUBLE)) AS spo2,
           max(TRY_CAST(payload->>'averageRespiration' AS DOUBLE)) AS breaths
    FROM raw WHERE resource = 'sleep' GROUP BY day
), joined AS (
    SELECT day, b.hrv_ms, coalesce(b.spo2, n.spo2) AS spo2_pct, coalesce(b.breaths, n.breaths) AS respiratory_rate_brpm,
           b.hr_bpm
    FROM by_day b FULL OUTER JOIN nights n USING (day)
)
SELECT
    'garmin'                 AS provider,
    CAST(day AS DATE)        AS day,
    hrv_ms,
    spo2_pct,
    CAST(NULL AS DOUBLE)     AS breathing_disturbance_index,
    respiratory_rate_brpm,
    CAST(NULL AS DOUBLE)     AS temperature_deviation_c,
    CAST(NULL AS BIGINT)     AS stress_high_s,
    CAST(NULL AS BIGINT)     AS recovery_high_s,
    CAST(NULL AS DOUBLE)     AS vo2_max,
    hr_bpm                   AS resting_hr_bpm,
    CAST(NULL AS DOUBLE)     AS skin_temp_c,
    CAST(NULL AS DOUBLE)     AS hrv_sdnn_ms
FROM joined
WHERE coalesce(hrv_ms, spo2_pct, respiratory_rate_brpm, hr_bpm) IS NOT NULL
