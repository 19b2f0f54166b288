-- Withings sleep summaries -> sleep_sessions. `date` is the wake-up day; start and end are Unix
-- seconds. The longest sleep of a day is its main sleep. Durations are seconds.
-- raw record: 'sleep_summary/' || sleep_id
-- lineage: sleep_id <- sleep_summary:id
-- lineage: day <- sleep_summary:date
-- lineage: start_ts <- sleep_summary:startdate
-- lineage: end_ts <- sleep_summary:enddate
-- lineage: is_main <- sleep_summary:startdate, sleep_summary:enddate
-- lineage: time_in_bed_s <- sleep_summary:data.total_timeinbed
-- lineage: asleep_s <- sleep_summary:data.total_sleep_time
-- lineage: deep_s <- sleep_summary:data.deepsleepduration
-- lineage: light_s <- sleep_summary:data.lightsleepduration
-- lineage: rem_s <- sleep_summary:data.remsleepduration
-- lineage: awake_s <- sleep_summary:data.wakeupduration
-- lineage: avg_hr_bpm <- sleep_summary:data.hr_average
-- lineage: lowest_hr_bpm <- sleep_summary:data.hr_min
SELECT
    'withings'                                                   AS provider,
    record_id                                                    AS sleep_id,
    CAST(payload->>'date' AS DATE)                               AS day,
    to_timestamp(CAST(payload->>'startdate' AS BIGINT))          AS start_ts,
    to_timestamp(CAST(payload->>'enddate' AS BIGINT))            AS end_ts,
    row_number() OVER (
        PARTITION BY payload->>'date'
        ORDER BY CAST(payload->>'enddate' AS BIGINT) - CAST(payload->>'startdate' AS BIGINT) DESC, record_id
    ) = 1                                                        AS is_main,
    coalesce(CAST(payload->'data'->>'total_timeinbed' AS BIGINT),
             CAST(payload->>'enddate' AS BIGINT) - CAST(payload->>'startdate' AS BIGINT)) AS time_in_bed_s,
    coalesce(CAST(payload->'data'->>'total_sleep_time' AS BIGINT),
             CAST(payload->'data'->>'deepsleepduration' AS BIGINT) + CAST(payload->'data'->>'lightsleepduration' AS BIGINT)
             + CAST(payload->'data'->>'remsleepduration' AS BIGINT))              AS asleep_s,
    CAST(payload->'data'->>'deepsleepduration' AS BIGINT)        AS deep_s,
    CAST(payload->'data'->>'lightsleepduration' AS BIGINT)       AS light_s,
    CAST(payload->'data'->>'remsleepduration' AS BIGINT)         AS rem_s,
    CAST(payload->'data'->>'wakeupduration' AS BIGINT)           AS awake_s,
    CAST(payload->'data'->>'hr_average' AS DOUBLE)               AS avg_hr_bpm,
    CAST(payload->'data'->>'hr_min' AS DOUBLE)                   AS lowest_hr_bpm,
    CAST(NULL AS DOUBLE)                                         AS avg_hrv_ms
FROM raw
