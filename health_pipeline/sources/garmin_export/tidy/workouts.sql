-- A Garmin export's activity summaries (`*_summarizedActivities.json`) -> workouts (provider garmin):
-- `startTimeGmt` is epoch ms UTC, durations ms, `distance` centimetres. The day is that of
-- `startTimeLocal` (the import's). Multisport parents are left out (their legs are activities of their
-- own). `activityType` is a typeKey string (older exports and the API: `{typeKey}`); the name falls back
-- to it. Average heart rate is the summary's, else the session's of the activity's FIT file.
-- raw record: 'activities/' || workout_id
-- lineage: workout_id <- activities:activityId
-- lineage: day <- activities:startTimeLocal
-- lineage: start_ts <- activities:startTimeGmt
-- lineage: end_ts <- activities:startTimeGmt, activities:elapsedDuration
-- lineage: activity <- activities:activityType
-- lineage: title <- activities:name
-- lineage: duration_s <- activities:duration
-- lineage: active_kcal <- activities:calories
-- lineage: distance_m <- activities:distance
-- lineage: avg_hr_bpm <- activities:avgHr, activity_fit:avg_heart_rate
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
WITH fits AS (
    SELECT payload->>'activity_id' AS activity_id, max(TRY_CAST(payload->>'avg_heart_rate' AS DOUBLE)) AS fit_hr
    FROM raw WHERE resource = 'activity_fit' AND (payload->>'activity_id') IS NOT NULL GROUP BY 1
), activities AS (
    SELECT record_id, day, payload,
           to_timestamp(CAST(coalesce(payload->>'startTimeGmt', payload->>'beginTimestamp') AS DOUBLE) / 1000) AS started,
           lower(coalesce(payload->'activityType'->>'typeKey', payload->>'activityType')) AS type_key
    FROM raw
    WHERE resource = 'activities' AND NOT coalesce(TRY_CAST(payload->>'parent' AS BOOLEAN), false)
      AND upper(coalesce(payload->>'sportType', '')) <> 'MULTISPORT'
)
SELECT
    'garmin'                                                                      AS provider,
    record_id                                                                     AS workout_id,
    CAST(day AS DATE)                                                             AS day,
    started                                                                       AS start_ts,
    started + to_milliseconds(CAST(round(coalesce(TRY_CAST(payload->>'elapsedDuration' AS DOUBLE),
                                                  TRY_CAST(payload->>'duration' AS DOUBLE), 0)) AS BIGINT)) AS end_ts,
    CASE
        WHEN type_key IN ('road_biking', 'mountain_biking', 'indoor_cycling', 'virtual_ride', 'gravel_cycling',
                          'cyclocross', 'track_cycling', 'e_bike_fitness', 'e_bike_mountain') THEN 'cycling'
        WHEN type_key IN ('treadmill_running', 'trail_running', 'track_running', 'indoor_running', 'virtual_run') THEN 'running'
        WHEN type_key IN ('lap_swimming', 'open_water_swimming') THEN 'swimming'
        WHEN type_key IN ('casual_walking', 'speed_walking') THEN 'walking'
        ELSE coalesce(type_key, 'other')
    END                                                                           AS activity,
    coalesce(payload->>'name', type_key)                                          AS title,
    CAST(round(TRY_CAST(payload->>'duration' AS DOUBLE) / 1000) AS BIGINT)        AS duration_s,
    TRY_CAST(payload->>'calories' AS DOUBLE)                                      AS active_kcal,
    TRY_CAST(payload->>'distance' AS DOUBLE) / 100                                AS distance_m,
    coalesce(TRY_CAST(payload->>'avgHr' AS DOUBLE), fits.fit_hr)                  AS avg_hr_bpm,
    CAST(NULL AS DOUBLE)                                                          AS work_kj
FROM activities LEFT JOIN fits ON fits.activity_id = activities.record_id
WHERE started IS NOT NULL
