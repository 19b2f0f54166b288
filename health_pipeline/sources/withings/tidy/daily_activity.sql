-- Withings getactivity summaries -> daily_activity. `elevation` counts floors (not metres);
-- `calories` is active energy, `totalcalories` includes basal; soft / moderate / intense are
-- seconds. With several devices on one day, the tracker with the most steps is the day's row; a
-- day only phone apps reported (no device id) takes the app with the most steps.
-- lineage: day <- activity:date
-- lineage: steps <- activity:steps
-- lineage: distance_m <- activity:distance
-- lineage: active_kcal <- activity:calories
-- lineage: total_kcal <- activity:totalcalories
-- lineage: floors <- activity:elevation
-- lineage: light_s <- activity:soft
-- lineage: moderate_s <- activity:moderate
-- lineage: vigorous_s <- activity:intense
SELECT
    'withings'                                   AS provider,
    CAST(payload->>'date' AS DATE)               AS day,
    CAST(payload->>'steps' AS BIGINT)            AS steps,
    CAST(payload->>'distance' AS DOUBLE)         AS distance_m,
    CAST(payload->>'calories' AS DOUBLE)         AS active_kcal,
    CAST(payload->>'totalcalories' AS DOUBLE)    AS total_kcal,
    CAST(payload->>'elevation' AS DOUBLE)        AS floors,
    CAST(NULL AS DOUBLE)                         AS elevation_gain_m,
    CAST(NULL AS BIGINT)                         AS sedentary_s,
    CAST(payload->>'soft' AS BIGINT)             AS light_s,
    CAST(payload->>'moderate' AS BIGINT)         AS moderate_s,
    CAST(payload->>'intense' AS BIGINT)          AS vigorous_s,
    CAST(NULL AS DOUBLE)                         AS resting_hr_bpm,
    CAST(NULL AS DOUBLE)                         AS equivalent_walking_distance_m
FROM raw
QUALIFY row_number() OVER (
    PARTITION BY payload->>'date'
    ORDER BY coalesce(CAST(payload->>'is_tracker' AS BOOLEAN), false) DESC,
             CAST(payload->>'steps' AS BIGINT) DESC NULLS LAST, record_id
) = 1
