-- Oura daily_activity documents -> daily_activity. Oura's intensity buckets: low -> light,
-- medium -> moderate, high -> vigorous (seconds). No floors or resting heart rate here, and no
-- distance: `equivalent_walking_distance` is the walking distance that would burn the day's energy
-- (Oura's docs: 20 122 m for 18 430 steps), not distance covered; it has its own column.
-- lineage: day <- daily_activity:day
-- lineage: steps <- daily_activity:steps
-- lineage: active_kcal <- daily_activity:active_calories
-- lineage: total_kcal <- daily_activity:total_calories
-- lineage: sedentary_s <- daily_activity:sedentary_time
-- lineage: light_s <- daily_activity:low_activity_time
-- lineage: moderate_s <- daily_activity:medium_activity_time
-- lineage: vigorous_s <- daily_activity:high_activity_time
-- lineage: equivalent_walking_distance_m <- daily_activity:equivalent_walking_distance
SELECT
    'oura'                                                  AS provider,
    CAST(day AS DATE)                                       AS day,
    CAST(payload->>'steps' AS BIGINT)                       AS steps,
    CAST(NULL AS DOUBLE)                                    AS distance_m,
    CAST(payload->>'active_calories' AS DOUBLE)             AS active_kcal,
    CAST(payload->>'total_calories' AS DOUBLE)              AS total_kcal,
    CAST(NULL AS DOUBLE)                                    AS floors,
    CAST(NULL AS DOUBLE)                                    AS elevation_gain_m,
    CAST(payload->>'sedentary_time' AS BIGINT)              AS sedentary_s,
    CAST(payload->>'low_activity_time' AS BIGINT)           AS light_s,
    CAST(payload->>'medium_activity_time' AS BIGINT)        AS moderate_s,
    CAST(payload->>'high_activity_time' AS BIGINT)          AS vigorous_s,
    CAST(NULL AS DOUBLE)                                    AS resting_hr_bpm,
    CAST(payload->>'equivalent_walking_distance' AS DOUBLE) AS equivalent_walking_distance_m
FROM raw
