-- A Garmin export's time in heart-rate zones during activities (`hrTimeInZone_1` .. `_5`, ms, in the
-- activity summaries) -> heart_rate_zones (provider garmin), summed per day of the activities. Garmin's
-- five zones as the other five-zone providers map them: zone 1 light, 2 moderate, 3 vigorous, 4 and 5
-- peak; `hrTimeInZone_0` (below zone 1) is none. Only time in activities: the export has no all-day zones.
-- raw record: 'activities/' || CAST(day AS VARCHAR)
-- lineage: day <- activities:startTimeLocal
-- lineage: zone <- activities:hrTimeInZone_1, activities:hrTimeInZone_2, activities:hrTimeInZone_3, activities:hrTimeInZone_4, activities:hrTimeInZone_5
-- lineage: duration_s <- activities:hrTimeInZone_1, activities:hrTimeInZone_2, activities:hrTimeInZone_3, activities:hrTimeInZone_4, activities:hrTimeInZone_5
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
WITH zones AS (
    SELECT CAST(day AS DATE) AS day, unnest([
        {'zone': 'light',    'ms': TRY_CAST(payload->>'hrTimeInZone_1' AS DOUBLE)},
        {'zone': 'moderate', 'ms': TRY_CAST(payload->>'hrTimeInZone_2' AS DOUBLE)},
        {'zone': 'vigorous', 'ms': TRY_CAST(payload->>'hrTimeInZone_3' AS DOUBLE)},
        {'zone': 'peak',     'ms': TRY_CAST(payload->>'hrTimeInZone_4' AS DOUBLE)},
        {'zone': 'peak',     'ms': TRY_CAST(payload->>'hrTimeInZone_5' AS DOUBLE)}]) AS z
    FROM raw
    WHERE resource = 'activities' AND NOT coalesce(TRY_CAST(payload->>'parent' AS BOOLEAN), false)
      AND upper(coalesce(payload->>'sportType', '')) <> 'MULTISPORT'
)
SELECT 'garmin' AS provider, day, z.zone AS zone, CAST(round(sum(z.ms) / 1000) AS BIGINT) AS duration_s,
       CAST(NULL AS DOUBLE) AS kcal
FROM zones
WHERE z.ms IS NOT NULL
GROUP BY day, z.zone
