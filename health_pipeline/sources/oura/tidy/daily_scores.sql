-- Oura daily readiness, sleep and activity documents -> daily_scores, one row per day.
-- lineage: day <- daily_readiness:day, daily_sleep:day, daily_activity:day
-- lineage: readiness_score <- daily_readiness:score
-- lineage: sleep_score <- daily_sleep:score
-- lineage: activity_score <- daily_activity:score
SELECT
    'oura'                                                                                   AS provider,
    CAST(day AS DATE)                                                                        AS day,
    max(CAST(payload->>'score' AS INTEGER)) FILTER (WHERE resource = 'daily_readiness')     AS readiness_score,
    max(CAST(payload->>'score' AS INTEGER)) FILTER (WHERE resource = 'daily_sleep')         AS sleep_score,
    max(CAST(payload->>'score' AS INTEGER)) FILTER (WHERE resource = 'daily_activity')      AS activity_score,
    CAST(NULL AS INTEGER)                                                                   AS recovery_score,
    CAST(NULL AS DOUBLE)                                                                    AS strain,
    CAST(NULL AS INTEGER)                                                                   AS nightly_recharge_status,
    CAST(NULL AS DOUBLE)                                                                    AS ans_charge
FROM raw
GROUP BY day
