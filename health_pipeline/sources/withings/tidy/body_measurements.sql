-- Withings measure groups -> body_measurements, one row per measure. The real value is
-- `value x 10^unit` (divided by an exact power of ten, so 72345 with unit -3 is 72.345 exactly).
-- Groups with attrib 1 (the scale could not tell who stood on it) and goals (category 2) are left
-- out. Unknown measure types are kept as `withings_type_N`.
-- A Body Scan group repeats whole-body measures at `position` 7 (fat-free and fat mass twice,
-- identical) and holds segmental types 173 (fat-free mass), 174 (fat mass) and 175 (muscle mass)
-- at one position per segment (12 torso, 2 right arm, 3 left arm, 10 left leg, 11 right leg). A
-- whole-body value (no position, or 7) is kept once, as its metric; a segmental value becomes the
-- metric `<metric>_<segment>` (`muscle_mass_left_arm`) with `segment` set. Should one instant hold
-- two values of one metric, the later group wins, then the first value of the group.
-- raw record: 'measures/' || source_id
-- lineage: measured_at <- measures:date
-- lineage: day <- measures:date, measures:timezone
-- lineage: metric <- measures:measures[].type, measures:measures[].position
-- lineage: value <- measures:measures[].value, measures:measures[].unit
-- lineage: unit <- measures:measures[].type
-- lineage: source_id <- measures:grpid
-- lineage: segment <- measures:measures[].position
WITH types(type, metric, unit, segmental) AS (
    VALUES (1, 'weight', 'kg', false), (4, 'height', 'm', false), (5, 'fat_free_mass', 'kg', false),
           (6, 'fat_ratio', '%', false), (8, 'fat_mass', 'kg', false),
           (9, 'diastolic_bp', 'mmHg', false), (10, 'systolic_bp', 'mmHg', false), (11, 'heart_pulse', 'bpm', false),
           (12, 'temperature', 'degC', false), (54, 'spo2', '%', false), (71, 'body_temperature', 'degC', false),
           (73, 'skin_temperature', 'degC', false), (76, 'muscle_mass', 'kg', false), (77, 'hydration', 'kg', false),
           (88, 'bone_mass', 'kg', false), (91, 'pulse_wave_velocity', 'm/s', false), (123, 'vo2_max', 'ml/min/kg', false),
           (155, 'vascular_age', 'years', false), (168, 'extracellular_water', 'kg', false),
           (169, 'intracellular_water', 'kg', false), (170, 'visceral_fat', '1', false),
           (173, 'fat_free_mass', 'kg', true), (174, 'fat_mass', 'kg', true), (175, 'muscle_mass', 'kg', true),
           (226, 'basal_metabolic_rate', 'kcal', false), (227, 'metabolic_age', 'years', false)
), positions(position, segment) AS (
    VALUES (0, 'right_wrist'), (1, 'left_wrist'), (2, 'right_arm'), (3, 'left_arm'), (4, 'right_foot'),
           (5, 'left_foot'), (6, 'between_legs'), (8, 'left_side'), (9, 'right_side'), (10, 'left_leg'),
           (11, 'right_leg'), (12, 'torso'), (13, 'left_hand'), (14, 'right_hand')
), measures AS (
    SELECT record_id, CAST(day AS DATE) AS day, CAST(payload->>'date' AS BIGINT) AS epoch_s,
           unnest(from_json(payload->'measures',
                            '[{"value": "BIGINT", "type": "INTEGER", "unit": "INTEGER", "position": "INTEGER"}]')) AS m,
           unnest(range(CAST(json_array_length(payload->'measures') AS BIGINT))) AS i
    FROM raw
    WHERE coalesce(CAST(payload->>'attrib' AS INTEGER), 0) <> 1
      AND coalesce(CAST(payload->>'category' AS INTEGER), 1) = 1
), named AS (
    SELECT measures.*, types.unit,
           coalesce(types.metric, 'withings_type_' || m.type) AS base,
           CASE WHEN coalesce(types.segmental, false) THEN coalesce(positions.segment, 'position_' || m.position, 'unknown')
                WHEN m.position IS NULL OR m.position = 7 THEN NULL
                ELSE coalesce(positions.segment, 'position_' || m.position) END AS segment
    FROM measures
    LEFT JOIN types ON types.type = m.type
    LEFT JOIN positions ON positions.position = m.position
    WHERE m.value IS NOT NULL AND m.type IS NOT NULL
)
SELECT
    'withings'                                                                  AS provider,
    to_timestamp(epoch_s)                                                       AS measured_at,
    day,
    CASE WHEN segment IS NULL THEN base ELSE base || '_' || segment END         AS metric,
    CASE WHEN m.unit < 0 THEN m.value / pow(10, -m.unit) ELSE m.value * pow(10, m.unit) END AS value,
    coalesce(unit, '1')                                                         AS unit,
    record_id                                                                   AS source_id,
    segment
FROM named
QUALIFY row_number() OVER (
    PARTITION BY epoch_s, CASE WHEN segment IS NULL THEN base ELSE base || '_' || segment END
    ORDER BY TRY_CAST(record_id AS BIGINT) DESC NULLS LAST, record_id DESC, i
) = 1
