-- Strava heart-rate streams (with `[strava] streams`) -> heart_rate, `source` 'activity': one row per
-- recorded second. `time` holds seconds since the activity's start; the local day is the date of
-- the activity's local start plus those seconds. An activity without a heart-rate sensor has no
-- `heartrate` stream.
-- lineage: ts <- activities:start_date, activity_streams:time.data
-- lineage: day <- activities:start_date_local, activity_streams:time.data
-- lineage: bpm <- activity_streams:heartrate.data
WITH s AS (
    SELECT record_id, payload FROM raw WHERE resource = 'activity_streams' AND (payload->'heartrate') IS NOT NULL
), a AS (
    SELECT record_id, CAST(payload->>'start_date' AS TIMESTAMPTZ) AS start_ts,
           CAST(replace(payload->>'start_date_local', 'Z', '') AS TIMESTAMP) AS start_local
    FROM raw WHERE resource = 'activities'
), samples AS (
    SELECT record_id, unnest(from_json(payload->'time'->'data', '["BIGINT"]')) AS t,
           unnest(from_json(payload->'heartrate'->'data', '["DOUBLE"]')) AS bpm
    FROM s
)
SELECT
    'strava'                                       AS provider,
    a.start_ts + to_seconds(samples.t)             AS ts,
    CAST(a.start_local + to_seconds(samples.t) AS DATE) AS day,
    samples.bpm                                    AS bpm,
    'activity'                                     AS source
FROM samples JOIN a USING (record_id)
WHERE samples.bpm IS NOT NULL
-- two activities recorded at once (a watch and a bike computer): one sample per second, the first activity's
QUALIFY row_number() OVER (PARTITION BY a.start_ts + to_seconds(samples.t) ORDER BY record_id) = 1
