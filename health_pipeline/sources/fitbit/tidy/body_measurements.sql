-- Fitbit (Google Health) weight and body-fat samples -> body_measurements. Weight comes in grams,
-- body fat in percent. Google leaves a value at its default (0) out, so a sample without one is 0
-- (a weight of 0 kg is then kept out by the plausibility rules). The raw record's `day` is the
-- sample's own civil date (its instant at its own UTC offset), not the configured zone's.
-- raw record: CASE metric WHEN 'weight' THEN 'weight/' ELSE 'body-fat/' END || source_id
-- lineage: measured_at <- weight:weight.sampleTime.physicalTime, body-fat:bodyFat.sampleTime.physicalTime
-- lineage: day <- weight:weight.sampleTime.physicalTime, weight:weight.sampleTime.utcOffset, body-fat:bodyFat.sampleTime.physicalTime, body-fat:bodyFat.sampleTime.utcOffset
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
    CASE resource WHEN 'weight' THEN coalesce(CAST(payload->'weight'->>'weightGrams' AS DOUBLE), 0) / 1000.0
                  ELSE coalesce(CAST(payload->'bodyFat'->>'percentage' AS DOUBLE), 0) END AS value,
    CASE resource WHEN 'weight' THEN 'kg' ELSE '%' END                         AS unit,
    record_id                                                                   AS source_id,
    CAST(NULL AS VARCHAR)                                                       AS segment
FROM raw
