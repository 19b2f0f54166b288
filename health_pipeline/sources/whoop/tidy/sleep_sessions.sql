-- WHOOP sleeps -> sleep_sessions. Naps (`nap: true`) are not the main sleep. Stage durations are
-- milliseconds; "asleep" is light + slow-wave (deep) + REM; time in bed includes the awake time. A
-- sleep not (yet) scored (`score_state` PENDING_SCORE or UNSCORABLE, `score` null or absent) keeps its
-- times with every figure NULL. WHOOP gives no heart rate or HRV per sleep (its recovery has them).
-- The raw record's day is the local day the sleep ended (its own `timezone_offset`).
-- per record
-- raw record: 'sleeps/' || sleep_id
-- lineage: sleep_id <- sleeps:id
-- lineage: day <- sleeps:end, sleeps:timezone_offset
-- lineage: start_ts <- sleeps:start
-- lineage: end_ts <- sleeps:end
-- lineage: is_main <- sleeps:nap
-- lineage: time_in_bed_s <- sleeps:score.stage_summary.total_in_bed_time_milli
-- lineage: asleep_s <- sleeps:score.stage_summary.total_light_sleep_time_milli, sleeps:score.stage_summary.total_slow_wave_sleep_time_milli, sleeps:score.stage_summary.total_rem_sleep_time_milli
-- lineage: deep_s <- sleeps:score.stage_summary.total_slow_wave_sleep_time_milli
-- lineage: light_s <- sleeps:score.stage_summary.total_light_sleep_time_milli
-- lineage: rem_s <- sleeps:score.stage_summary.total_rem_sleep_time_milli
-- lineage: awake_s <- sleeps:score.stage_summary.total_awake_time_milli
WITH s AS (
    SELECT record_id, day, payload, payload->'score'->'stage_summary' AS stages,
           payload->>'score_state' = 'SCORED' AS scored
    FROM raw
)
SELECT
    'whoop'                                                                  AS provider,
    record_id                                                                AS sleep_id,
    CAST(day AS DATE)                                                        AS day,
    CAST(payload->>'start' AS TIMESTAMPTZ)                                   AS start_ts,
    CAST(payload->>'end' AS TIMESTAMPTZ)                                     AS end_ts,
    NOT CAST(payload->>'nap' AS BOOLEAN)                                     AS is_main,
    CASE WHEN scored THEN CAST(stages->>'total_in_bed_time_milli' AS BIGINT) // 1000 END AS time_in_bed_s,
    CASE WHEN scored THEN (CAST(stages->>'total_light_sleep_time_milli' AS BIGINT)
                           + CAST(stages->>'total_slow_wave_sleep_time_milli' AS BIGINT)
                           + CAST(stages->>'total_rem_sleep_time_milli' AS BIGINT)) // 1000 END AS asleep_s,
    CASE WHEN scored THEN CAST(stages->>'total_slow_wave_sleep_time_milli' AS BIGINT) // 1000 END AS deep_s,
    CASE WHEN scored THEN CAST(stages->>'total_light_sleep_time_milli' AS BIGINT) // 1000 END AS light_s,
    CASE WHEN scored THEN CAST(stages->>'total_rem_sleep_time_milli' AS BIGINT) // 1000 END AS rem_s,
    CASE WHEN scored THEN CAST(stages->>'total_awake_time_milli' AS BIGINT) // 1000 END AS awake_s,
    CAST(NULL AS DOUBLE)                                                     AS avg_hr_bpm,
    CAST(NULL AS DOUBLE)                                                     AS lowest_hr_bpm,
    CAST(NULL AS DOUBLE)                                                     AS avg_hrv_ms
FROM s
