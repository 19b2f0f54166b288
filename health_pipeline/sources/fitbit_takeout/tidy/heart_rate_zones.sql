-- A Fitbit export's minutes per heart-rate zone -> heart_rate_zones (provider fitbit). Fitbit's
-- default zones: fat burn (IN_DEFAULT_ZONE_1) is moderate, cardio (2) vigorous, peak (3) peak, as the
-- Google Health API names them; time below the zones (BELOW_DEFAULT_ZONE_1) is light. No energy per zone.
-- On days without the JSON, Google's `active_zone_minutes` CSV (one row per minute in a zone, a UTC
-- instant dated on the configured zone's calendar) counts the minutes of fat burn, cardio and peak; it
-- has none below the zones (its `total minutes` is Active Zone Minutes credit, 2 for cardio and peak).
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: day <- time_in_heart_rate_zones:row.dateTime, google_active_zone_minutes:rows[].timestamp
-- lineage: zone <- time_in_heart_rate_zones:row.value.valuesInZones, google_active_zone_minutes:rows[].heart rate zone
-- lineage: duration_s <- time_in_heart_rate_zones:row.value.valuesInZones, google_active_zone_minutes:rows[].timestamp
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
WITH zones AS (
    SELECT CAST(day AS DATE) AS day, unnest(map_entries(CAST(payload->'row'->'value'->'valuesInZones' AS MAP(VARCHAR, DOUBLE)))) AS z
    FROM raw WHERE resource = 'time_in_heart_rate_zones'
), from_json AS (
    SELECT day,
           CASE z.key WHEN 'BELOW_DEFAULT_ZONE_1' THEN 'light' WHEN 'IN_DEFAULT_ZONE_1' THEN 'moderate'
                      WHEN 'IN_DEFAULT_ZONE_2' THEN 'vigorous' WHEN 'IN_DEFAULT_ZONE_3' THEN 'peak' END AS zone,
           CAST(round(max(z.value) * 60) AS BIGINT) AS duration_s
    FROM zones
    WHERE z.key IN ('BELOW_DEFAULT_ZONE_1', 'IN_DEFAULT_ZONE_1', 'IN_DEFAULT_ZONE_2', 'IN_DEFAULT_ZONE_3')
    GROUP BY ALL
), google_rows AS (
    SELECT day, unnest(from_json(payload->'rows', '[{"timestamp": "VARCHAR", "heart rate zone": "VARCHAR"}]')) AS r
    FROM raw WHERE resource = 'google_active_zone_minutes'
), from_google AS (
    SELECT CAST(day AS DATE) AS day,
           CASE lower(r."heart rate zone") WHEN 'fat burn' THEN 'moderate' WHEN 'cardio' THEN 'vigorous'
                                          WHEN 'peak' THEN 'peak' END AS zone,
           CAST(count(DISTINCT left(r.timestamp, 16)) * 60 AS BIGINT) AS duration_s  -- a minute once, whatever wrote it
    FROM google_rows
    WHERE lower(r."heart rate zone") IN ('fat burn', 'cardio', 'peak')
    GROUP BY ALL
)
SELECT 'fitbit' AS provider, day, zone, duration_s, CAST(NULL AS DOUBLE) AS kcal FROM from_json
UNION ALL
SELECT 'fitbit', day, zone, duration_s, NULL FROM from_google WHERE day NOT IN (SELECT day FROM from_json)
