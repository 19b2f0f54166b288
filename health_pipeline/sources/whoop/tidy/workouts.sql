-- WHOOP workouts -> workouts. `sport_name` is a lowercase slug (`weightlifting_msk`, `running`,
-- `mountain-biking`, `hiking/rucking`); energy is kilojoule: kcal = kJ / 4.184. A workout without
-- GPS has `distance_meter` null. A workout not (yet) scored keeps its times with its figures NULL.
-- per record
-- raw record: 'workouts/' || workout_id
-- lineage: workout_id <- workouts:id
-- lineage: day <- workouts:start, workouts:timezone_offset
-- lineage: start_ts <- workouts:start
-- lineage: end_ts <- workouts:end
-- lineage: activity <- workouts:sport_name
-- lineage: title <- workouts:sport_name
-- lineage: duration_s <- workouts:start, workouts:end
-- lineage: active_kcal <- workouts:score.kilojoule
-- lineage: distance_m <- workouts:score.distance_meter
-- lineage: avg_hr_bpm <- workouts:score.average_heart_rate
WITH sports(sport, activity) AS (
    VALUES ('weightlifting', 'strength_training'), ('weightlifting msk', 'strength_training'),
           ('strength trainer', 'strength_training'), ('powerlifting', 'strength_training'),
           ('running', 'running'), ('track & field', 'running'), ('walking', 'walking'),
           ('hiking/rucking', 'hiking'), ('hiking', 'hiking'), ('cycling', 'cycling'),
           ('mountain biking', 'cycling'), ('spin', 'cycling'), ('swimming', 'swimming'), ('rowing', 'rowing'),
           ('yoga', 'yoga'), ('pilates', 'pilates'), ('tennis', 'tennis'), ('boxing', 'boxing'),
           ('elliptical', 'elliptical'), ('dance', 'dancing'), ('skiing', 'skiing'), ('hiit', 'fitness'),
           ('functional fitness', 'fitness'), ('foam rolling', 'recovery'), ('stretching', 'recovery')
), w AS (
    SELECT record_id, day, payload, payload->'score' AS score, payload->>'score_state' = 'SCORED' AS scored,
           replace(replace(lower(payload->>'sport_name'), '-', ' '), '_', ' ') AS sport
    FROM raw
)
SELECT
    'whoop'                                                                  AS provider,
    record_id                                                                AS workout_id,
    CAST(w.day AS DATE)                                                      AS day,
    CAST(payload->>'start' AS TIMESTAMPTZ)                                   AS start_ts,
    CAST(payload->>'end' AS TIMESTAMPTZ)                                     AS end_ts,
    coalesce(sports.activity, replace(sport, ' ', '_'), 'other')             AS activity,
    payload->>'sport_name'                                                   AS title,
    CAST(epoch(CAST(payload->>'end' AS TIMESTAMPTZ)) - epoch(CAST(payload->>'start' AS TIMESTAMPTZ)) AS BIGINT) AS duration_s,
    CASE WHEN scored THEN round(CAST(score->>'kilojoule' AS DOUBLE) / 4.184, 3) END AS active_kcal,
    CASE WHEN scored THEN CAST(score->>'distance_meter' AS DOUBLE) END      AS distance_m,
    CASE WHEN scored THEN CAST(score->>'average_heart_rate' AS DOUBLE) END  AS avg_hr_bpm,
    CAST(NULL AS DOUBLE)                                                    AS work_kj
FROM w LEFT JOIN sports USING (sport)
