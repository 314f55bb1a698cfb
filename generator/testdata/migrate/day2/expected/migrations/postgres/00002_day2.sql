-- repokit migration 00002_day2 (PostgreSQL), planned by repokit migrate diff and applied with goose.
--   Item.sku: make unique
--   Item.category: add index
--   Item.status: add enum values archived
--   Item.title: rename field from label
--   Item.stock: change type int → float
--   Item.color: add field
--   Item.weight: add field (existing records get 1)
--   Review: add record
-- Builds indexes with CREATE INDEX CONCURRENTLY, which cannot run in a transaction.
-- +goose NO TRANSACTION

-- +goose Up
ALTER TABLE "item" ADD COLUMN IF NOT EXISTS "color" text COLLATE "C";
ALTER TABLE "item" ADD COLUMN IF NOT EXISTS "weight" double precision DEFAULT 1 NOT NULL;
CREATE TABLE IF NOT EXISTS "review" (
	"id" uuid NOT NULL,
	"item_id" text COLLATE "C" NOT NULL,
	"stars" bigint NOT NULL,
	"repokit_version" bigint NOT NULL,
	CONSTRAINT "review_pkey" PRIMARY KEY ("id")
);
CREATE INDEX IF NOT EXISTS "review_item_id_idx" ON "review" ("item_id");
ALTER TABLE "item" DROP CONSTRAINT IF EXISTS "item_status_check", ADD CONSTRAINT "item_status_check" CHECK ("status" IN ('draft', 'active', 'archived')) NOT VALID;
ALTER TABLE "item" VALIDATE CONSTRAINT "item_status_check";
-- +goose StatementBegin
DO $repokit$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('"item_sku_key"') AND NOT indisvalid) THEN
		DROP INDEX "item_sku_key";
	END IF;
END
$repokit$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $repokit$
DECLARE
	dups text;
BEGIN
	SELECT string_agg(v, ', ') INTO dups FROM (SELECT quote_literal("sku"::text) AS v FROM "item" WHERE "sku" IS NOT NULL GROUP BY "sku" HAVING count(*) > 1 ORDER BY 1 LIMIT 10) d;
	IF dups IS NOT NULL THEN
		RAISE EXCEPTION 'cannot make Item.sku unique: these values are stored more than once: %', dups USING ERRCODE = 'unique_violation';
	END IF;
END
$repokit$;
-- +goose StatementEnd
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "item_sku_key" ON "item" ("sku");
-- +goose StatementBegin
DO $repokit$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('"item_category_idx"') AND NOT indisvalid) THEN
		DROP INDEX "item_category_idx";
	END IF;
END
$repokit$;
-- +goose StatementEnd
CREATE INDEX CONCURRENTLY IF NOT EXISTS "item_category_idx" ON "item" ("category");
ALTER TABLE "item" ADD COLUMN IF NOT EXISTS "title" text COLLATE "C";
-- +goose StatementBegin
DO $repokit$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('"item"') AND attname = 'label' AND NOT attisdropped) THEN
		EXECUTE $fn$CREATE OR REPLACE FUNCTION "item_title_compat"() RETURNS trigger LANGUAGE plpgsql AS $body$BEGIN
	IF TG_OP = 'INSERT' THEN
		IF NEW."title" IS NOT DISTINCT FROM NULL AND NEW."label" IS DISTINCT FROM NULL THEN
			NEW."title" := NEW."label";
		ELSE
			NEW."label" := NEW."title";
		END IF;
	ELSIF NEW."title" IS DISTINCT FROM OLD."title" THEN
		NEW."label" := NEW."title";
	ELSIF NEW."label" IS DISTINCT FROM OLD."label" THEN
		NEW."title" := NEW."label";
	END IF;
	RETURN NEW;
END$body$$fn$;
		IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass('"item"') AND tgname = 'item_title_compat') THEN
			EXECUTE 'CREATE TRIGGER "item_title_compat" BEFORE INSERT OR UPDATE ON "item" FOR EACH ROW EXECUTE FUNCTION "item_title_compat"()';
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
	IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('"item"') AND attname = 'label' AND NOT attisdropped) THEN
		RETURN;
	END IF;
	LOOP
		SELECT array_agg("id" ORDER BY "id") INTO ids FROM (SELECT "id" FROM "item" WHERE last IS NULL OR "id" > last ORDER BY "id" LIMIT 1000) b;
		EXIT WHEN ids IS NULL;
		UPDATE "item" SET "title" = "label" WHERE "id" = ANY (ids) AND "title" IS DISTINCT FROM "label";
		last := ids[cardinality(ids)];
		COMMIT;
	END LOOP;
END
$repokit$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $repokit$
BEGIN
	IF (SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = to_regclass('"item"') AND attname = 'stock' AND NOT attisdropped) <> 'double precision' THEN
		ALTER TABLE "item" ALTER COLUMN "stock" TYPE double precision USING "stock"::double precision;
	END IF;
END
$repokit$;
-- +goose StatementEnd
