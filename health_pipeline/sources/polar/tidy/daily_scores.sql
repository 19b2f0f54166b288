-- Polar sleep and Nightly Recharge -> daily_scores, per the date of the night (its wake-up date): the
-- sleep score (1-100; 0 when the night was not scored: NULL), Nightly Recharge status (1 very poor ..
-- 6 very good) and ANS charge (-10..+10). A night without a recharge (not analysed) has NULL there.
-- lineage: day <- sleep:date, nightly_recharge:date
-- lineage: sleep_score <- sleep:sleep_score
-- lineage: nightly_recharge_status <- nightly_recharge:nightly_recharge_status
-- lineage: ans_charge <- nightly_recharge:ans_charge
SELECT
    'polar'                                                                                   AS provider,
    CAST(day AS DATE)                                                                         AS day,
    CAST(NULL AS INTEGER)                                                                     AS readiness_score,
    CAST(nullif(max(CAST(payload->>'sleep_score' AS INTEGER)) FILTER (WHERE resource = 'sleep'), 0) AS INTEGER) AS sleep_score,
    CAST(NULL AS INTEGER)                                                                     AS activity_score,
    CAST(NULL AS INTEGER)                                                                     AS recovery_score,
    CAST(NULL AS DOUBLE)                                                                      AS strain,
    max(CAST(payload->>'nightly_recharge_status' AS INTEGER)) FILTER (WHERE resource = 'nightly_recharge') AS nightly_recharge_status,
    max(CAST(payload->>'ans_charge' AS DOUBLE)) FILTER (WHERE resource = 'nightly_recharge')  AS ans_charge
FROM raw
GROUP BY day
