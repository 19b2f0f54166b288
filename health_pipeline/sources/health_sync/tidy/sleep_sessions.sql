-- Eight Sleep nights kept by health-sync (`eightsleep_trends`: one record per Pod user and trend day,
-- record id `{userId}:{day}`) -> sleep_sessions, provider eight_sleep. Only the account holder's: the
-- `eightsleep_users_me` record's `user.userId` (the Pod's other side is another person), else the one
-- user the trends have. One row per session of the day (`sessions[]`, sent with health-sync's
-- `include-all-sessions`), the main one being the day's `mainSessionId`; a day without sessions (the
-- older API) is one main row from the day's own fields. The day is the raw record's: the local day its
-- main sleep ended (the trend's `day` label is drawn in the zone health-sync asked for, UTC unless set).
-- The main sleep starts at `presenceStart` (a session can begin earlier, out of bed); durations are
-- seconds: time in bed is the session's total less its time out of bed (`presenceDuration` includes
-- that time: the fallback only), asleep is light + deep + REM (`sleepDuration`), awake is the awake
-- time in bed. Heart rate: the night's average (`sleepQualityScore.heartRate.current`, else the mean of
-- the session's 15-minute readings) and the lowest 15-minute reading; HRV (ms) the night's
-- `sleepQualityScore.hrv.current`, main sleep only. The API's "None" is NULL. A night stored twice (two
-- labels, after health-sync's zone changed) is kept once: the record with the most sleep.
-- lineage: sleep_id <- eightsleep_trends:sessions.id, eightsleep_trends:mainSessionId
-- lineage: day <- eightsleep_trends:sessions.sleepEnd, eightsleep_trends:sleepEnd, eightsleep_trends:presenceEnd, eightsleep_trends:day
-- lineage: start_ts <- eightsleep_trends:presenceStart, eightsleep_trends:sessions.ts
-- lineage: end_ts <- eightsleep_trends:sessions.presenceEnd, eightsleep_trends:presenceEnd
-- lineage: is_main <- eightsleep_trends:mainSessionId, eightsleep_trends:sessions.id
-- lineage: time_in_bed_s <- eightsleep_trends:sessions.stageSummary.totalDuration, eightsleep_trends:sessions.stageSummary.outDuration, eightsleep_trends:presenceDuration
-- lineage: asleep_s <- eightsleep_trends:sessions.stageSummary.sleepDuration, eightsleep_trends:sleepDuration
-- lineage: deep_s <- eightsleep_trends:sessions.stageSummary.deepDuration, eightsleep_trends:deepDuration
-- lineage: light_s <- eightsleep_trends:sessions.stageSummary.lightDuration, eightsleep_trends:lightDuration
-- lineage: rem_s <- eightsleep_trends:sessions.stageSummary.remDuration, eightsleep_trends:remDuration
-- lineage: awake_s <- eightsleep_trends:sessions.stageSummary.awakeDuration
-- lineage: avg_hr_bpm <- eightsleep_trends:sleepQualityScore.heartRate.current, eightsleep_trends:sessions.timeseries.heartRate
-- lineage: lowest_hr_bpm <- eightsleep_trends:sessions.timeseries.heartRate
-- lineage: avg_hrv_ms <- eightsleep_trends:sleepQualityScore.hrv.current
WITH me AS (
    SELECT max(coalesce(payload->'user'->>'userId', payload->'user'->>'id')) AS user_id
    FROM raw WHERE resource = 'eightsleep_users_me'
), trends AS (
    SELECT split_part(record_id, ':', 1) AS user_id, record_id, CAST(day AS DATE) AS day, payload
    FROM raw WHERE resource = 'eightsleep_trends' AND day IS NOT NULL
), holder AS (
    SELECT coalesce((SELECT user_id FROM me),
                    (SELECT max(user_id) FROM trends HAVING count(DISTINCT user_id) = 1)) AS user_id
), nights AS (
    SELECT record_id, day, payload FROM trends
    WHERE user_id = (SELECT user_id FROM holder)
    QUALIFY row_number() OVER (PARTITION BY day ORDER BY TRY_CAST(payload->>'sleepDuration' AS BIGINT) DESC NULLS LAST,
                                                          record_id DESC) = 1
), sessions AS (
    SELECT record_id, day, payload,
           unnest(CASE WHEN json_array_length(payload->'sessions') > 0 THEN CAST(payload->'sessions' AS JSON[])
                       ELSE [CAST(NULL AS JSON)] END) AS s
    FROM nights
), s AS (
    SELECT record_id, day, payload, s,
           s IS NULL OR s->>'id' = payload->>'mainSessionId' AS main,
           s->'stageSummary' AS stages,
           list_filter(list_transform(CAST(s->'timeseries'->'heartRate' AS JSON[]), lambda p: TRY_CAST(p->>1 AS DOUBLE)),
                       lambda v: v IS NOT NULL) AS hr
    FROM sessions
), sleeps AS (
    SELECT
        'eight_sleep'                                                                      AS provider,
        coalesce(s->>'id', payload->>'mainSessionId', record_id)                            AS sleep_id,
        day,
        coalesce(CASE WHEN main THEN TRY_CAST(payload->>'presenceStart' AS TIMESTAMPTZ) END,
                 TRY_CAST(s->>'ts' AS TIMESTAMPTZ))                                        AS start_ts,
        coalesce(TRY_CAST(s->>'presenceEnd' AS TIMESTAMPTZ),
                 CASE WHEN main THEN TRY_CAST(payload->>'presenceEnd' AS TIMESTAMPTZ) END)  AS end_ts,
        main                                                                               AS is_main,
        coalesce(TRY_CAST(stages->>'totalDuration' AS BIGINT) - coalesce(TRY_CAST(stages->>'outDuration' AS BIGINT), 0),
                 CASE WHEN main THEN TRY_CAST(payload->>'presenceDuration' AS BIGINT) END)  AS time_in_bed_s,
        coalesce(TRY_CAST(stages->>'sleepDuration' AS BIGINT),
                 CASE WHEN main THEN TRY_CAST(payload->>'sleepDuration' AS BIGINT) END)     AS asleep_s,
        coalesce(TRY_CAST(stages->>'deepDuration' AS BIGINT),
                 CASE WHEN main THEN TRY_CAST(payload->>'deepDuration' AS BIGINT) END)      AS deep_s,
        coalesce(TRY_CAST(stages->>'lightDuration' AS BIGINT),
                 CASE WHEN main THEN TRY_CAST(payload->>'lightDuration' AS BIGINT) END)     AS light_s,
        coalesce(TRY_CAST(stages->>'remDuration' AS BIGINT),
                 CASE WHEN main THEN TRY_CAST(payload->>'remDuration' AS BIGINT) END)       AS rem_s,
        TRY_CAST(stages->>'awakeDuration' AS BIGINT)                                       AS awake_s,
        coalesce(CASE WHEN main THEN TRY_CAST(payload->'sleepQualityScore'->'heartRate'->>'current' AS DOUBLE) END,
                 list_avg(hr))                                                             AS avg_hr_bpm,
        list_min(hr)                                                                       AS lowest_hr_bpm,
        CASE WHEN main THEN TRY_CAST(payload->'sleepQualityScore'->'hrv'->>'current' AS DOUBLE) END AS avg_hrv_ms
    FROM s
)
SELECT * FROM sleeps
WHERE start_ts IS NOT NULL AND end_ts IS NOT NULL
