-- Fitbit (Google Health) exercise sessions -> workouts. `activeDuration` is a "Ns" string,
-- distance is in millimetres, int64 values are JSON strings. Google leaves a default out: a summary
-- without distance or calories had 0 of them; without a heart rate, it had none (NULL).
-- raw record: 'exercise/' || workout_id
-- lineage: workout_id <- exercise:name
-- lineage: day <- exercise:exercise.interval.startTime
-- lineage: start_ts <- exercise:exercise.interval.startTime
-- lineage: end_ts <- exercise:exercise.interval.endTime
-- lineage: activity <- exercise:exercise.exerciseType
-- lineage: title <- exercise:exercise.displayName
-- lineage: duration_s <- exercise:exercise.activeDuration
-- lineage: active_kcal <- exercise:exercise.metricsSummary.caloriesKcal
-- lineage: distance_m <- exercise:exercise.metricsSummary.distanceMillimeters
-- lineage: avg_hr_bpm <- exercise:exercise.metricsSummary.averageHeartRateBeatsPerMinute
SELECT
    'fitbit'                                                                       AS provider,
    record_id                                                                      AS workout_id,
    CAST(day AS DATE)                                                              AS day,
    CAST(payload->'exercise'->'interval'->>'startTime' AS TIMESTAMPTZ)             AS start_ts,
    CAST(payload->'exercise'->'interval'->>'endTime' AS TIMESTAMPTZ)               AS end_ts,
    CASE payload->'exercise'->>'exerciseType'
        WHEN 'WEIGHTLIFTING' THEN 'strength_training'
        WHEN 'STRENGTH_TRAINING' THEN 'strength_training'
        WHEN 'BIKING' THEN 'cycling'
        WHEN 'CYCLING' THEN 'cycling'
        ELSE lower(payload->'exercise'->>'exerciseType')
    END                                                                            AS activity,
    payload->'exercise'->>'displayName'                                            AS title,
    CAST(CAST(rtrim(payload->'exercise'->>'activeDuration', 's') AS DOUBLE) AS BIGINT) AS duration_s,
    CASE WHEN (payload->'exercise'->'metricsSummary') IS NOT NULL
         THEN coalesce(CAST(payload->'exercise'->'metricsSummary'->>'caloriesKcal' AS DOUBLE), 0) END AS active_kcal,
    CASE WHEN (payload->'exercise'->'metricsSummary') IS NOT NULL
         THEN coalesce(CAST(payload->'exercise'->'metricsSummary'->>'distanceMillimeters' AS DOUBLE), 0) / 1000.0 END AS distance_m,
    CAST(payload->'exercise'->'metricsSummary'->>'averageHeartRateBeatsPerMinute' AS DOUBLE) AS avg_hr_bpm,
    CAST(NULL AS DOUBLE)                                                                     AS work_kj
FROM raw
