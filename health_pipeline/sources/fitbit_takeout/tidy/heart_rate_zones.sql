-- A Fitbit export's minutes per heart-rate zone -> heart_rate_zones (provider fitbit). Fitbit's
-- default zones: fat burn (IN_DEFAULT_ZONE_1) is moderate, cardio (2) vigorous, peak (3) peak, as the
-- Google Health API names them; time below the zones (BELOW_DEFAULT_ZONE_1) is light. No energy per zone.
-- raw record: 'time_in_heart_rate_zones/' || CAST(day AS VARCHAR)
-- lineage: day <- time_in_heart_rate_zones:row.dateTime
-- lineage: zone <- time_in_heart_rate_zones:row.value.valuesInZones
-- lineage: duration_s <- time_in_heart_rate_zones:row.value.valuesInZones
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
WITH zones AS (
    SELECT CAST(day AS DATE) AS day, unnest(map_entries(CAST(payload->'row'->'value'->'valuesInZones' AS MAP(VARCHAR, DOUBLE)))) AS z
    FROM raw WHERE resource = 'time_in_heart_rate_zones'
)
SELECT 'fitbit' AS provider, day,
       CASE z.key WHEN 'BELOW_DEFAULT_ZONE_1' THEN 'light' WHEN 'IN_DEFAULT_ZONE_1' THEN 'moderate'
                  WHEN 'IN_DEFAULT_ZONE_2' THEN 'vigorous' WHEN 'IN_DEFAULT_ZONE_3' THEN 'peak' END AS zone,
       CAST(round(max(z.value) * 60) AS BIGINT) AS duration_s,
       CAST(NULL AS DOUBLE) AS kcal
FROM zones
WHERE z.key IN ('BELOW_DEFAULT_ZONE_1', 'IN_DEFAULT_ZONE_1', 'IN_DEFAULT_ZONE_2', 'IN_DEFAULT_ZONE_3')
GROUP BY ALL
