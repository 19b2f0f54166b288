-- Polar daily activity -> daily_activity: steps, the distance Polar derives from them (m), calories (kcal,
-- basal included) and active calories. `start_time` is the local midnight of the day (`2026-08-17T00:00`).
-- per record
-- lineage: day <- activities:start_time
-- lineage: steps <- activities:steps
-- lineage: distance_m <- activities:distance_from_steps
-- lineage: active_kcal <- activities:active_calories
-- lineage: total_kcal <- activities:calories
SELECT
    'polar'                                              AS provider,
    CAST(day AS DATE)                                    AS day,
    CAST(payload->>'steps' AS BIGINT)                    AS steps,
    CAST(payload->>'distance_from_steps' AS DOUBLE)      AS distance_m,
    CAST(payload->>'active_calories' AS DOUBLE)          AS active_kcal,
    CAST(payload->>'calories' AS DOUBLE)                 AS total_kcal,
    CAST(NULL AS DOUBLE)                                 AS floors,
    CAST(NULL AS DOUBLE)                                 AS elevation_gain_m,
    CAST(NULL AS BIGINT)                                 AS sedentary_s,
    CAST(NULL AS BIGINT)                                 AS light_s,
    CAST(NULL AS BIGINT)                                 AS moderate_s,
    CAST(NULL AS BIGINT)                                 AS vigorous_s,
    CAST(NULL AS DOUBLE)                                 AS resting_hr_bpm,
    CAST(NULL AS DOUBLE)                                 AS equivalent_walking_distance_m
FROM raw WHERE resource = 'activities'
