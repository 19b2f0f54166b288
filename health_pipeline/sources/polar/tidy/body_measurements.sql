-- Polar physical information (each transaction entry: the profile as it was when it changed) -> weight
-- (kg), height (cm -> m) and VO2 max, at the entry's `created` time.
-- per record
-- raw record: 'physical_information/' || source_id
-- lineage: measured_at <- physical_information:created
-- lineage: day <- physical_information:created
-- lineage: metric <- physical_information:weight, physical_information:height, physical_information:vo2-max
-- lineage: value <- physical_information:weight, physical_information:height, physical_information:vo2-max
-- lineage: unit <- physical_information:weight, physical_information:height, physical_information:vo2-max
-- lineage: source_id <- physical_information:id
WITH p AS (
    SELECT record_id, day, CAST(payload->>'created' AS TIMESTAMPTZ) AS measured_at, unnest([
        {'metric': 'weight', 'value': CAST(payload->>'weight' AS DOUBLE), 'unit': 'kg'},
        {'metric': 'height', 'value': CAST(payload->>'height' AS DOUBLE) / 100, 'unit': 'm'},
        {'metric': 'vo2_max', 'value': CAST(payload->>'vo2-max' AS DOUBLE), 'unit': 'ml/min/kg'}
    ]) AS m
    FROM raw WHERE resource = 'physical_information'
)
SELECT
    'polar'                  AS provider,
    measured_at,
    CAST(day AS DATE)        AS day,
    m.metric                 AS metric,
    m.value                  AS value,
    m.unit                   AS unit,
    record_id                AS source_id,
    CAST(NULL AS VARCHAR)    AS segment
FROM p
WHERE m.value IS NOT NULL AND m.value > 0
