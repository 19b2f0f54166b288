-- Withings sleep summaries -> daily_scores: the sleep score of the day's main (longest) sleep,
-- once Withings has computed it.
-- lineage: day <- sleep_summary:date
-- lineage: sleep_score <- sleep_summary:data.sleep_score
SELECT
    'withings'                                          AS provider,
    CAST(payload->>'date' AS DATE)                      AS day,
    CAST(NULL AS INTEGER)                               AS readiness_score,
    CAST(payload->'data'->>'sleep_score' AS INTEGER)    AS sleep_score,
    CAST(NULL AS INTEGER)                               AS activity_score,
    CAST(NULL AS INTEGER)                               AS recovery_score,
    CAST(NULL AS DOUBLE)                                AS strain,
    CAST(NULL AS INTEGER)                               AS nightly_recharge_status,
    CAST(NULL AS DOUBLE)                                AS ans_charge
FROM raw
WHERE (payload->'data'->>'sleep_score') IS NOT NULL
QUALIFY row_number() OVER (
    PARTITION BY payload->>'date'
    ORDER BY CAST(payload->>'enddate' AS BIGINT) - CAST(payload->>'startdate' AS BIGINT) DESC, record_id
) = 1
