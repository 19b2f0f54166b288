-- A Fitbit export's activity -> daily_activity (provider fitbit), one row per local day. The minute
-- series (`steps`, `distance` in centimetres, `calories` in kcal, `altitude` in feet, 10 a floor) are
-- summed over the minutes the import dated on the day (the configured zone's calendar); the daily series
-- give the minutes per intensity and the resting heart rate (Fitbit's empty days, `date: null`, are none).
-- Google's CSV re-export (UTC readings: `steps`, `distance` in metres, `calories`, `floors`, `altitude`
-- gain in millimetres, `active_minutes` light/moderate/very per minute, resting heart rate in two files
-- with the same readings) fills each measure on the days the JSON does not have it; a reading two apps
-- both wrote (the `data source` column) counts once. Active energy is not in the export. Values are strings.
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: day <- steps:rows[].dateTime, sedentary_minutes:row.dateTime, google_steps:rows[].timestamp
-- lineage: steps <- steps:rows[].value, google_steps:rows[].steps
-- lineage: distance_m <- distance:rows[].value, google_distance:rows[].distance
-- lineage: total_kcal <- calories:rows[].value, google_calories:rows[].calories
-- lineage: floors <- altitude:rows[].value, google_floors:rows[].floors
-- lineage: elevation_gain_m <- altitude:rows[].value, google_altitude:rows[].gain
-- lineage: sedentary_s <- sedentary_minutes:row.value
-- lineage: light_s <- lightly_active_minutes:row.value, google_active_minutes:rows[].light
-- lineage: moderate_s <- moderately_active_minutes:row.value, google_active_minutes:rows[].moderate
-- lineage: vigorous_s <- very_active_minutes:row.value, google_active_minutes:rows[].very
-- lineage: resting_hr_bpm <- resting_heart_rate:row.value.value, google_resting_heart_rate:rows[].beats per minute
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
), google_rows AS (
    SELECT resource, day, unnest(from_json(payload->'rows', '[{"timestamp": "VARCHAR", "steps": "VARCHAR",
               "distance": "VARCHAR", "calories": "VARCHAR", "floors": "VARCHAR", "gain": "VARCHAR", "light": "VARCHAR",
               "moderate": "VARCHAR", "very": "VARCHAR", "beats per minute": "VARCHAR"}]')) AS r
    FROM raw WHERE resource IN ('google_steps', 'google_distance', 'google_calories', 'google_floors', 'google_altitude',
                                'google_active_minutes', 'google_resting_heart_rate')
), readings AS (  -- one reading per instant (two apps, or two files, writing the same one)
    SELECT resource, CAST(day AS DATE) AS day, left(r.timestamp, 19) AS taken_at,
           max(TRY_CAST(coalesce(r.steps, r.distance, r.calories, r.floors, r.gain, r."beats per minute") AS DOUBLE)) AS value,
           max(TRY_CAST(r.light AS DOUBLE)) AS light, max(TRY_CAST(r.moderate AS DOUBLE)) AS moderate,
           max(TRY_CAST(r.very AS DOUBLE)) AS very
    FROM google_rows GROUP BY ALL
), google AS (
    SELECT day,
           sum(value) FILTER (WHERE resource = 'google_steps')    AS steps,
           sum(value) FILTER (WHERE resource = 'google_distance') AS distance_m,
           sum(value) FILTER (WHERE resource = 'google_calories') AS kcal,
           sum(value) FILTER (WHERE resource = 'google_floors')   AS floors,
           sum(value) FILTER (WHERE resource = 'google_altitude') AS gain_mm,
           sum(light) FILTER (WHERE resource = 'google_active_minutes')    AS light_min,
           sum(moderate) FILTER (WHERE resource = 'google_active_minutes') AS moderate_min,
           sum(very) FILTER (WHERE resource = 'google_active_minutes')     AS vigorous_min,
           max(value) FILTER (WHERE resource = 'google_resting_heart_rate' AND value > 0) AS resting_hr_bpm
    FROM readings GROUP BY ALL
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
), merged AS (
    SELECT day,
           coalesce(summed.steps, google.steps)                                           AS steps,
           coalesce(summed.distance_cm / 100.0, google.distance_m)                        AS distance_m,
           coalesce(summed.kcal, google.kcal)                                             AS total_kcal,
           CASE WHEN summed.has_altitude THEN summed.feet / 10.0 ELSE google.floors END   AS floors,
           CASE WHEN summed.has_altitude THEN round(summed.feet * 0.3048, 4)
                ELSE round(google.gain_mm / 1000.0, 4) END                                AS elevation_gain_m,
           daily.sedentary_min,
           coalesce(daily.light_min, google.light_min)                                    AS light_min,
           coalesce(daily.moderate_min, google.moderate_min)                              AS moderate_min,
           coalesce(daily.vigorous_min, google.vigorous_min)                              AS vigorous_min,
           coalesce(daily.resting_hr_bpm, google.resting_hr_bpm)                          AS resting_hr_bpm
    FROM summed FULL OUTER JOIN daily USING (day) FULL OUTER JOIN google USING (day)
)
SELECT
    'fitbit'                                                   AS provider,
    day,
    CAST(steps AS BIGINT)                                      AS steps,
    distance_m,
    CAST(NULL AS DOUBLE)                                       AS active_kcal,
    total_kcal,
    floors,
    elevation_gain_m,
    sedentary_min * 60                                         AS sedentary_s,
    CAST(light_min * 60 AS BIGINT)                             AS light_s,
    CAST(moderate_min * 60 AS BIGINT)                          AS moderate_s,
    CAST(vigorous_min * 60 AS BIGINT)                          AS vigorous_s,
    resting_hr_bpm,
    CAST(NULL AS DOUBLE)                                       AS equivalent_walking_distance_m
FROM merged
WHERE coalesce(steps, distance_m, total_kcal, sedentary_min, light_min, moderate_min, vigorous_min, resting_hr_bpm) IS NOT NULL
