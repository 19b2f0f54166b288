-- A Fitbit export's sleep logs -> sleep_sessions (provider fitbit). Times are local wall clock; the
-- import gives each session its UTC offset (`utc_offset_s`: from that night's heart rate when the
-- export's intraday clock is UTC, else the configured zone's). `type: stages` sessions have deep, light,
-- REM and wake minutes in `levels.summary`; `classic` ones only asleep/restless/awake (stages NULL).
-- `dateOfSleep` (the wake-up day) is the day. Sessions repeated across 30-day files were landed once.
-- raw record: 'sleep/' || sleep_id
-- lineage: sleep_id <- sleep:item.logId
-- lineage: day <- sleep:item.dateOfSleep
-- lineage: start_ts <- sleep:item.startTime
-- lineage: end_ts <- sleep:item.endTime
-- lineage: is_main <- sleep:item.mainSleep
-- lineage: time_in_bed_s <- sleep:item.timeInBed
-- lineage: asleep_s <- sleep:item.minutesAsleep
-- lineage: deep_s <- sleep:item.levels.summary.deep.minutes
-- lineage: light_s <- sleep:item.levels.summary.light.minutes
-- lineage: rem_s <- sleep:item.levels.summary.rem.minutes
-- lineage: awake_s <- sleep:item.levels.summary.wake.minutes, sleep:item.minutesAwake
-- per record: every row comes from one raw record, so a long window is modelled in slices
SELECT
    'fitbit'                                                                             AS provider,
    record_id                                                                            AS sleep_id,
    CAST(day AS DATE)                                                                    AS day,
    timezone('UTC', CAST(payload->'item'->>'startTime' AS TIMESTAMP) - to_seconds(CAST(payload->>'utc_offset_s' AS BIGINT))) AS start_ts,
    timezone('UTC', CAST(payload->'item'->>'endTime' AS TIMESTAMP) - to_seconds(CAST(payload->>'utc_offset_s' AS BIGINT)))   AS end_ts,
    CAST(payload->'item'->>'mainSleep' AS BOOLEAN)                                       AS is_main,
    CAST(payload->'item'->>'timeInBed' AS BIGINT) * 60                                   AS time_in_bed_s,
    CAST(payload->'item'->>'minutesAsleep' AS BIGINT) * 60                               AS asleep_s,
    CASE WHEN (payload->'item'->>'type') = 'stages' THEN coalesce(CAST(payload->'item'->'levels'->'summary'->'deep'->>'minutes' AS BIGINT), 0) * 60 END  AS deep_s,
    CASE WHEN (payload->'item'->>'type') = 'stages' THEN coalesce(CAST(payload->'item'->'levels'->'summary'->'light'->>'minutes' AS BIGINT), 0) * 60 END AS light_s,
    CASE WHEN (payload->'item'->>'type') = 'stages' THEN coalesce(CAST(payload->'item'->'levels'->'summary'->'rem'->>'minutes' AS BIGINT), 0) * 60 END   AS rem_s,
    CASE WHEN (payload->'item'->>'type') = 'stages'
         THEN coalesce(CAST(payload->'item'->'levels'->'summary'->'wake'->>'minutes' AS BIGINT), 0) * 60
         ELSE CAST(payload->'item'->>'minutesAwake' AS BIGINT) * 60 END                  AS awake_s,
    CAST(NULL AS DOUBLE)                                                                 AS avg_hr_bpm,
    CAST(NULL AS DOUBLE)                                                                 AS lowest_hr_bpm,
    CAST(NULL AS DOUBLE)                                                                 AS avg_hrv_ms
FROM raw
