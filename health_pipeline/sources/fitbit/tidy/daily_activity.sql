-- Fitbit (Google Health) daily roll-ups -> daily_activity, one row per local day from several
-- resources. int64 values arrive as JSON strings; distance is in millimetres. Google leaves out a
-- member at its default, so a roll-up of a day without its sum (`"steps": {}`) is 0; a day without
-- the roll-up is NULL. Active minutes come per level (LIGHT, MODERATE, VIGOROUS); a level missing
-- from a day's roll-up is 0 minutes. Google has no sedentary time in these types. Altitude is the
-- height gained (millimetres), not height above sea level.
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: day <- steps:civilStartTime.date
-- lineage: steps <- steps:steps.countSum
-- lineage: distance_m <- distance:distance.millimetersSum
-- lineage: active_kcal <- active-energy-burned:activeEnergyBurned.kcalSum
-- lineage: total_kcal <- total-calories:totalCalories.kcalSum
-- lineage: floors <- floors:floors.countSum
-- lineage: elevation_gain_m <- altitude:altitude.gainMillimetersSum
-- lineage: light_s <- active-minutes:activeMinutes.activeMinutesRollupByActivityLevel[LIGHT].activeMinutesSum
-- lineage: moderate_s <- active-minutes:activeMinutes.activeMinutesRollupByActivityLevel[MODERATE].activeMinutesSum
-- lineage: vigorous_s <- active-minutes:activeMinutes.activeMinutesRollupByActivityLevel[VIGOROUS].activeMinutesSum
-- lineage: resting_hr_bpm <- daily-resting-heart-rate:dailyRestingHeartRate.beatsPerMinute
WITH levels AS (
    SELECT CAST(day AS DATE) AS day,
           sum(CAST(l->>'activeMinutesSum' AS BIGINT)) FILTER (WHERE l->>'activityLevel' = 'LIGHT') AS light_min,
           sum(CAST(l->>'activeMinutesSum' AS BIGINT)) FILTER (WHERE l->>'activityLevel' = 'MODERATE') AS moderate_min,
           sum(CAST(l->>'activeMinutesSum' AS BIGINT)) FILTER (WHERE l->>'activityLevel' = 'VIGOROUS') AS vigorous_min
    FROM (SELECT day, unnest(CAST(payload->'activeMinutes'->'activeMinutesRollupByActivityLevel' AS JSON[])) AS l
          FROM raw WHERE resource = 'active-minutes')
    GROUP BY ALL
), days AS (
    SELECT CAST(day AS DATE) AS day,
           max(coalesce(CAST(payload->'steps'->>'countSum' AS BIGINT), 0)) FILTER (WHERE resource = 'steps') AS steps,
           max(coalesce(CAST(payload->'distance'->>'millimetersSum' AS BIGINT), 0))
               FILTER (WHERE resource = 'distance') AS distance_mm,
           max(coalesce(CAST(payload->'activeEnergyBurned'->>'kcalSum' AS DOUBLE), 0))
               FILTER (WHERE resource = 'active-energy-burned') AS active_kcal,
           max(coalesce(CAST(payload->'totalCalories'->>'kcalSum' AS DOUBLE), 0))
               FILTER (WHERE resource = 'total-calories') AS total_kcal,
           max(coalesce(CAST(payload->'floors'->>'countSum' AS DOUBLE), 0)) FILTER (WHERE resource = 'floors') AS floors,
           max(coalesce(CAST(payload->'altitude'->>'gainMillimetersSum' AS BIGINT), 0))
               FILTER (WHERE resource = 'altitude') AS gain_mm,
           bool_or(resource = 'active-minutes') AS has_minutes,
           max(CAST(payload->'dailyRestingHeartRate'->>'beatsPerMinute' AS DOUBLE))
               FILTER (WHERE resource = 'daily-resting-heart-rate') AS resting_hr_bpm
    FROM raw
    GROUP BY ALL
)
SELECT
    'fitbit'                                                           AS provider,
    days.day                                                           AS day,
    steps,
    distance_mm / 1000.0                                               AS distance_m,
    active_kcal,
    total_kcal,
    floors,
    gain_mm / 1000.0                                                   AS elevation_gain_m,
    CAST(NULL AS BIGINT)                                               AS sedentary_s,
    CASE WHEN has_minutes THEN coalesce(light_min, 0) * 60 END         AS light_s,
    CASE WHEN has_minutes THEN coalesce(moderate_min, 0) * 60 END      AS moderate_s,
    CASE WHEN has_minutes THEN coalesce(vigorous_min, 0) * 60 END      AS vigorous_s,
    resting_hr_bpm,
    CAST(NULL AS DOUBLE)                                               AS equivalent_walking_distance_m
FROM days LEFT JOIN levels USING (day)
