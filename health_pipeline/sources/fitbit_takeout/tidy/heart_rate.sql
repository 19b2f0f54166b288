-- A Fitbit export's heart rate -> heart_rate (provider fitbit): the samples of `heart_rate-<day>.json`
-- averaged per minute, as the Google Health API's roll-ups are. The file's timestamps are on the clock
-- the import detected (`clock`: UTC in every export seen; `local`: the wall clock, read in the configured
-- zone, `home_tz()`, as a time without an offset always is). Google's CSV copy (`heart_rate_<day>.csv`,
-- UTC instants) is read only for days without the JSON. The import dated every sample on the configured
-- zone's calendar (`day`). Samples of 0 bpm are none.
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: ts <- heart_rate:rows[].dateTime, google_heart_rate:rows[].timestamp
-- lineage: day <- heart_rate:rows[].dateTime, google_heart_rate:rows[].timestamp
-- lineage: bpm <- heart_rate:rows[].value.bpm, google_heart_rate:rows[].beats per minute
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
-- (A record's clock is read once per record, before its rows are expanded: read after, DuckDB would
-- parse the whole payload again for every sample.)
WITH json_records AS (
    SELECT day, payload->>'clock' AS clock, payload->'rows' AS rows_json
    FROM raw WHERE resource = 'heart_rate'
), json_samples AS (
    SELECT day, clock, unnest(from_json(rows_json, '[{"dateTime": "VARCHAR", "value": {"bpm": "DOUBLE"}}]')) AS r
    FROM json_records
), csv_samples AS (
    SELECT day, unnest(from_json(payload->'rows', '[{"timestamp": "VARCHAR", "beats per minute": "DOUBLE"}]')) AS r
    FROM raw WHERE resource = 'google_heart_rate' AND day NOT IN (SELECT day FROM raw WHERE resource = 'heart_rate')
), samples AS (
    SELECT DISTINCT day,
           CASE clock WHEN 'local' THEN timezone('UTC', timezone(home_tz(), strptime(r.dateTime, '%m/%d/%y %H:%M:%S')))
                      ELSE strptime(r.dateTime, '%m/%d/%y %H:%M:%S') END AS t,  -- UTC, without a zone
           r.value.bpm AS bpm
    FROM json_samples
    UNION
    SELECT day, CAST(left(r.timestamp, 19) AS TIMESTAMP) AS t, r."beats per minute" AS bpm FROM csv_samples
)
SELECT
    'fitbit'                                AS provider,
    timezone('UTC', date_trunc('minute', t)) AS ts,
    CAST(day AS DATE)                       AS day,
    avg(bpm)                                AS bpm,
    'minute_avg'                            AS source
FROM samples
WHERE bpm > 0
GROUP BY ALL
