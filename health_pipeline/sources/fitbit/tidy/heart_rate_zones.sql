-- Fitbit (Google Health) daily roll-ups of time and energy per heart-rate zone -> heart_rate_zones.
-- Google's zones are LIGHT, MODERATE, VIGOROUS and PEAK (Karvonen, from the heart-rate reserve);
-- durations arrive as "123s" strings. A zone missing from a day's roll-up is no row; a zone member
-- Google left out (its default) is 0.
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: day <- time-in-heart-rate-zone:civilStartTime.date, calories-in-heart-rate-zone:civilStartTime.date
-- lineage: zone <- time-in-heart-rate-zone:timeInHeartRateZone.timeInHeartRateZones[].heartRateZone, calories-in-heart-rate-zone:caloriesInHeartRateZone.caloriesInHeartRateZones[].heartRateZone
-- lineage: duration_s <- time-in-heart-rate-zone:timeInHeartRateZone.timeInHeartRateZones[].duration
-- lineage: kcal <- calories-in-heart-rate-zone:caloriesInHeartRateZone.caloriesInHeartRateZones[].kcal
WITH durations AS (
    SELECT CAST(day AS DATE) AS day, lower(z->>'heartRateZone') AS zone,
           coalesce(CAST(rtrim(z->>'duration', 's') AS DOUBLE), 0) AS seconds
    FROM (SELECT day, unnest(CAST(payload->'timeInHeartRateZone'->'timeInHeartRateZones' AS JSON[])) AS z
          FROM raw WHERE resource = 'time-in-heart-rate-zone')
), energy AS (
    SELECT CAST(day AS DATE) AS day, lower(z->>'heartRateZone') AS zone, coalesce(CAST(z->>'kcal' AS DOUBLE), 0) AS kcal
    FROM (SELECT day, unnest(CAST(payload->'caloriesInHeartRateZone'->'caloriesInHeartRateZones' AS JSON[])) AS z
          FROM raw WHERE resource = 'calories-in-heart-rate-zone')
)
SELECT
    'fitbit'                          AS provider,
    day,
    zone,
    CAST(round(seconds) AS BIGINT)    AS duration_s,
    kcal
FROM durations FULL OUTER JOIN energy USING (day, zone)
WHERE zone IS NOT NULL
