-- Polar exercises -> workouts. `start_time` is the watch's local time and `start_time_utc_offset` its
-- offset in minutes: the start is start_time - offset (UTC). `duration` is ISO 8601 (`PT2724.716S`,
-- `PT21M54.002S`); the activity comes from `detailed_sport_info` (`STRENGTH_TRAINING`, `RUNNING`,
-- `ROAD_BIKING`), else `sport`. Calories are kcal (0 on some long sessions and absent from app-logged
-- ones: NULL); distance in m.
-- per record
-- raw record: 'exercises/' || workout_id
-- lineage: workout_id <- exercises:id
-- lineage: day <- exercises:start_time
-- lineage: start_ts <- exercises:start_time, exercises:start_time_utc_offset
-- lineage: end_ts <- exercises:start_time, exercises:start_time_utc_offset, exercises:duration
-- lineage: activity <- exercises:detailed_sport_info, exercises:sport
-- lineage: title <- exercises:detailed_sport_info
-- lineage: duration_s <- exercises:duration
-- lineage: active_kcal <- exercises:calories
-- lineage: distance_m <- exercises:distance
-- lineage: avg_hr_bpm <- exercises:heart_rate.average
WITH sports(sport, activity) AS (
    VALUES ('STRENGTH_TRAINING', 'strength_training'), ('RUNNING', 'running'), ('TRAIL_RUNNING', 'running'),
           ('TREADMILL_RUNNING', 'running'), ('WALKING', 'walking'), ('NORDIC_WALKING', 'walking'),
           ('HIKING', 'hiking'), ('CYCLING', 'cycling'), ('ROAD_BIKING', 'cycling'), ('MOUNTAIN_BIKING', 'cycling'),
           ('INDOOR_CYCLING', 'cycling'), ('SWIMMING', 'swimming'), ('POOL_SWIMMING', 'swimming'),
           ('OPEN_WATER_SWIMMING', 'swimming'), ('YOGA', 'yoga'), ('PILATES', 'pilates'), ('ROWING', 'rowing'),
           ('INDOOR_ROWING', 'rowing'), ('CROSS_COUNTRY_SKIING', 'skiing'), ('DOWNHILL_SKIING', 'skiing'),
           ('CIRCUIT_TRAINING', 'fitness'), ('CORE', 'fitness'), ('GROUP_EXERCISE', 'fitness')
), e AS (
    SELECT record_id, day, payload, coalesce(payload->>'detailed_sport_info', payload->>'sport') AS sport,
           timezone('UTC', CAST(payload->>'start_time' AS TIMESTAMP)
                           - to_minutes(CAST(payload->>'start_time_utc_offset' AS BIGINT))) AS start_ts,
           coalesce(TRY_CAST(regexp_extract(payload->>'duration', '([0-9.]+)H', 1) AS DOUBLE), 0) * 3600
           + coalesce(TRY_CAST(regexp_extract(payload->>'duration', '([0-9.]+)M', 1) AS DOUBLE), 0) * 60
           + coalesce(TRY_CAST(regexp_extract(payload->>'duration', '([0-9.]+)S', 1) AS DOUBLE), 0) AS seconds
    FROM raw WHERE resource = 'exercises'
)
SELECT
    'polar'                                                              AS provider,
    record_id                                                            AS workout_id,
    CAST(day AS DATE)                                                    AS day,
    start_ts,
    start_ts + to_milliseconds(CAST(round(seconds * 1000) AS BIGINT))    AS end_ts,
    coalesce(sports.activity, lower(e.sport), 'other')                   AS activity,
    payload->>'detailed_sport_info'                                      AS title,
    CAST(round(seconds) AS BIGINT)                                       AS duration_s,
    nullif(CAST(payload->>'calories' AS DOUBLE), 0)                      AS active_kcal,
    CAST(payload->>'distance' AS DOUBLE)                                 AS distance_m,
    CAST(payload->'heart_rate'->>'average' AS DOUBLE)                    AS avg_hr_bpm,
    CAST(NULL AS DOUBLE)                                                 AS work_kj
FROM e LEFT JOIN sports USING (sport)
