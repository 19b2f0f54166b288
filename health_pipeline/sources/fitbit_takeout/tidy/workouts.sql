-- A Fitbit export's exercise logs -> workouts (provider fitbit). `startTime` is `MM/DD/YY HH:MM:SS`
-- (newer exports: ISO without a zone) on the intraday clock the import detected (`clock`: UTC, or the
-- wall clock read in the configured zone, `home_tz()`); the import dated it on the configured zone's
-- calendar; durations are in ms; `distance` is in `distanceUnit` (Kilometer or Mile).
-- raw record: 'exercise/' || workout_id
-- lineage: workout_id <- exercise:item.logId
-- lineage: day <- exercise:item.startTime
-- lineage: start_ts <- exercise:item.startTime
-- lineage: end_ts <- exercise:item.startTime, exercise:item.duration
-- lineage: activity <- exercise:item.activityName
-- lineage: title <- exercise:item.activityName
-- lineage: duration_s <- exercise:item.activeDuration
-- lineage: active_kcal <- exercise:item.calories
-- lineage: distance_m <- exercise:item.distance, exercise:item.distanceUnit
-- lineage: avg_hr_bpm <- exercise:item.averageHeartRate
-- per record: every row comes from one raw record, so a long window is modelled in slices
WITH logged AS (
    SELECT *, CASE payload->>'clock' WHEN 'local' THEN timezone(home_tz(), written) ELSE timezone('UTC', written) END AS started
    FROM (SELECT *, coalesce(try_strptime(payload->'item'->>'startTime', '%m/%d/%y %H:%M:%S'),
                             TRY_CAST(payload->'item'->>'startTime' AS TIMESTAMP)) AS written
          FROM raw)
)
SELECT
    'fitbit'                                                                  AS provider,
    record_id                                                                 AS workout_id,
    CAST(day AS DATE)                                                         AS day,
    started                                                                   AS start_ts,
    started + to_milliseconds(CAST(payload->'item'->>'duration' AS BIGINT))  AS end_ts,
    CASE lower(payload->'item'->>'activityName')
        WHEN 'weightlifting' THEN 'strength_training' WHEN 'weights' THEN 'strength_training'
        WHEN 'run' THEN 'running' WHEN 'treadmill' THEN 'running' WHEN 'walk' THEN 'walking'
        WHEN 'bike' THEN 'cycling' WHEN 'outdoor bike' THEN 'cycling' WHEN 'swim' THEN 'swimming' WHEN 'hike' THEN 'hiking'
        ELSE replace(lower(payload->'item'->>'activityName'), ' ', '_')
    END                                                                       AS activity,
    payload->'item'->>'activityName'                                          AS title,
    CAST(payload->'item'->>'activeDuration' AS BIGINT) // 1000                AS duration_s,
    CAST(payload->'item'->>'calories' AS DOUBLE)                              AS active_kcal,
    CASE payload->'item'->>'distanceUnit'
        WHEN 'Kilometer' THEN CAST(payload->'item'->>'distance' AS DOUBLE) * 1000
        WHEN 'Mile' THEN CAST(payload->'item'->>'distance' AS DOUBLE) * 1609.344
    END                                                                       AS distance_m,
    CAST(payload->'item'->>'averageHeartRate' AS DOUBLE)                      AS avg_hr_bpm,
    CAST(NULL AS DOUBLE)                                                      AS work_kj
FROM logged
WHERE started IS NOT NULL
