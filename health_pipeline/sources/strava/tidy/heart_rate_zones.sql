-- Strava activity zones -> heart_rate_zones, summed per local day. The heart-rate distribution has
-- five buckets (Strava's zones 1-5: endurance, moderate, tempo, threshold, anaerobic), time in
-- seconds: zone 1 is light, 2 moderate, 3 vigorous, 4 and 5 peak. Activities without a heart-rate
-- sensor have no heart-rate zone; pace and power zones are not heart-rate zones.
-- lineage: day <- activity_zones:[].type
-- lineage: zone <- activity_zones:[].type
-- lineage: duration_s <- activity_zones:[].distribution_buckets[].time
WITH hr AS (
    SELECT day, zone->'distribution_buckets' AS buckets
    FROM (SELECT day, unnest(from_json(payload, '["JSON"]')) AS zone FROM raw WHERE resource = 'activity_zones')
    WHERE zone->>'type' = 'heartrate'
), zones AS (
    SELECT CAST(day AS DATE) AS day, unnest([
        {'zone': 'light',    's': CAST(buckets->0->>'time' AS DOUBLE)},
        {'zone': 'moderate', 's': CAST(buckets->1->>'time' AS DOUBLE)},
        {'zone': 'vigorous', 's': CAST(buckets->2->>'time' AS DOUBLE)},
        {'zone': 'peak',     's': coalesce(CAST(buckets->3->>'time' AS DOUBLE), 0)
                                  + coalesce(CAST(buckets->4->>'time' AS DOUBLE), 0)}
    ]) AS z
    FROM hr
)
SELECT
    'strava'                                 AS provider,
    day,
    z.zone                                   AS zone,
    CAST(round(sum(z.s)) AS BIGINT)          AS duration_s,
    CAST(NULL AS DOUBLE)                     AS kcal
FROM zones
WHERE z.s IS NOT NULL
GROUP BY day, z.zone
