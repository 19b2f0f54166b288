-- An Apple Health export's activity -> daily_activity (provider apple_health), one row per local day,
-- each quantity counted once as the Health app does: every sample (steps, distance, active and basal
-- energy, flights) is spread over the minutes it covers in proportion, and each minute keeps the
-- best-ranked source that has a sample in it (`[apple_health] source_priority`: the Watch, then the
-- phone, then apps), so the phone's count of a walk the Watch also counted adds nothing; copies by apps
-- the project syncs itself (`exclude_apps`) are left out. Units as the phone wrote them (km, mi, m; kcal,
-- Cal, kJ). Total energy is active plus basal. The resting heart rate is the best-ranked source's last.
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: day <- step_count:records[].startDate
-- lineage: steps <- step_count:records[].value
-- lineage: distance_m <- distance_walking_running:records[].value, distance_walking_running:records[].unit
-- lineage: active_kcal <- active_energy_burned:records[].value, active_energy_burned:records[].unit
-- lineage: total_kcal <- active_energy_burned:records[].value, basal_energy_burned:records[].value
-- lineage: floors <- flights_climbed:records[].value
-- lineage: resting_hr_bpm <- resting_heart_rate:records[].value
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
WITH days AS (
    SELECT resource, day, payload->'sources' AS sources_json, payload->'records' AS records_json
    FROM raw WHERE resource IN ('step_count', 'distance_walking_running', 'active_energy_burned',
                                'basal_energy_burned', 'flights_climbed', 'resting_heart_rate')
), ranked AS (
    SELECT resource, day, unnest(from_json(sources_json, '[{"name": "VARCHAR", "rank": "INTEGER"}]'), recursive := true)
    FROM days
), records AS (
    SELECT resource, day, unnest(from_json(records_json, '[{"sourceName": "VARCHAR", "startDate": "VARCHAR", "endDate": "VARCHAR", "value": "VARCHAR", "unit": "VARCHAR"}]'), recursive := true)
    FROM days
), timed AS (
    SELECT records.resource, CAST(records.day AS DATE) AS day, ranked.rank,
           CASE WHEN length(startDate) > 19 THEN strptime(startDate, '%Y-%m-%d %H:%M:%S %z')
                ELSE timezone(home_tz(), strptime(startDate, '%Y-%m-%d %H:%M:%S')) END AS t0,
           CASE WHEN length(endDate) > 19 THEN strptime(endDate, '%Y-%m-%d %H:%M:%S %z')
                ELSE timezone(home_tz(), strptime(endDate, '%Y-%m-%d %H:%M:%S')) END AS t1,
           TRY_CAST(value AS DOUBLE) * CASE unit
               WHEN 'km' THEN 1000 WHEN 'mi' THEN 1609.344 WHEN 'ft' THEN 0.3048 WHEN 'yd' THEN 0.9144 WHEN 'cm' THEN 0.01
               WHEN 'kJ' THEN 1 / 4.184 WHEN 'J' THEN 1 / 4184 WHEN 'cal' THEN 0.001
               ELSE 1 END AS amount  -- count, m, kcal, Cal (a kilocalorie), count/min
    FROM records JOIN ranked ON ranked.resource = records.resource AND ranked.day = records.day
                            AND ranked.name = records.sourceName
    WHERE ranked.rank IS NOT NULL
), spread AS (
    SELECT resource, day, rank, t0, t1, amount,
           unnest(generate_series(date_trunc('minute', t0),
                                  CASE WHEN t1 > t0 THEN t1 - INTERVAL 1 MICROSECOND ELSE t0 END,
                                  INTERVAL 1 MINUTE)) AS minute
    FROM timed WHERE resource <> 'resting_heart_rate' AND amount IS NOT NULL AND t1 >= t0
), shares AS (
    SELECT resource, day, rank, minute,
           amount * CASE WHEN t1 = t0 THEN 1
                         ELSE (epoch(least(t1, minute + INTERVAL 1 MINUTE)) - epoch(greatest(t0, minute)))
                              / (epoch(t1) - epoch(t0)) END AS share
    FROM spread
), counted AS (
    SELECT resource, day, minute, rank, sum(share) AS amount
    FROM shares
    GROUP BY resource, day, minute, rank
    QUALIFY rank = min(rank) OVER (PARTITION BY resource, minute)
), daily AS (
    SELECT day,
           sum(amount) FILTER (WHERE resource = 'step_count')               AS steps,
           sum(amount) FILTER (WHERE resource = 'distance_walking_running') AS distance_m,
           sum(amount) FILTER (WHERE resource = 'active_energy_burned')     AS active_kcal,
           sum(amount) FILTER (WHERE resource = 'basal_energy_burned')      AS basal_kcal,
           sum(amount) FILTER (WHERE resource = 'flights_climbed')          AS floors
    FROM counted GROUP BY day
), resting AS (
    SELECT day, arg_min(amount, (rank, -epoch(t0))) AS resting_hr_bpm
    FROM timed WHERE resource = 'resting_heart_rate' AND amount IS NOT NULL GROUP BY day
)
SELECT
    'apple_health'                                  AS provider,
    day,
    CAST(round(daily.steps) AS BIGINT)              AS steps,
    daily.distance_m,
    daily.active_kcal,
    daily.active_kcal + daily.basal_kcal            AS total_kcal,
    daily.floors,
    CAST(NULL AS DOUBLE)                            AS elevation_gain_m,
    CAST(NULL AS BIGINT)                            AS sedentary_s,
    CAST(NULL AS BIGINT)                            AS light_s,
    CAST(NULL AS BIGINT)                            AS moderate_s,
    CAST(NULL AS BIGINT)                            AS vigorous_s,
    resting.resting_hr_bpm,
    CAST(NULL AS DOUBLE)                            AS equivalent_walking_distance_m
FROM daily FULL JOIN resting USING (day)
