-- An Apple Health export's heart rate -> heart_rate (provider apple_health), `source` 'sample': every
-- reading (`HKQuantityTypeIdentifierHeartRate` records are instants) in beats per minute. Where two
-- sources read the same instant, the better-ranked one's (`[apple_health] source_priority`); copies by
-- apps the project syncs itself (`exclude_apps`: rank null) are left out. A date without an offset is
-- on the configured zone's clock.
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: ts <- heart_rate:records[].startDate
-- lineage: day <- heart_rate:records[].startDate
-- lineage: bpm <- heart_rate:records[].value, heart_rate:records[].unit
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
WITH days AS (
    SELECT day, payload->'sources' AS sources_json, payload->'records' AS records_json
    FROM raw WHERE resource = 'heart_rate'
), ranked AS (
    SELECT day, unnest(from_json(sources_json, '[{"name": "VARCHAR", "rank": "INTEGER"}]'), recursive := true)
    FROM days
), readings AS (
    SELECT day, unnest(from_json(records_json, '[{"sourceName": "VARCHAR", "startDate": "VARCHAR", "value": "VARCHAR", "unit": "VARCHAR"}]'), recursive := true)
    FROM days
), timed AS (
    SELECT CAST(readings.day AS DATE) AS day, ranked.rank,
           CASE WHEN length(startDate) > 19 THEN strptime(startDate, '%Y-%m-%d %H:%M:%S %z')
                ELSE timezone(home_tz(), strptime(startDate, '%Y-%m-%d %H:%M:%S')) END AS ts,
           TRY_CAST(value AS DOUBLE) * CASE unit WHEN 'count/s' THEN 60 ELSE 1 END AS bpm
    FROM readings JOIN ranked ON ranked.day = readings.day AND ranked.name = readings.sourceName
    WHERE ranked.rank IS NOT NULL
)
SELECT
    'apple_health'  AS provider,
    ts,
    day,
    bpm,
    'sample'        AS source
FROM timed
WHERE bpm IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY ts ORDER BY rank, bpm) = 1
