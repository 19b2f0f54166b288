-- Hevy workouts -> workout_sets: every set of every exercise, with its type (normal, warmup,
-- dropset, failure). Measurement fields are null where the exercise type has none. Live answers
-- spell the superset `superset_id`, the swagger `supersets_id`: both are read.
-- raw record: 'workouts/' || workout_id
-- lineage: workout_id <- workouts:id
-- lineage: exercise_index <- workouts:exercises[].index
-- lineage: set_index <- workouts:exercises[].sets[].index
-- lineage: day <- workouts:start_time
-- lineage: exercise_title <- workouts:exercises[].title
-- lineage: exercise_template_id <- workouts:exercises[].exercise_template_id
-- lineage: superset_id <- workouts:exercises[].superset_id, workouts:exercises[].supersets_id
-- lineage: set_type <- workouts:exercises[].sets[].type
-- lineage: weight_kg <- workouts:exercises[].sets[].weight_kg
-- lineage: reps <- workouts:exercises[].sets[].reps
-- lineage: distance_m <- workouts:exercises[].sets[].distance_meters
-- lineage: duration_s <- workouts:exercises[].sets[].duration_seconds
-- lineage: rpe <- workouts:exercises[].sets[].rpe
WITH exercises AS (
    SELECT record_id, CAST(day AS DATE) AS day,
           unnest(from_json(payload->'exercises', '[{"index": "INTEGER", "title": "VARCHAR",
               "exercise_template_id": "VARCHAR", "supersets_id": "INTEGER", "superset_id": "INTEGER",
               "sets": [{"index": "INTEGER", "type": "VARCHAR", "weight_kg": "DOUBLE", "reps": "INTEGER",
                         "distance_meters": "DOUBLE", "duration_seconds": "DOUBLE", "rpe": "DOUBLE"}]}]')) AS e
    FROM raw
), sets AS (
    SELECT record_id, day, e, unnest(e.sets) AS s FROM exercises
)
SELECT
    'hevy'                                         AS provider,
    record_id                                      AS workout_id,
    e.index                                        AS exercise_index,
    s.index                                        AS set_index,
    day,
    e.title                                        AS exercise_title,
    e.exercise_template_id,
    coalesce(e.superset_id, e.supersets_id)        AS superset_id,
    s.type                                         AS set_type,
    s.weight_kg,
    s.reps,
    s.distance_meters                              AS distance_m,
    CAST(s.duration_seconds AS BIGINT)             AS duration_s,
    s.rpe
FROM sets
