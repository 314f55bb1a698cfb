-- repokit migration 00002_rename_select_and_co (PostgreSQL), planned by repokit migrate diff and applied with goose.
--   Order.select: drop index
--   Order.select: make unique
--   Order.group: add enum values o'clock
--   Order.group: set default it's
--   Order.group: make required (records without a value get it's)
--   Order.table: rename field from user
--   Order.limit: add field (existing records get -1)
--   from_where: rename record from select
--   from_where: move table select → from_where
--   from_where: move index select → from_where
--   from_where: move key prefix select → from_where
-- Builds indexes with CREATE INDEX CONCURRENTLY, which cannot run in a transaction.
-- +goose NO TRANSACTION

-- +goose Up
ALTER TABLE IF EXISTS "select" RENAME TO "from_where";
ALTER INDEX IF EXISTS "select_pkey" RENAME TO "from_where_pkey";
ALTER TABLE "Order" ALTER COLUMN "group" SET DEFAULT 'it''s';
ALTER TABLE "Order" ADD COLUMN IF NOT EXISTS "limit" bigint DEFAULT -1;
ALTER TABLE "Order" DROP CONSTRAINT IF EXISTS "Order_group_check", ADD CONSTRAINT "Order_group_check" CHECK ("group" IN ('a b', 'it''s', 'a_c', 'o''clock')) NOT VALID;
ALTER TABLE "Order" VALIDATE CONSTRAINT "Order_group_check";
UPDATE "Order" SET "group" = 'it''s' WHERE "group" IS NULL;
ALTER TABLE "Order" DROP CONSTRAINT IF EXISTS "Order_group_required", ADD CONSTRAINT "Order_group_required" CHECK ("group" IS NOT NULL) NOT VALID;
ALTER TABLE "Order" VALIDATE CONSTRAINT "Order_group_required";
ALTER TABLE "Order" ALTER COLUMN "group" SET NOT NULL;
ALTER TABLE "Order" DROP CONSTRAINT IF EXISTS "Order_group_required";
-- +goose StatementBegin
DO $repokit$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('"Order_select_key"') AND NOT indisvalid) THEN
		DROP INDEX "Order_select_key";
	END IF;
END
$repokit$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $repokit$
DECLARE
	dups text;
BEGIN
	SELECT string_agg(v, ', ') INTO dups FROM (SELECT quote_literal("select"::text) AS v FROM "Order" WHERE "select" IS NOT NULL GROUP BY "select" HAVING count(*) > 1 ORDER BY 1 LIMIT 10) d;
	IF dups IS NOT NULL THEN
		RAISE EXCEPTION 'cannot make Order.select unique: these values are stored more than once: %', dups USING ERRCODE = 'unique_violation';
	END IF;
END
$repokit$;
-- +goose StatementEnd
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "Order_select_key" ON "Order" ("select");
DROP INDEX CONCURRENTLY IF EXISTS "Order_select_idx";
-- +goose StatementBegin
DO $repokit$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('"Order"') AND attname = 'user' AND NOT attisdropped) AND NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('"Order"') AND attname = 'table' AND NOT attisdropped) THEN
		ALTER TABLE "Order" RENAME COLUMN "user" TO "table";
	END IF;
END
$repokit$;
-- +goose StatementEnd
