-- Oura sleep documents' sample arrays -> sleep_samples. Each array is {interval, items, timestamp}:
-- item i belongs at timestamp + i x interval seconds. A null item is a gap: it keeps its slot
-- (later items are not shifted) and is NULL here; an instant null in both arrays has no row.
-- raw record: 'sleep/' || sleep_id
-- lineage: sleep_id <- sleep:id
-- lineage: ts <- sleep:heart_rate.timestamp, sleep:heart_rate.interval, sleep:hrv.timestamp, sleep:hrv.interval
-- lineage: day <- sleep:day
-- lineage: hr_bpm <- sleep:heart_rate.items
-- lineage: hrv_ms <- sleep:hrv.items
-- per record: every row comes from one raw record, so a long window is modelled in slices
WITH periods AS (
    SELECT record_id AS sleep_id, CAST(day AS DATE) AS day,
           from_json(payload->'heart_rate', '{"interval": "DOUBLE", "items": "DOUBLE[]", "timestamp": "TIMESTAMPTZ"}') AS hr,
           from_json(payload->'hrv', '{"interval": "DOUBLE", "items": "DOUBLE[]", "timestamp": "TIMESTAMPTZ"}') AS hrv
    FROM raw
    WHERE payload->>'type' IS NULL OR payload->>'type' NOT IN ('deleted', 'rest')
), hr AS (
    SELECT sleep_id, day,
           hr.timestamp + to_microseconds(CAST(round(i * hr.interval * 1000000) AS BIGINT)) AS ts,
           hr.items[i + 1] AS value
    FROM (SELECT sleep_id, day, hr, unnest(range(CAST(coalesce(len(hr.items), 0) AS BIGINT))) AS i FROM periods)
), hrv AS (
    SELECT sleep_id, day,
           hrv.timestamp + to_microseconds(CAST(round(i * hrv.interval * 1000000) AS BIGINT)) AS ts,
           hrv.items[i + 1] AS value
    FROM (SELECT sleep_id, day, hrv, unnest(range(CAST(coalesce(len(hrv.items), 0) AS BIGINT))) AS i FROM periods)
)
SELECT
    'oura'                             AS provider,
    coalesce(hr.sleep_id, hrv.sleep_id) AS sleep_id,
    coalesce(hr.ts, hrv.ts)            AS ts,
    coalesce(hr.day, hrv.day)          AS day,
    hr.value                           AS hr_bpm,
    hrv.value                          AS hrv_ms
FROM hr FULL OUTER JOIN hrv ON hr.sleep_id = hrv.sleep_id AND hr.ts = hrv.ts
WHERE hr.value IS NOT NULL OR hrv.value IS NOT NULL
