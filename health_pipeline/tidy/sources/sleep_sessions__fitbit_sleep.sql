-- Fitbit (Google Health) sleep sessions -> sleep_sessions. Minutes (int64 strings) become
-- seconds; stage minutes come from `summary.stagesSummary` (DEEP, LIGHT, REM, AWAKE). A session
-- still being processed has no summary yet: its durations are NULL until Google rewrites it.
-- The raw record's `day` is the local day the session ends on. Naps are not main sleep.
SELECT
    'fitbit'                                                          AS provider,
    payload->>'name'                                                  AS sleep_id,
    CAST(day AS DATE)                                                 AS day,
    CAST(payload->'sleep'->'interval'->>'startTime' AS TIMESTAMPTZ)   AS start_ts,
    CAST(payload->'sleep'->'interval'->>'endTime' AS TIMESTAMPTZ)     AS end_ts,
    NOT coalesce(CAST(payload->'sleep'->'metadata'->>'nap' AS BOOLEAN), false) AS is_main,
    CAST(payload->'sleep'->'summary'->>'minutesInSleepPeriod' AS BIGINT) * 60 AS time_in_bed_s,
    CAST(payload->'sleep'->'summary'->>'minutesAsleep' AS BIGINT) * 60        AS asleep_s,
    (SELECT CAST(s->>'minutes' AS BIGINT) * 60 FROM unnest(CAST(payload->'sleep'->'summary'->'stagesSummary' AS JSON[])) AS t(s)
      WHERE s->>'type' = 'DEEP')                                      AS deep_s,
    (SELECT CAST(s->>'minutes' AS BIGINT) * 60 FROM unnest(CAST(payload->'sleep'->'summary'->'stagesSummary' AS JSON[])) AS t(s)
      WHERE s->>'type' = 'LIGHT')                                     AS light_s,
    (SELECT CAST(s->>'minutes' AS BIGINT) * 60 FROM unnest(CAST(payload->'sleep'->'summary'->'stagesSummary' AS JSON[])) AS t(s)
      WHERE s->>'type' = 'REM')                                       AS rem_s,
    CAST(payload->'sleep'->'summary'->>'minutesAwake' AS BIGINT) * 60 AS awake_s,
    CAST(NULL AS DOUBLE)                                              AS avg_hr_bpm,
    CAST(NULL AS DOUBLE)                                              AS lowest_hr_bpm,
    CAST(NULL AS DOUBLE)                                              AS avg_hrv_ms
FROM raw
