-- An Apple Health export's body measurements -> body_measurements (provider apple_health), one row per
-- reading: weight in kg whatever unit the phone used (kg, lb, st, g), body fat and SpO2 from Health's
-- fractions to %, height in m, body temperature in degC, blood pressure from the records the export
-- writes at the top level besides their correlation (counted once). Where two sources measured the same
-- metric at the same instant, the better-ranked one's; copies by apps the project syncs itself (a
-- scale's app: `exclude_apps`) are left out.
-- raw record: '{resource}/' || CAST(day AS VARCHAR)
-- lineage: measured_at <- body_mass:records[].startDate, blood_pressure_systolic:records[].startDate
-- lineage: day <- body_mass:records[].startDate
-- lineage: metric <- body_mass:type, body_fat_percentage:type, height:type, blood_pressure_systolic:type, blood_pressure_diastolic:type, oxygen_saturation:type, body_temperature:type
-- lineage: value <- body_mass:records[].value, body_mass:records[].unit, body_fat_percentage:records[].value, height:records[].value, blood_pressure_systolic:records[].value, blood_pressure_diastolic:records[].value, oxygen_saturation:records[].value, body_temperature:records[].value
-- lineage: unit <- body_mass:records[].unit
-- lineage: source_id <- body_mass:records[].sourceName, body_mass:records[].startDate
-- per day: a day's rows come from the records of that day only, so a long window is modelled in slices
WITH days AS (
    SELECT resource, day, payload->'sources' AS sources_json, payload->'records' AS records_json
    FROM raw WHERE resource IN ('body_mass', 'body_fat_percentage', 'height', 'blood_pressure_systolic',
                                'blood_pressure_diastolic', 'oxygen_saturation', 'body_temperature')
), ranked AS (
    SELECT resource, day, unnest(from_json(sources_json, '[{"name": "VARCHAR", "rank": "INTEGER"}]'), recursive := true)
    FROM days
), records AS (
    SELECT resource, day, unnest(from_json(records_json, '[{"sourceName": "VARCHAR", "startDate": "VARCHAR", "value": "VARCHAR", "unit": "VARCHAR"}]'), recursive := true)
    FROM days
), readings AS (
    SELECT records.resource, CAST(records.day AS DATE) AS day, ranked.rank, records.sourceName AS source, startDate,
           CASE WHEN length(startDate) > 19 THEN strptime(startDate, '%Y-%m-%d %H:%M:%S %z')
                ELSE timezone(home_tz(), strptime(startDate, '%Y-%m-%d %H:%M:%S')) END AS measured_at,
           TRY_CAST(value AS DOUBLE) AS raw_value, unit
    FROM records JOIN ranked ON ranked.resource = records.resource AND ranked.day = records.day
                            AND ranked.name = records.sourceName
    WHERE ranked.rank IS NOT NULL
), converted AS (
    SELECT *,
           CASE resource WHEN 'body_mass' THEN 'weight' WHEN 'body_fat_percentage' THEN 'fat_ratio'
                         WHEN 'height' THEN 'height' WHEN 'blood_pressure_systolic' THEN 'systolic_bp'
                         WHEN 'blood_pressure_diastolic' THEN 'diastolic_bp' WHEN 'oxygen_saturation' THEN 'spo2'
                         ELSE 'body_temperature' END AS metric,
           CASE
               WHEN resource = 'body_mass' THEN raw_value * CASE unit WHEN 'lb' THEN 0.45359237 WHEN 'st' THEN 6.35029318
                                                                      WHEN 'g' THEN 0.001 ELSE 1 END
               WHEN resource = 'height' THEN raw_value * CASE unit WHEN 'cm' THEN 0.01 WHEN 'ft' THEN 0.3048
                                                                   WHEN 'in' THEN 0.0254 ELSE 1 END
               WHEN resource IN ('body_fat_percentage', 'oxygen_saturation') THEN raw_value * 100  -- Health keeps fractions
               WHEN resource = 'body_temperature' AND unit = 'degF' THEN (raw_value - 32) * 5 / 9
               ELSE raw_value
           END AS value,
           CASE resource WHEN 'body_mass' THEN 'kg' WHEN 'height' THEN 'm' WHEN 'body_temperature' THEN 'degC'
                         WHEN 'body_fat_percentage' THEN '%' WHEN 'oxygen_saturation' THEN '%' ELSE 'mmHg' END AS tidy_unit
    FROM readings WHERE raw_value IS NOT NULL
)
SELECT 'apple_health' AS provider, measured_at, day, metric, value, tidy_unit AS unit,
       source || '/' || startDate AS source_id, CAST(NULL AS VARCHAR) AS segment
FROM converted
QUALIFY row_number() OVER (PARTITION BY measured_at, metric ORDER BY rank, source) = 1
