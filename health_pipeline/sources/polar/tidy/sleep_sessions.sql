-- Polar sleep -> sleep_sessions: one night per date (its wake-up date), the main sleep (AccessLink has no
-- naps). `sleep_start_time` is the sleep onset and carries its offset, as does the end. Light is Polar's
-- light sleep (lighter and light non-REM); asleep is light + deep + REM + unrecognised time (a night the
-- watch could not stage keeps its time asleep, its stages NULL); awake is the interruptions. Heart rate
-- from the night's 5-minute samples (0: no reading, left out).
-- per record
-- raw record: 'sleep/' || sleep_id
-- lineage: sleep_id <- sleep:date
-- lineage: day <- sleep:date
-- lineage: is_main <- sleep:date
-- lineage: start_ts <- sleep:sleep_start_time
-- lineage: end_ts <- sleep:sleep_end_time
-- lineage: time_in_bed_s <- sleep:sleep_start_time, sleep:sleep_end_time
-- lineage: asleep_s <- sleep:light_sleep, sleep:deep_sleep, sleep:rem_sleep, sleep:unrecognized_sleep_stage
-- lineage: deep_s <- sleep:deep_sleep
-- lineage: light_s <- sleep:light_sleep
-- lineage: rem_s <- sleep:rem_sleep
-- lineage: awake_s <- sleep:total_interruption_duration
-- lineage: avg_hr_bpm <- sleep:heart_rate_samples
-- lineage: lowest_hr_bpm <- sleep:heart_rate_samples
WITH s AS (
    SELECT record_id, day, payload,
           CAST(payload->>'sleep_start_time' AS TIMESTAMPTZ) AS start_ts,
           CAST(payload->>'sleep_end_time' AS TIMESTAMPTZ) AS end_ts,
           CAST(payload->>'light_sleep' AS BIGINT) AS light, CAST(payload->>'deep_sleep' AS BIGINT) AS deep,
           CAST(payload->>'rem_sleep' AS BIGINT) AS rem,
           coalesce(CAST(payload->>'unrecognized_sleep_stage' AS BIGINT), 0) AS unrecognised,
           list_filter(CAST(json_extract(payload->'heart_rate_samples', '$.*') AS DOUBLE[]), lambda x: x > 0) AS hr
    FROM raw WHERE resource = 'sleep'
)
SELECT
    'polar'                                                   AS provider,
    record_id                                                 AS sleep_id,
    CAST(day AS DATE)                                         AS day,
    start_ts,
    end_ts,
    TRUE                                                      AS is_main,
    CAST(epoch(end_ts) - epoch(start_ts) AS BIGINT)           AS time_in_bed_s,
    light + deep + rem + unrecognised                         AS asleep_s,
    CASE WHEN light + deep + rem > 0 THEN deep END            AS deep_s,
    CASE WHEN light + deep + rem > 0 THEN light END           AS light_s,
    CASE WHEN light + deep + rem > 0 THEN rem END             AS rem_s,
    CAST(payload->>'total_interruption_duration' AS BIGINT)   AS awake_s,
    round(list_avg(hr), 3)                                    AS avg_hr_bpm,
    list_min(hr)                                              AS lowest_hr_bpm,
    CAST(NULL AS DOUBLE)                                      AS avg_hrv_ms
FROM s
