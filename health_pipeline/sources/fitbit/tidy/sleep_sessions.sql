-- Fitbit (Google Health) sleep sessions -> sleep_sessions. Minutes (int64 strings) become seconds;
-- stage minutes come from `summary.stagesSummary` (DEEP, LIGHT, REM). A session still being
-- processed has no summary yet (`"summary": {}`): its durations are NULL until Google rewrites it;
-- in a processed summary a member Google left out is its default, 0. The raw record's `day` is the
-- civil date the session ends on. Only `metadata.mainSleep: true` is the main sleep: live answers
-- leave `false` out and have no `nap` (the documented `nap` is read when `mainSleep` is absent).
-- raw record: 'sleep/' || sleep_id
-- lineage: sleep_id <- sleep:name
-- lineage: day <- sleep:sleep.interval.endTime
-- lineage: start_ts <- sleep:sleep.interval.startTime
-- lineage: end_ts <- sleep:sleep.interval.endTime
-- lineage: is_main <- sleep:sleep.metadata.mainSleep, sleep:sleep.metadata.nap
-- lineage: time_in_bed_s <- sleep:sleep.summary.minutesInSleepPeriod
-- lineage: asleep_s <- sleep:sleep.summary.minutesAsleep
-- lineage: deep_s <- sleep:sleep.summary.stagesSummary[DEEP].minutes
-- lineage: light_s <- sleep:sleep.summary.stagesSummary[LIGHT].minutes
-- lineage: rem_s <- sleep:sleep.summary.stagesSummary[REM].minutes
-- lineage: awake_s <- sleep:sleep.summary.minutesAwake
WITH stages AS (
    SELECT record_id,
           sum(coalesce(CAST(s->>'minutes' AS BIGINT), 0)) FILTER (WHERE s->>'type' = 'DEEP') * 60  AS deep_s,
           sum(coalesce(CAST(s->>'minutes' AS BIGINT), 0)) FILTER (WHERE s->>'type' = 'LIGHT') * 60 AS light_s,
           sum(coalesce(CAST(s->>'minutes' AS BIGINT), 0)) FILTER (WHERE s->>'type' = 'REM') * 60   AS rem_s
    FROM (SELECT record_id, unnest(CAST(payload->'sleep'->'summary'->'stagesSummary' AS JSON[])) AS s FROM raw)
    GROUP BY record_id
), sessions AS (
    SELECT *, (payload->'sleep'->'summary'->>'minutesInSleepPeriod') IS NOT NULL AS processed FROM raw
)
SELECT
    'fitbit'                                                                   AS provider,
    raw.record_id                                                              AS sleep_id,
    CAST(raw.day AS DATE)                                                      AS day,
    CAST(payload->'sleep'->'interval'->>'startTime' AS TIMESTAMPTZ)            AS start_ts,
    CAST(payload->'sleep'->'interval'->>'endTime' AS TIMESTAMPTZ)              AS end_ts,
    coalesce(CAST(payload->'sleep'->'metadata'->>'mainSleep' AS BOOLEAN),
             NOT CAST(payload->'sleep'->'metadata'->>'nap' AS BOOLEAN), false) AS is_main,
    CAST(payload->'sleep'->'summary'->>'minutesInSleepPeriod' AS BIGINT) * 60  AS time_in_bed_s,
    CASE WHEN processed THEN coalesce(CAST(payload->'sleep'->'summary'->>'minutesAsleep' AS BIGINT), 0) * 60 END AS asleep_s,
    CASE WHEN processed THEN coalesce(stages.deep_s, 0) END                    AS deep_s,
    CASE WHEN processed THEN coalesce(stages.light_s, 0) END                   AS light_s,
    CASE WHEN processed THEN coalesce(stages.rem_s, 0) END                     AS rem_s,
    CASE WHEN processed THEN coalesce(CAST(payload->'sleep'->'summary'->>'minutesAwake' AS BIGINT), 0) * 60 END AS awake_s,
    CAST(NULL AS DOUBLE)                                                       AS avg_hr_bpm,
    CAST(NULL AS DOUBLE)                                                       AS lowest_hr_bpm,
    CAST(NULL AS DOUBLE)                                                       AS avg_hrv_ms
FROM sessions AS raw LEFT JOIN stages USING (record_id)
