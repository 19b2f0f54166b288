-- A Garmin export's nights (`*_sleepData.json`) -> sleep_sessions (provider garmin), one per
-- `calendarDate` (the wake-up day; Garmin's id of the night). Start and end are UTC: zone-less ISO strings
-- (`2026-02-13T21:40:09.0`) in the export, epoch ms in the Connect API's shape; both are read. Stage
-- times are seconds; time in bed is end - start. The only heart rate of the night is
-- `spo2SleepSummary.averageHR`. Nights Garmin marks `OFF_WRIST` are none. The export has no naps: every
-- night of it (one a `calendarDate`) is the main sleep.
-- raw record: 'sleep/' || sleep_id
-- lineage: sleep_id <- sleep:calendarDate
-- lineage: day <- sleep:calendarDate
-- lineage: is_main <- sleep:calendarDate
-- lineage: start_ts <- sleep:sleepStartTimestampGMT
-- lineage: end_ts <- sleep:sleepEndTimestampGMT
-- lineage: time_in_bed_s <- sleep:sleepStartTimestampGMT, sleep:sleepEndTimestampGMT
-- lineage: asleep_s <- sleep:deepSleepSeconds, sleep:lightSleepSeconds, sleep:remSleepSeconds
-- lineage: deep_s <- sleep:deepSleepSeconds
-- lineage: light_s <- sleep:lightSleepSeconds
-- lineage: rem_s <- sleep:remSleepSeconds
-- lineage: awake_s <- sleep:awakeSleepSeconds
-- lineage: avg_hr_bpm <- sleep:spo2SleepSummary.averageHR
-- per record: every row comes from one raw record, so a long window is modelled in slices
WITH nights AS (
    SELECT record_id, day, payload,
           CASE WHEN json_type(payload->'sleepStartTimestampGMT') IN ('BIGINT', 'UBIGINT', 'DOUBLE')
                THEN to_timestamp(CAST(payload->>'sleepStartTimestampGMT' AS DOUBLE) / 1000)
                ELSE timezone('UTC', TRY_CAST(payload->>'sleepStartTimestampGMT' AS TIMESTAMP)) END AS started,
           CASE WHEN json_type(payload->'sleepEndTimestampGMT') IN ('BIGINT', 'UBIGINT', 'DOUBLE')
                THEN to_timestamp(CAST(payload->>'sleepEndTimestampGMT' AS DOUBLE) / 1000)
                ELSE timezone('UTC', TRY_CAST(payload->>'sleepEndTimestampGMT' AS TIMESTAMP)) END AS ended
    FROM raw
    WHERE resource = 'sleep' AND coalesce(payload->>'sleepWindowConfirmationType', '') <> 'OFF_WRIST'
)
SELECT
    'garmin'                                                                   AS provider,
    record_id                                                                  AS sleep_id,
    CAST(day AS DATE)                                                          AS day,
    started                                                                    AS start_ts,
    ended                                                                      AS end_ts,
    true                                                                       AS is_main,
    CAST(epoch(ended) - epoch(started) AS BIGINT)                              AS time_in_bed_s,
    TRY_CAST(payload->>'deepSleepSeconds' AS BIGINT) + TRY_CAST(payload->>'lightSleepSeconds' AS BIGINT)
        + TRY_CAST(payload->>'remSleepSeconds' AS BIGINT)                      AS asleep_s,
    TRY_CAST(payload->>'deepSleepSeconds' AS BIGINT)                           AS deep_s,
    TRY_CAST(payload->>'lightSleepSeconds' AS BIGINT)                          AS light_s,
    TRY_CAST(payload->>'remSleepSeconds' AS BIGINT)                            AS rem_s,
    TRY_CAST(payload->>'awakeSleepSeconds' AS BIGINT)                          AS awake_s,
    TRY_CAST(payload->'spo2SleepSummary'->>'averageHR' AS DOUBLE)              AS avg_hr_bpm,
    CAST(NULL AS DOUBLE)                                                       AS lowest_hr_bpm,
    CAST(NULL AS DOUBLE)                                                       AS avg_hrv_ms
FROM nights
WHERE started IS NOT NULL AND ended IS NOT NULL
