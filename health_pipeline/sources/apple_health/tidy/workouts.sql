-- An Apple Health export's workouts -> workouts (provider apple_health), one row per workout. Totals
-- are attributes in exports before iOS 16 (`totalEnergyBurned`, `totalDistance`) and
-- `WorkoutStatistics` since (a sum for energy and distance, an average for heart rate): either is read,
-- in the unit written (kcal, Cal, kJ; km, mi, m). `duration` excludes pauses. Workouts written by apps
-- the project syncs itself (Strava, Polar…: `exclude_apps`) are left out.
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: workout_id <- workout:records[].sourceName, workout:records[].startDate
-- lineage: day <- workout:records[].startDate
-- lineage: start_ts <- workout:records[].startDate
-- lineage: end_ts <- workout:records[].endDate
-- lineage: activity <- workout:records[].workoutActivityType
-- lineage: title <- workout:records[].workoutActivityType
-- lineage: duration_s <- workout:records[].duration, workout:records[].durationUnit
-- lineage: active_kcal <- workout:records[].totalEnergyBurned, workout:records[].statistics[].sum
-- lineage: distance_m <- workout:records[].totalDistance, workout:records[].statistics[].sum
-- lineage: avg_hr_bpm <- workout:records[].statistics[].average
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
WITH days AS (
    SELECT day, payload->'sources' AS sources_json, payload->'records' AS records_json
    FROM raw WHERE resource = 'workout'
), ranked AS (
    SELECT day, unnest(from_json(sources_json, '[{"name": "VARCHAR", "rank": "INTEGER"}]'), recursive := true)
    FROM days
), records AS (
    SELECT day, unnest(from_json(records_json, '[{"sourceName": "VARCHAR", "startDate": "VARCHAR", "endDate": "VARCHAR",
        "workoutActivityType": "VARCHAR", "duration": "VARCHAR", "durationUnit": "VARCHAR", "totalDistance": "VARCHAR",
        "totalDistanceUnit": "VARCHAR", "totalEnergyBurned": "VARCHAR", "totalEnergyBurnedUnit": "VARCHAR",
        "statistics": [{"type": "VARCHAR", "sum": "VARCHAR", "average": "VARCHAR", "unit": "VARCHAR"}]}]'), recursive := false) AS w
    FROM days
), kept AS (
    SELECT CAST(records.day AS DATE) AS day, w
    FROM records JOIN ranked ON ranked.day = records.day AND ranked.name = w.sourceName
    WHERE ranked.rank IS NOT NULL
), totals AS (
    SELECT day, w,
           list_filter(w.statistics, lambda s: s.type = 'HKQuantityTypeIdentifierActiveEnergyBurned')[1] AS energy,
           list_filter(w.statistics, lambda s: s.type IN ('HKQuantityTypeIdentifierDistanceWalkingRunning',
               'HKQuantityTypeIdentifierDistanceCycling', 'HKQuantityTypeIdentifierDistanceSwimming',
               'HKQuantityTypeIdentifierDistanceWheelchair', 'HKQuantityTypeIdentifierDistanceDownhillSnowSports'))[1] AS dist,
           list_filter(w.statistics, lambda s: s.type = 'HKQuantityTypeIdentifierHeartRate')[1] AS hr
    FROM kept
), read AS (
    SELECT day, w,
           CASE WHEN length(w.startDate) > 19 THEN strptime(w.startDate, '%Y-%m-%d %H:%M:%S %z')
                ELSE timezone(home_tz(), strptime(w.startDate, '%Y-%m-%d %H:%M:%S')) END AS start_ts,
           CASE WHEN length(w.endDate) > 19 THEN strptime(w.endDate, '%Y-%m-%d %H:%M:%S %z')
                ELSE timezone(home_tz(), strptime(w.endDate, '%Y-%m-%d %H:%M:%S')) END AS end_ts,
           coalesce(TRY_CAST(w.totalEnergyBurned AS DOUBLE), TRY_CAST(energy.sum AS DOUBLE))
               * CASE coalesce(w.totalEnergyBurnedUnit, energy.unit) WHEN 'kJ' THEN 1 / 4.184 ELSE 1 END AS active_kcal,
           coalesce(TRY_CAST(w.totalDistance AS DOUBLE), TRY_CAST(dist.sum AS DOUBLE))
               * CASE coalesce(w.totalDistanceUnit, dist.unit) WHEN 'km' THEN 1000 WHEN 'mi' THEN 1609.344
                      WHEN 'yd' THEN 0.9144 WHEN 'ft' THEN 0.3048 ELSE 1 END AS distance_m,
           TRY_CAST(hr.average AS DOUBLE) AS avg_hr_bpm,
           TRY_CAST(w.duration AS DOUBLE) * CASE w.durationUnit WHEN 'min' THEN 60 WHEN 'hr' THEN 3600 ELSE 1 END AS duration
    FROM totals
)
SELECT
    'apple_health'                                                                     AS provider,
    w.sourceName || '/' || strftime(timezone('UTC', start_ts), '%Y-%m-%dT%H:%M:%SZ')  AS workout_id,
    day,
    start_ts,
    end_ts,
    CASE replace(w.workoutActivityType, 'HKWorkoutActivityType', '')
        WHEN 'Running' THEN 'running' WHEN 'Walking' THEN 'walking' WHEN 'Hiking' THEN 'hiking'
        WHEN 'Cycling' THEN 'cycling' WHEN 'Swimming' THEN 'swimming' WHEN 'Yoga' THEN 'yoga'
        WHEN 'TraditionalStrengthTraining' THEN 'strength_training' WHEN 'FunctionalStrengthTraining' THEN 'strength_training'
        WHEN 'Rowing' THEN 'rowing' WHEN 'Elliptical' THEN 'elliptical'
        WHEN 'HighIntensityIntervalTraining' THEN 'hiit'
        ELSE 'other' END                                                               AS activity,
    replace(w.workoutActivityType, 'HKWorkoutActivityType', '')                        AS title,
    CAST(round(coalesce(duration, epoch(end_ts) - epoch(start_ts))) AS BIGINT)         AS duration_s,
    active_kcal,
    distance_m,
    avg_hr_bpm,
    CAST(NULL AS DOUBLE)                                                               AS work_kj
FROM read
