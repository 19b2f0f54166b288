-- Withings getactivity summaries -> heart_rate_zones: `hr_zone_0` .. `hr_zone_3` are seconds in
-- the light, moderate, intense and maximal zones. With several devices on one day, the zones come
-- from the same summary as the day's daily_activity row (the tracker with the most steps). A summary
-- without a heart-rate source (a phone app: `hr_average` 0, every zone 0) has no zone rows.
-- lineage: day <- activity:date
-- lineage: zone <- activity:hr_zone_0, activity:hr_zone_1, activity:hr_zone_2, activity:hr_zone_3
-- lineage: duration_s <- activity:hr_zone_0, activity:hr_zone_1, activity:hr_zone_2, activity:hr_zone_3
WITH chosen AS (
    SELECT CAST(payload->>'date' AS DATE) AS day, payload
    FROM raw
    QUALIFY row_number() OVER (
        PARTITION BY payload->>'date'
        ORDER BY coalesce(CAST(payload->>'is_tracker' AS BOOLEAN), false) DESC,
                 CAST(payload->>'steps' AS BIGINT) DESC NULLS LAST, record_id
    ) = 1
), zones AS (
    SELECT day, unnest([
        {'zone': 'light',    'seconds': CAST(payload->>'hr_zone_0' AS BIGINT)},
        {'zone': 'moderate', 'seconds': CAST(payload->>'hr_zone_1' AS BIGINT)},
        {'zone': 'vigorous', 'seconds': CAST(payload->>'hr_zone_2' AS BIGINT)},
        {'zone': 'peak',     'seconds': CAST(payload->>'hr_zone_3' AS BIGINT)}
    ]) AS z
    FROM chosen
    WHERE coalesce(CAST(payload->>'hr_average' AS DOUBLE), 0) > 0
)
SELECT
    'withings'            AS provider,
    day,
    z.zone                AS zone,
    z.seconds             AS duration_s,
    CAST(NULL AS DOUBLE)  AS kcal
FROM zones
WHERE z.seconds IS NOT NULL
