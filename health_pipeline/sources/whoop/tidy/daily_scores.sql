-- WHOOP recoveries, cycles and main sleeps -> daily_scores, per the day they count towards: recovery
-- (0-100 %), day strain (0-21, logarithmic) and sleep performance (0-100 %, as sleep_score). Unscored
-- records (PENDING_SCORE, UNSCORABLE) give NULL.
-- lineage: day <- recoveries:sleep_id, cycles:start, cycles:timezone_offset, sleeps:end
-- lineage: recovery_score <- recoveries:score.recovery_score
-- lineage: strain <- cycles:score.strain
-- lineage: sleep_score <- sleeps:score.sleep_performance_percentage
WITH scored AS (
    SELECT resource, CAST(day AS DATE) AS day, payload->'score' AS score
    FROM raw
    WHERE payload->>'score_state' = 'SCORED' AND (resource <> 'sleeps' OR NOT CAST(payload->>'nap' AS BOOLEAN))
)
SELECT
    'whoop'                                                                                   AS provider,
    day,
    CAST(NULL AS INTEGER)                                                                     AS readiness_score,
    CAST(round(max(CAST(score->>'sleep_performance_percentage' AS DOUBLE)) FILTER (WHERE resource = 'sleeps')) AS INTEGER) AS sleep_score,
    CAST(NULL AS INTEGER)                                                                     AS activity_score,
    CAST(round(max(CAST(score->>'recovery_score' AS DOUBLE)) FILTER (WHERE resource = 'recoveries')) AS INTEGER) AS recovery_score,
    max(CAST(score->>'strain' AS DOUBLE)) FILTER (WHERE resource = 'cycles')                  AS strain,
    CAST(NULL AS INTEGER)                                                                     AS nightly_recharge_status,
    CAST(NULL AS DOUBLE)                                                                      AS ans_charge
FROM scored
GROUP BY day
