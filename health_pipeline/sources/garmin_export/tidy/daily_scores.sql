-- A Garmin export's sleep scores -> daily_scores (provider garmin): the night's overall score (0-100) on
-- its wake-up day, `sleepScores.overallScore` in the export (`sleepScores.overall.value` in the Connect
-- API's shape; both read). Garmin's other daily scores are not in these files.
-- raw record: 'sleep/' || CAST(day AS VARCHAR)
-- lineage: day <- sleep:calendarDate
-- lineage: sleep_score <- sleep:sleepScores.overallScore
-- per record: every row comes from one raw record, so a long window is modelled in slices
SELECT
    'garmin'                                                                   AS provider,
    CAST(day AS DATE)                                                          AS day,
    CAST(NULL AS INTEGER)                                                      AS readiness_score,
    CAST(coalesce(TRY_CAST(payload->'sleepScores'->>'overallScore' AS DOUBLE),
                  TRY_CAST(payload->'sleepScores'->'overall'->>'value' AS DOUBLE)) AS INTEGER) AS sleep_score,
    CAST(NULL AS INTEGER)                                                      AS activity_score,
    CAST(NULL AS INTEGER)                                                      AS recovery_score,
    CAST(NULL AS DOUBLE)                                                       AS strain,
    CAST(NULL AS INTEGER)                                                      AS nightly_recharge_status,
    CAST(NULL AS DOUBLE)                                                       AS ans_charge
FROM raw
WHERE resource = 'sleep' AND coalesce(TRY_CAST(payload->'sleepScores'->>'overallScore' AS DOUBLE),
                                      TRY_CAST(payload->'sleepScores'->'overall'->>'value' AS DOUBLE)) IS NOT NULL
