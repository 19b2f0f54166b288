-- daily_scores: one row per (person, provider, day): the providers' own daily scores, each in its own range.
CREATE TABLE IF NOT EXISTS daily_scores (
    person          VARCHAR NOT NULL,  -- [id] whose data it is (`[app] user`, or a person added with `health-pipeline people`)
    provider                 VARCHAR NOT NULL,  -- [-] oura, withings, whoop or polar
    day                      DATE    NOT NULL,  -- [local date] the day the score is for
    readiness_score          INTEGER,           -- [score 0-100] readiness (Oura)
    sleep_score              INTEGER,           -- [score 0-100] sleep of the night ending on `day` (WHOOP: sleep performance)
    activity_score           INTEGER,           -- [score 0-100] activity (Oura)
    recovery_score           INTEGER,           -- [score 0-100] WHOOP recovery of the cycle ending the night before `day`
    strain                   DOUBLE,            -- [strain 0-21] WHOOP day strain of the cycle counting towards `day` (logarithmic)
    nightly_recharge_status  INTEGER,           -- [status 1-6] Polar Nightly Recharge: 1 very poor .. 6 very good
    ans_charge               DOUBLE             -- [score -10..+10] Polar autonomic nervous system charge of the night
);
