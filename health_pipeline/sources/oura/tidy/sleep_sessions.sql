-- Oura sleep periods -> sleep_sessions. `deleted` (discarded by the user) and `rest` (resting, not
-- sleep) periods are left out; `long_sleep` is the night's main sleep, `sleep` and `late_nap` are
-- naps. `type` may be null (the spec allows it): a sleep of unknown kind, kept with is_main NULL
-- (`type NOT IN (...)` alone would drop it). Oura's `day` is already the wake-up day. Durations are
-- seconds.
-- raw record: 'sleep/' || sleep_id
-- lineage: sleep_id <- sleep:id
-- lineage: day <- sleep:day
-- lineage: start_ts <- sleep:bedtime_start
-- lineage: end_ts <- sleep:bedtime_end
-- lineage: is_main <- sleep:type
-- lineage: time_in_bed_s <- sleep:time_in_bed
-- lineage: asleep_s <- sleep:total_sleep_duration
-- lineage: deep_s <- sleep:deep_sleep_duration
-- lineage: light_s <- sleep:light_sleep_duration
-- lineage: rem_s <- sleep:rem_sleep_duration
-- lineage: awake_s <- sleep:awake_time
-- lineage: avg_hr_bpm <- sleep:average_heart_rate
-- lineage: lowest_hr_bpm <- sleep:lowest_heart_rate
-- lineage: avg_hrv_ms <- sleep:average_hrv
SELECT
    'oura'                                               AS provider,
    payload->>'id'                                       AS sleep_id,
    CAST(day AS DATE)                                    AS day,
    CAST(payload->>'bedtime_start' AS TIMESTAMPTZ)       AS start_ts,
    CAST(payload->>'bedtime_end' AS TIMESTAMPTZ)         AS end_ts,
    payload->>'type' = 'long_sleep'                      AS is_main,  -- NULL when type is null
    CAST(payload->>'time_in_bed' AS BIGINT)              AS time_in_bed_s,
    CAST(payload->>'total_sleep_duration' AS BIGINT)     AS asleep_s,
    CAST(payload->>'deep_sleep_duration' AS BIGINT)      AS deep_s,
    CAST(payload->>'light_sleep_duration' AS BIGINT)     AS light_s,
    CAST(payload->>'rem_sleep_duration' AS BIGINT)       AS rem_s,
    CAST(payload->>'awake_time' AS BIGINT)               AS awake_s,
    CAST(payload->>'average_heart_rate' AS DOUBLE)       AS avg_hr_bpm,
    CAST(payload->>'lowest_heart_rate' AS DOUBLE)        AS lowest_hr_bpm,
    CAST(payload->>'average_hrv' AS DOUBLE)              AS avg_hrv_ms
FROM raw
WHERE payload->>'type' IS NULL OR payload->>'type' NOT IN ('deleted', 'rest')
