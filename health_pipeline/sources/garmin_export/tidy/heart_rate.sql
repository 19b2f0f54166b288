-- A Garmin export's FIT heart rate -> heart_rate (provider garmin): the all-day samples of the monitoring
-- files (`source` monitoring, about one a minute) and the samples of the activity files (`source`
-- activity); where both have an instant, the activity file's. The import rebuilt each sample's instant
-- (`timestamp_16` accumulated in FIT time) and grouped the samples by the local day of the file's own
-- offset, so a record's day is its samples' day.
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: ts <- monitoring:samples[][0], activity_fit:samples[][0]
-- lineage: day <- monitoring:samples[][0], activity_fit:samples[][0]
-- lineage: bpm <- monitoring:samples[][1], activity_fit:samples[][1]
-- lineage: source <- monitoring:samples, activity_fit:samples
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
WITH records AS (
    SELECT resource, day, payload->'samples' AS samples_json FROM raw WHERE resource IN ('monitoring', 'activity_fit')
), samples AS (
    SELECT resource, day, unnest(from_json(samples_json, '[["BIGINT"]]')) AS s FROM records
)
SELECT
    'garmin'                                                                          AS provider,
    to_timestamp(s[1])                                                                AS ts,
    CAST(min(day) AS DATE)                                                            AS day,
    CAST(coalesce(max(s[2]) FILTER (WHERE resource = 'activity_fit'), max(s[2])) AS DOUBLE) AS bpm,
    CASE WHEN bool_or(resource = 'activity_fit') THEN 'activity' ELSE 'monitoring' END AS source
FROM samples
WHERE s[2] > 0
GROUP BY s[1]
