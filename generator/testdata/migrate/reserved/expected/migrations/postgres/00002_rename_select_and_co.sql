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
ALTER TABLE "Order" ADD COLUMN IF NOT EXISTS "table" text COLLATE "C";
-- +goose StatementBegin
DO $repokit$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('"Order"') AND attname = 'user' AND NOT attisdropped) THEN
		EXECUTE $fn$CREATE OR REPLACE FUNCTION "Order_table_compat"() RETURNS trigger LANGUAGE plpgsql AS $body$BEGIN
	IF TG_OP = 'INSERT' THEN
		IF NEW."table" IS NOT DISTINCT FROM NULL AND NEW."user" IS DISTINCT FROM NULL THEN
			NEW."table" := NEW."user";
		ELSE
			NEW."user" := NEW."table";
		END IF;
	ELSIF NEW."table" IS DISTINCT FROM OLD."table" THEN
		NEW."user" := NEW."table";
	ELSIF NEW."user" IS DISTINCT FROM OLD."user" THEN
		NEW."table" := NEW."user";
	END IF;
	RETURN NEW;
END$body$$fn$;
		IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass('"Order"') AND tgname = 'Order_table_compat') THEN
			EXECUTE 'CREATE TRIGGER "Order_table_compat" BEFORE INSERT OR UPDATE ON "Order" FOR EACH ROW EXECUTE FUNCTION "Order_table_compat"()';
		END IF;
	END IF;
END
$repokit$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $repokit$
DECLARE
	last text COLLATE "C";
	ids text[];
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('"Order"') AND attname = 'user' AND NOT attisdropped) THEN
		RETURN;
	END IF;
	LOOP
		SELECT array_agg("id" ORDER BY "id") INTO ids FROM (SELECT "id" FROM "Order" WHERE last IS NULL OR "id" > last ORDER BY "id" LIMIT 1000) b;
		EXIT WHEN ids IS NULL;
		UPDATE "Order" SET "table" = "user" WHERE "id" = ANY (ids) AND "table" IS DISTINCT FROM "user";
		last := ids[cardinality(ids)];
		COMMIT;
	END LOOP;
END
$repokit$;
-- +goose StatementEnd
