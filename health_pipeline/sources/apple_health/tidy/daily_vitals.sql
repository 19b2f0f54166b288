-- An Apple Health export's vitals -> daily_vitals (provider apple_health), one row per local day of the
-- readings: heart-rate variability as Apple measures it (SDNN, its own column: not Oura's or WHOOP's
-- RMSSD), blood oxygen (Health's fraction to %), breathing rate and VO2 max, each the average of the
-- best-ranked source's readings that day (VO2 max: its last). Copies by apps the project syncs itself
-- are left out.
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: day <- heart_rate_variability_sdnn:records[].startDate
-- lineage: hrv_sdnn_ms <- heart_rate_variability_sdnn:records[].value
-- lineage: spo2_pct <- oxygen_saturation:records[].value
-- lineage: respiratory_rate_brpm <- respiratory_rate:records[].value
-- lineage: vo2_max <- vo2_max:records[].value
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
WITH days AS (
    SELECT resource, day, payload->'sources' AS sources_json, payload->'records' AS records_json
    FROM raw WHERE resource IN ('heart_rate_variability_sdnn', 'oxygen_saturation', 'respiratory_rate', 'vo2_max')
), ranked AS (
    SELECT resource, day, unnest(from_json(sources_json, '[{"name": "VARCHAR", "rank": "INTEGER"}]'), recursive := true)
    FROM days
), records AS (
    SELECT resource, day, unnest(from_json(records_json, '[{"sourceName": "VARCHAR", "startDate": "VARCHAR", "value": "VARCHAR"}]'), recursive := true)
    FROM days
), readings AS (
    SELECT records.resource, CAST(records.day AS DATE) AS day, ranked.rank, startDate,
           TRY_CAST(value AS DOUBLE) AS value
    FROM records JOIN ranked ON ranked.resource = records.resource AND ranked.day = records.day
                            AND ranked.name = records.sourceName
    WHERE ranked.rank IS NOT NULL AND TRY_CAST(value AS DOUBLE) IS NOT NULL
), best AS (
    SELECT * FROM readings QUALIFY rank = min(rank) OVER (PARTITION BY resource, day)
)
SELECT
    'apple_health'                                                              AS provider,
    day,
    CAST(NULL AS DOUBLE)                                                        AS hrv_ms,
    avg(value) FILTER (WHERE resource = 'oxygen_saturation') * 100              AS spo2_pct,
    CAST(NULL AS DOUBLE)                                                        AS breathing_disturbance_index,
    avg(value) FILTER (WHERE resource = 'respiratory_rate')                     AS respiratory_rate_brpm,
    CAST(NULL AS DOUBLE)                                                        AS temperature_deviation_c,
    CAST(NULL AS BIGINT)                                                        AS stress_high_s,
    CAST(NULL AS BIGINT)                                                        AS recovery_high_s,
    arg_max(value, startDate) FILTER (WHERE resource = 'vo2_max')               AS vo2_max,
    CAST(NULL AS DOUBLE)                                                        AS resting_hr_bpm,
    CAST(NULL AS DOUBLE)                                                        AS skin_temp_c,
    avg(value) FILTER (WHERE resource = 'heart_rate_variability_sdnn')          AS hrv_sdnn_ms
FROM best
GROUP BY day
