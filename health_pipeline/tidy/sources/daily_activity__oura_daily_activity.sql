-- Oura daily_activity documents -> daily_activity.
-- Oura's intensity buckets: low -> light, medium -> moderate, high -> vigorous (seconds).
-- `equivalent_walking_distance` is in metres. Oura reports no floors or resting heart rate here.
SELECT
    'oura'                                                 AS provider,
    CAST(day AS DATE)                                      AS day,
    CAST(payload->>'steps' AS BIGINT)                      AS steps,
    CAST(payload->>'equivalent_walking_distance' AS DOUBLE) AS distance_m,
    CAST(payload->>'active_calories' AS DOUBLE)            AS active_kcal,
    CAST(payload->>'total_calories' AS DOUBLE)             AS total_kcal,
    CAST(NULL AS DOUBLE)                                   AS floors,
    CAST(payload->>'sedentary_time' AS BIGINT)             AS sedentary_s,
    CAST(payload->>'low_activity_time' AS BIGINT)          AS light_s,
    CAST(payload->>'medium_activity_time' AS BIGINT)       AS moderate_s,
    CAST(payload->>'high_activity_time' AS BIGINT)         AS vigorous_s,
    CAST(NULL AS DOUBLE)                                   AS resting_hr_bpm
FROM raw
