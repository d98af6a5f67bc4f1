-- A command id names one command: a repeat must be the same user, op and
-- fields. The digest (see `hub::command_ids`) is what makes it the same;
-- answers stored before it was kept have an empty digest and are judged by
-- actor and op alone.
ALTER TABLE commands ADD COLUMN digest TEXT NOT NULL DEFAULT '';
