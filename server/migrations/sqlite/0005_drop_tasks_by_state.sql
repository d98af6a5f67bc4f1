-- Nothing reads tasks by state through this index (the start-up load scans
-- the table), and every task change paid to keep it.
DROP INDEX IF EXISTS tasks_by_state;
