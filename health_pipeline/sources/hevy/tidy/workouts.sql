-- Hevy workouts -> workouts (strength training logged set by set; the sets are in workout_sets).
-- Times are UTC (live answers write them with a `+00:00` offset); `day` is the local day the
-- workout started on.
-- raw record: 'workouts/' || workout_id
-- lineage: workout_id <- workouts:id
-- lineage: day <- workouts:start_time
-- lineage: start_ts <- workouts:start_time
-- lineage: end_ts <- workouts:end_time
-- lineage: title <- workouts:title
-- lineage: duration_s <- workouts:start_time, workouts:end_time
SELECT
    'hevy'                                                                 AS provider,
    record_id                                                              AS workout_id,
    CAST(day AS DATE)                                                      AS day,
    CAST(payload->>'start_time' AS TIMESTAMPTZ)                            AS start_ts,
    CAST(payload->>'end_time' AS TIMESTAMPTZ)                              AS end_ts,
    'strength_training'                                                    AS activity,
    payload->>'title'                                                      AS title,
    CAST(epoch(CAST(payload->>'end_time' AS TIMESTAMPTZ))
         - epoch(CAST(payload->>'start_time' AS TIMESTAMPTZ)) AS BIGINT)   AS duration_s,
    CAST(NULL AS DOUBLE)                                                   AS active_kcal,
    CAST(NULL AS DOUBLE)                                                   AS distance_m,
    CAST(NULL AS DOUBLE)                                                   AS avg_hr_bpm,
    CAST(NULL AS DOUBLE)                                                   AS work_kj
FROM raw
