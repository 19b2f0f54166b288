-- workout_sets: one row per (person, provider, workout_id, exercise_index, set_index), every set as logged.
CREATE TABLE IF NOT EXISTS workout_sets (
    person          VARCHAR NOT NULL,  -- [id] whose data it is (`[app] user`, or a person added with `health-pipeline people`)
    provider              VARCHAR NOT NULL,  -- [-] hevy
    workout_id            VARCHAR NOT NULL,  -- [-] the workout (workouts.workout_id)
    exercise_index        INTEGER NOT NULL,  -- [-] the exercise's position in the workout
    set_index             INTEGER NOT NULL,  -- [-] the set's position in the exercise
    day                   DATE    NOT NULL,  -- [local date] the day the workout started
    exercise_title        VARCHAR NOT NULL,  -- [-] e.g. Bench Press (Barbell)
    exercise_template_id  VARCHAR,           -- [-] Hevy's exercise template id
    superset_id           INTEGER,           -- [-] exercises sharing it form a superset
    set_type              VARCHAR NOT NULL,  -- [-] normal, warmup, dropset or failure
    weight_kg             DOUBLE,            -- [kg] load
    reps                  INTEGER,           -- [reps] repetitions
    distance_m            DOUBLE,            -- [m] distance
    duration_s            BIGINT,            -- [s] duration
    rpe                   DOUBLE             -- [RPE] rate of perceived exertion, 6-10
);
