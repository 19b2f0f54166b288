-- WHOOP workouts' time per heart-rate zone -> heart_rate_zones, summed per local day. WHOOP's zones
-- are percentages of the heart-rate reserve: zone 0 (below 50 %) and 1 (50-60 %) are light, 2 (60-70 %)
-- moderate, 3 (70-80 %) vigorous, 4 and 5 (above 80 %) peak. Milliseconds; only scored workouts.
-- lineage: day <- workouts:start, workouts:timezone_offset
-- lineage: zone <- workouts:score.zone_durations
-- lineage: duration_s <- workouts:score.zone_durations.zone_zero_milli, workouts:score.zone_durations.zone_one_milli, workouts:score.zone_durations.zone_two_milli, workouts:score.zone_durations.zone_three_milli, workouts:score.zone_durations.zone_four_milli, workouts:score.zone_durations.zone_five_milli
WITH zones AS (
    SELECT CAST(day AS DATE) AS day, unnest([
        {'zone': 'light',    'ms': CAST(payload->'score'->'zone_durations'->>'zone_zero_milli' AS BIGINT)
                                   + CAST(payload->'score'->'zone_durations'->>'zone_one_milli' AS BIGINT)},
        {'zone': 'moderate', 'ms': CAST(payload->'score'->'zone_durations'->>'zone_two_milli' AS BIGINT)},
        {'zone': 'vigorous', 'ms': CAST(payload->'score'->'zone_durations'->>'zone_three_milli' AS BIGINT)},
        {'zone': 'peak',     'ms': CAST(payload->'score'->'zone_durations'->>'zone_four_milli' AS BIGINT)
                                   + CAST(payload->'score'->'zone_durations'->>'zone_five_milli' AS BIGINT)}
    ]) AS z
    FROM raw
    WHERE payload->>'score_state' = 'SCORED'
)
SELECT
    'whoop'               AS provider,
    day,
    z.zone                AS zone,
    sum(z.ms) // 1000     AS duration_s,
    CAST(NULL AS DOUBLE)  AS kcal
FROM zones
WHERE z.ms IS NOT NULL
GROUP BY day, z.zone
