-- A Fitbit export's activity -> daily_activity (provider fitbit), one row per local day. The minute
-- series (`steps`, `distance` in centimetres, `calories` in kcal, `altitude` in feet, 10 a floor) are
-- summed over the minutes the import assigned to the day; the daily series give the minutes per
-- intensity and the resting heart rate (Fitbit's empty days, `date: null`, are none). Active energy is
-- not in the export. Values are strings in the files.
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: day <- steps:rows[].dateTime, sedentary_minutes:row.dateTime
-- lineage: steps <- steps:rows[].value
-- lineage: distance_m <- distance:rows[].value
-- lineage: total_kcal <- calories:rows[].value
-- lineage: floors <- altitude:rows[].value
-- lineage: elevation_gain_m <- altitude:rows[].value
-- lineage: sedentary_s <- sedentary_minutes:row.value
-- lineage: light_s <- lightly_active_minutes:row.value
-- lineage: moderate_s <- moderately_active_minutes:row.value
-- lineage: vigorous_s <- very_active_minutes:row.value
-- lineage: resting_hr_bpm <- resting_heart_rate:row.value.value
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
WITH minutes AS (
    SELECT DISTINCT resource, day, r.dateTime, CAST(r.value AS DOUBLE) AS value
    FROM (SELECT resource, day, unnest(from_json(payload->'rows', '[{"dateTime": "VARCHAR", "value": "VARCHAR"}]')) AS r
          FROM raw WHERE resource IN ('steps', 'distance', 'calories', 'altitude'))
), summed AS (
    SELECT CAST(day AS DATE) AS day,
           sum(value) FILTER (WHERE resource = 'steps')    AS steps,
           sum(value) FILTER (WHERE resource = 'distance') AS distance_cm,
           sum(value) FILTER (WHERE resource = 'calories') AS kcal,
           sum(value) FILTER (WHERE resource = 'altitude') AS feet,
           bool_or(resource = 'altitude')                 AS has_altitude
    FROM minutes GROUP BY ALL
), daily AS (
    SELECT CAST(day AS DATE) AS day,
           max(TRY_CAST(payload->'row'->>'value' AS BIGINT)) FILTER (WHERE resource = 'sedentary_minutes')         AS sedentary_min,
           max(TRY_CAST(payload->'row'->>'value' AS BIGINT)) FILTER (WHERE resource = 'lightly_active_minutes')    AS light_min,
           max(TRY_CAST(payload->'row'->>'value' AS BIGINT)) FILTER (WHERE resource = 'moderately_active_minutes') AS moderate_min,
           max(TRY_CAST(payload->'row'->>'value' AS BIGINT)) FILTER (WHERE resource = 'very_active_minutes')       AS vigorous_min,
           max(TRY_CAST(payload->'row'->'value'->>'value' AS DOUBLE))
               FILTER (WHERE resource = 'resting_heart_rate' AND (payload->'row'->'value'->>'date') IS NOT NULL
                       AND TRY_CAST(payload->'row'->'value'->>'value' AS DOUBLE) > 0)                            AS resting_hr_bpm
    FROM raw
    WHERE resource IN ('sedentary_minutes', 'lightly_active_minutes', 'moderately_active_minutes', 'very_active_minutes',
                       'resting_heart_rate')
    GROUP BY ALL
)
SELECT
    'fitbit'                                                   AS provider,
    day,
    CAST(steps AS BIGINT)                                      AS steps,
    distance_cm / 100.0                                        AS distance_m,
    CAST(NULL AS DOUBLE)                                       AS active_kcal,
    kcal                                                       AS total_kcal,
    CASE WHEN has_altitude THEN feet / 10.0 END                AS floors,
    CASE WHEN has_altitude THEN round(feet * 0.3048, 4) END    AS elevation_gain_m,
    sedentary_min * 60                                         AS sedentary_s,
    light_min * 60                                             AS light_s,
    moderate_min * 60                                          AS moderate_s,
    vigorous_min * 60                                          AS vigorous_s,
    resting_hr_bpm,
    CAST(NULL AS DOUBLE)                                       AS equivalent_walking_distance_m
FROM summed FULL OUTER JOIN daily USING (day)
WHERE coalesce(steps, distance_cm, kcal, sedentary_min, light_min, moderate_min, vigorous_min, resting_hr_bpm) IS NOT NULL
