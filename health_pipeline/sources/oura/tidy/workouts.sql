-- Oura workouts -> workouts. Activities are camelCase (`strengthTraining`) and become snake_case.
-- raw record: 'workout/' || workout_id
-- lineage: workout_id <- workout:id
-- lineage: day <- workout:day
-- lineage: start_ts <- workout:start_datetime
-- lineage: end_ts <- workout:end_datetime
-- lineage: activity <- workout:activity
-- lineage: title <- workout:label
-- lineage: duration_s <- workout:start_datetime, workout:end_datetime
-- lineage: active_kcal <- workout:calories
-- lineage: distance_m <- workout:distance
SELECT
    'oura'                                                                   AS provider,
    payload->>'id'                                                           AS workout_id,
    CAST(day AS DATE)                                                        AS day,
    CAST(payload->>'start_datetime' AS TIMESTAMPTZ)                          AS start_ts,
    CAST(payload->>'end_datetime' AS TIMESTAMPTZ)                            AS end_ts,
    lower(regexp_replace(payload->>'activity', '([a-z0-9])([A-Z])', '\1_\2', 'g')) AS activity,
    payload->>'label'                                                        AS title,
    CAST(epoch(CAST(payload->>'end_datetime' AS TIMESTAMPTZ))
         - epoch(CAST(payload->>'start_datetime' AS TIMESTAMPTZ)) AS BIGINT) AS duration_s,
    CAST(payload->>'calories' AS DOUBLE)                                     AS active_kcal,
    CAST(payload->>'distance' AS DOUBLE)                                     AS distance_m,
    CAST(NULL AS DOUBLE)                                                     AS avg_hr_bpm,
    CAST(NULL AS DOUBLE)                                                     AS work_kj
FROM raw
