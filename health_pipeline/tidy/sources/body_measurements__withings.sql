-- Withings measure groups -> body_measurements, one row per measure. The real value is
-- `value x 10^unit` (divided by an exact power of ten, so 72345 with unit -3 is 72.345 exactly).
-- Groups with attrib 1 (the scale could not tell who stood on it) and goals (category 2) are left
-- out. Unknown measure types are kept as `withings_type_N`.
-- lineage: measured_at <- measures:date
-- lineage: day <- measures:date, measures:timezone
-- lineage: metric <- measures:measures[].type
-- lineage: value <- measures:measures[].value, measures:measures[].unit
-- lineage: unit <- measures:measures[].type
-- lineage: source_id <- measures:grpid
WITH types(type, metric, unit) AS (
    VALUES (1, 'weight', 'kg'), (5, 'fat_free_mass', 'kg'), (6, 'fat_ratio', '%'), (8, 'fat_mass', 'kg'),
           (9, 'diastolic_bp', 'mmHg'), (10, 'systolic_bp', 'mmHg'), (11, 'heart_pulse', 'bpm'),
           (12, 'temperature', 'degC'), (54, 'spo2', '%'), (71, 'body_temperature', 'degC'),
           (73, 'skin_temperature', 'degC'), (76, 'muscle_mass', 'kg'), (77, 'hydration', 'kg'),
           (88, 'bone_mass', 'kg'), (91, 'pulse_wave_velocity', 'm/s'), (123, 'vo2_max', 'ml/min/kg'),
           (155, 'vascular_age', 'years'), (168, 'extracellular_water', 'kg'), (169, 'intracellular_water', 'kg'),
           (170, 'visceral_fat', '1'), (226, 'basal_metabolic_rate', 'kcal'), (227, 'metabolic_age', 'years')
), measures AS (
    SELECT record_id, CAST(day AS DATE) AS day, CAST(payload->>'date' AS BIGINT) AS epoch_s,
           unnest(from_json(payload->'measures', '[{"value": "BIGINT", "type": "INTEGER", "unit": "INTEGER"}]')) AS m
    FROM raw
    WHERE coalesce(CAST(payload->>'attrib' AS INTEGER), 0) <> 1
      AND coalesce(CAST(payload->>'category' AS INTEGER), 1) = 1
)
SELECT
    'withings'                                            AS provider,
    to_timestamp(epoch_s)                                 AS measured_at,
    day,
    coalesce(types.metric, 'withings_type_' || m.type)    AS metric,
    CASE WHEN m.unit < 0 THEN m.value / pow(10, -m.unit) ELSE m.value * pow(10, m.unit) END AS value,
    coalesce(types.unit, '1')                             AS unit,
    record_id                                             AS source_id
FROM measures LEFT JOIN types ON types.type = m.type
WHERE m.value IS NOT NULL AND m.type IS NOT NULL
