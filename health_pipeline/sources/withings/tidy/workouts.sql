-- Withings workouts -> workouts. `category` is a number (1 walk, 2 run, 3 hiking, 6 bicycling,
-- 7 swimming, 16 lift weights, 17 fitness, ...); start and end are Unix seconds; the active
-- duration leaves out pauses. A workout logged without a heart-rate source (a walk the phone
-- detected) says `hr_average: 0`: no heart rate, NULL here, never 0 bpm.
-- raw record: 'workouts/' || workout_id
-- lineage: workout_id <- workouts:id
-- lineage: day <- workouts:date
-- lineage: start_ts <- workouts:startdate
-- lineage: end_ts <- workouts:enddate
-- lineage: activity <- workouts:category
-- lineage: duration_s <- workouts:startdate, workouts:enddate, workouts:data.pause_duration
-- lineage: active_kcal <- workouts:data.calories
-- lineage: distance_m <- workouts:data.distance
-- lineage: avg_hr_bpm <- workouts:data.hr_average
WITH categories(category, activity) AS (
    VALUES (1, 'walking'), (2, 'running'), (3, 'hiking'), (6, 'cycling'), (7, 'swimming'), (12, 'tennis'),
           (16, 'strength_training'), (17, 'fitness'), (18, 'elliptical'), (19, 'pilates'), (28, 'yoga'),
           (29, 'dancing'), (30, 'boxing'), (34, 'skiing'), (36, 'other'), (187, 'rowing'),
           (306, 'walking'), (307, 'running'), (308, 'cycling')
)
SELECT
    'withings'                                                              AS provider,
    record_id                                                               AS workout_id,
    CAST(raw.day AS DATE)                                                   AS day,
    to_timestamp(CAST(payload->>'startdate' AS BIGINT))                     AS start_ts,
    to_timestamp(CAST(payload->>'enddate' AS BIGINT))                       AS end_ts,
    coalesce(categories.activity, 'withings_category_' || (payload->>'category')) AS activity,
    CAST(NULL AS VARCHAR)                                                   AS title,
    CAST(payload->>'enddate' AS BIGINT) - CAST(payload->>'startdate' AS BIGINT)
        - coalesce(CAST(payload->'data'->>'pause_duration' AS BIGINT), 0)  AS duration_s,
    CAST(payload->'data'->>'calories' AS DOUBLE)                            AS active_kcal,
    CAST(payload->'data'->>'distance' AS DOUBLE)                            AS distance_m,
    nullif(CAST(payload->'data'->>'hr_average' AS DOUBLE), 0)               AS avg_hr_bpm,
    CAST(NULL AS DOUBLE)                                                    AS work_kj
FROM raw LEFT JOIN categories ON categories.category = CAST(payload->>'category' AS INTEGER)
