-- An Apple Health export's sleep -> sleep_sessions (provider apple_health). The import files each
-- source's samples less than two hours apart (one sleep) under the day that sleep ended, on its
-- `HKTimeZone` or its own clock. Per source, samples less than two hours apart are one session; a day keeps the
-- sessions of its best-ranked source with sleep in them (`source_priority`; the Watch's stages before a
-- phone's in-bed times; copies by apps the project syncs itself never), the longest one the main sleep.
-- Stages are iOS 16's (AsleepCore is light sleep); before iOS 16 only `Asleep` was written, so the
-- stages are NULL and the time asleep is that. A session's bedtime spans its samples and the in-bed
-- samples of any kept source that overlap them.
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: sleep_id <- sleep_analysis:records[].sourceName, sleep_analysis:records[].startDate
-- lineage: day <- sleep_analysis:records[].startDate
-- lineage: start_ts <- sleep_analysis:records[].startDate
-- lineage: end_ts <- sleep_analysis:records[].endDate
-- lineage: time_in_bed_s <- sleep_analysis:records[].startDate, sleep_analysis:records[].endDate
-- lineage: asleep_s <- sleep_analysis:records[].value
-- lineage: is_main <- sleep_analysis:records[].startDate, sleep_analysis:records[].endDate
-- lineage: deep_s <- sleep_analysis:records[].value
-- lineage: light_s <- sleep_analysis:records[].value
-- lineage: rem_s <- sleep_analysis:records[].value
-- lineage: awake_s <- sleep_analysis:records[].value
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
WITH days AS (
    SELECT day, payload->'sources' AS sources_json, payload->'records' AS records_json
    FROM raw WHERE resource = 'sleep_analysis'
), ranked AS (
    SELECT day, unnest(from_json(sources_json, '[{"name": "VARCHAR", "rank": "INTEGER"}]'), recursive := true)
    FROM days
), records AS (
    SELECT day, unnest(from_json(records_json, '[{"sourceName": "VARCHAR", "startDate": "VARCHAR", "endDate": "VARCHAR", "value": "VARCHAR"}]'), recursive := true)
    FROM days
), samples AS (
    SELECT CAST(records.day AS DATE) AS day, records.sourceName AS source, ranked.rank,
           CASE WHEN length(startDate) > 19 THEN strptime(startDate, '%Y-%m-%d %H:%M:%S %z')
                ELSE timezone(home_tz(), strptime(startDate, '%Y-%m-%d %H:%M:%S')) END AS t0,
           CASE WHEN length(endDate) > 19 THEN strptime(endDate, '%Y-%m-%d %H:%M:%S %z')
                ELSE timezone(home_tz(), strptime(endDate, '%Y-%m-%d %H:%M:%S')) END AS t1,
           replace(value, 'HKCategoryValueSleepAnalysis', '') AS stage
    FROM records JOIN ranked ON ranked.day = records.day AND ranked.name = records.sourceName
    WHERE ranked.rank IS NOT NULL
), asleep AS (  -- the samples that say how one slept (not only that one was in bed)
    SELECT *, epoch(t1) - epoch(t0) AS secs FROM samples WHERE stage <> 'InBed' AND t1 > t0
), split AS (
    SELECT *, sum(CASE WHEN prev_end IS NULL OR t0 > prev_end + INTERVAL 2 HOUR THEN 1 ELSE 0 END)
                  OVER (PARTITION BY day, source ORDER BY t0, t1) AS session
    FROM (SELECT *, max(t1) OVER (PARTITION BY day, source ORDER BY t0, t1
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end FROM asleep)
), sessions AS (
    SELECT day, source, rank, session, min(t0) AS s0, max(t1) AS s1,
           sum(secs) FILTER (WHERE stage = 'AsleepDeep')  AS deep_s,
           sum(secs) FILTER (WHERE stage = 'AsleepCore')  AS light_s,
           sum(secs) FILTER (WHERE stage = 'AsleepREM')   AS rem_s,
           sum(secs) FILTER (WHERE stage = 'Awake')       AS awake_s,
           sum(secs) FILTER (WHERE stage LIKE 'Asleep%')  AS asleep_s,
           bool_or(stage IN ('AsleepDeep', 'AsleepCore', 'AsleepREM')) AS staged
    FROM split GROUP BY ALL
    HAVING sum(secs) FILTER (WHERE stage LIKE 'Asleep%') > 0
), best AS (
    SELECT * FROM sessions QUALIFY rank = min(rank) OVER (PARTITION BY day)
), bedded AS (
    SELECT best.day, best.source, best.session, any_value(best.s0) AS s0, any_value(best.s1) AS s1,
           least(any_value(best.s0), min(bed.t0)) AS start_ts, greatest(any_value(best.s1), max(bed.t1)) AS end_ts,
           any_value(best.deep_s) AS deep_s, any_value(best.light_s) AS light_s, any_value(best.rem_s) AS rem_s,
           any_value(best.awake_s) AS awake_s, any_value(best.asleep_s) AS asleep_s, any_value(best.staged) AS staged
    FROM best LEFT JOIN samples bed ON bed.day = best.day AND bed.stage = 'InBed' AND bed.t0 < best.s1 AND bed.t1 > best.s0
    GROUP BY best.day, best.source, best.session
)
SELECT
    'apple_health'                                                                 AS provider,
    source || '/' || strftime(timezone('UTC', start_ts), '%Y-%m-%dT%H:%M:%SZ')    AS sleep_id,
    day,
    start_ts,
    end_ts,
    row_number() OVER (PARTITION BY day ORDER BY asleep_s DESC, start_ts) = 1      AS is_main,
    CAST(epoch(end_ts) - epoch(start_ts) AS BIGINT)                               AS time_in_bed_s,
    CAST(asleep_s AS BIGINT)                                                       AS asleep_s,
    CAST(CASE WHEN staged THEN coalesce(deep_s, 0) END AS BIGINT)                  AS deep_s,
    CAST(CASE WHEN staged THEN coalesce(light_s, 0) END AS BIGINT)                 AS light_s,
    CAST(CASE WHEN staged THEN coalesce(rem_s, 0) END AS BIGINT)                   AS rem_s,
    CAST(CASE WHEN staged THEN coalesce(awake_s, 0) END AS BIGINT)                 AS awake_s,
    CAST(NULL AS DOUBLE)                                                           AS avg_hr_bpm,
    CAST(NULL AS DOUBLE)                                                           AS lowest_hr_bpm,
    CAST(NULL AS DOUBLE)                                                           AS avg_hrv_ms
FROM bedded
