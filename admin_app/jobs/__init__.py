"""Background work on the job engine (Huey): bulk jobs and scheduled tasks. Entrypoints, like
the views: tasks call verbs, and exactly-once lives in the database, never in the engine
(every task is safe to run twice)."""
