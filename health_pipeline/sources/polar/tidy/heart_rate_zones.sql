-- Polar exercises' heart-rate zones -> heart_rate_zones, summed per local day. Polar's five zones are
-- 50-60 %, 60-70 %, 70-80 %, 80-90 % and 90-100 % of the maximum heart rate (`index` 0-4 live; the docs
-- number them from 1 and spell the keys `in-zone`): the first is light, the second moderate, the third
-- vigorous, the fourth and fifth peak. Time in zone is ISO 8601 (`PT10M27S`).
-- lineage: day <- exercises:start_time
-- lineage: zone <- exercises:heart_rate_zones[].index
-- lineage: duration_s <- exercises:heart_rate_zones[].in_zone
WITH z AS (
    SELECT day, unnest(from_json(payload->'heart_rate_zones', '["JSON"]')) AS zone,
           generate_subscripts(from_json(payload->'heart_rate_zones', '["JSON"]'), 1) AS position
    FROM raw WHERE resource = 'exercises' AND (payload->'heart_rate_zones') IS NOT NULL
), seconds AS (
    SELECT CAST(day AS DATE) AS day, position, coalesce(zone->>'in_zone', zone->>'in-zone') AS text
    FROM z
)
SELECT
    'polar'                                                                AS provider,
    day,
    CASE position WHEN 1 THEN 'light' WHEN 2 THEN 'moderate' WHEN 3 THEN 'vigorous' ELSE 'peak' END AS zone,
    CAST(round(sum(
        coalesce(TRY_CAST(regexp_extract(text, '([0-9.]+)H', 1) AS DOUBLE), 0) * 3600
        + coalesce(TRY_CAST(regexp_extract(text, '([0-9.]+)M', 1) AS DOUBLE), 0) * 60
        + coalesce(TRY_CAST(regexp_extract(text, '([0-9.]+)S', 1) AS DOUBLE), 0))) AS BIGINT) AS duration_s,
    CAST(NULL AS DOUBLE)                                                   AS kcal
FROM seconds
GROUP BY day, zone
