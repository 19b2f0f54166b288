-- daily_scores: one row per (provider, day): the providers' own 0-100 scores.
CREATE TABLE IF NOT EXISTS daily_scores (
    provider         VARCHAR NOT NULL,  -- [-] oura or withings
    day              DATE    NOT NULL,  -- [local date] the day the score is for
    readiness_score  INTEGER,           -- [score 0-100] readiness
    sleep_score      INTEGER,           -- [score 0-100] sleep (of the night ending on `day`)
    activity_score   INTEGER            -- [score 0-100] activity
);
