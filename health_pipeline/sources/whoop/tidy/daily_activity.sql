-- WHOOP cycles and recoveries -> daily_activity: the cycle's energy (kJ -> kcal, basal included) for
-- the day it counts towards, and the resting heart rate of its recovery. A cycle runs from one sleep's
-- onset to the next, so its energy is a day's; the current cycle's keeps growing until it ends, and
-- its day is re-modelled with it. Recoveries carry their sleep's day in the raw store.
-- lineage: day <- cycles:start, cycles:timezone_offset, recoveries:sleep_id
-- lineage: total_kcal <- cycles:score.kilojoule
-- lineage: resting_hr_bpm <- recoveries:score.resting_heart_rate
WITH cycles AS (
    SELECT CAST(day AS DATE) AS day, CAST(payload->'score'->>'kilojoule' AS DOUBLE) / 4.184 AS kcal
    FROM raw WHERE resource = 'cycles' AND payload->>'score_state' = 'SCORED'
), recoveries AS (
    SELECT CAST(day AS DATE) AS day, CAST(payload->'score'->>'resting_heart_rate' AS DOUBLE) AS rhr
    FROM raw WHERE resource = 'recoveries' AND payload->>'score_state' = 'SCORED'
), days AS (SELECT day FROM cycles UNION SELECT day FROM recoveries)
SELECT
    'whoop'                        AS provider,
    days.day,
    CAST(NULL AS BIGINT)           AS steps,
    CAST(NULL AS DOUBLE)           AS distance_m,
    CAST(NULL AS DOUBLE)           AS active_kcal,
    round(max(cycles.kcal), 3)     AS total_kcal,
    CAST(NULL AS DOUBLE)           AS floors,
    CAST(NULL AS DOUBLE)           AS elevation_gain_m,
    CAST(NULL AS BIGINT)           AS sedentary_s,
    CAST(NULL AS BIGINT)           AS light_s,
    CAST(NULL AS BIGINT)           AS moderate_s,
    CAST(NULL AS BIGINT)           AS vigorous_s,
    max(recoveries.rhr)            AS resting_hr_bpm,
    CAST(NULL AS DOUBLE)           AS equivalent_walking_distance_m
FROM days LEFT JOIN cycles USING (day) LEFT JOIN recoveries USING (day)
GROUP BY days.day
