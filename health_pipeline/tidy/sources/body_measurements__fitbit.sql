-- Fitbit (Google Health) weight and body-fat samples -> body_measurements. Weight comes in grams,
-- body fat in percent.
-- lineage: measured_at <- weight:weight.sampleTime.physicalTime, body-fat:bodyFat.sampleTime.physicalTime
-- lineage: day <- weight:weight.sampleTime.physicalTime, body-fat:bodyFat.sampleTime.physicalTime
-- lineage: metric <- weight:weight, body-fat:bodyFat
-- lineage: value <- weight:weight.weightGrams, body-fat:bodyFat.percentage
-- lineage: unit <- weight:weight.weightGrams, body-fat:bodyFat.percentage
-- lineage: source_id <- weight:name, body-fat:name
SELECT
    'fitbit'                                                                    AS provider,
    CAST(coalesce(payload->'weight'->'sampleTime'->>'physicalTime',
                  payload->'bodyFat'->'sampleTime'->>'physicalTime') AS TIMESTAMPTZ) AS measured_at,
    CAST(day AS DATE)                                                           AS day,
    CASE resource WHEN 'weight' THEN 'weight' ELSE 'fat_ratio' END             AS metric,
    CASE resource WHEN 'weight' THEN CAST(payload->'weight'->>'weightGrams' AS DOUBLE) / 1000.0
                  ELSE CAST(payload->'bodyFat'->>'percentage' AS DOUBLE) END   AS value,
    CASE resource WHEN 'weight' THEN 'kg' ELSE '%' END                         AS unit,
    record_id                                                                   AS source_id
FROM raw
WHERE coalesce(payload->'weight'->>'weightGrams', payload->'bodyFat'->>'percentage') IS NOT NULL
