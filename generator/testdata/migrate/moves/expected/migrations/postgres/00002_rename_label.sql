-- repokit migration 00002_rename_label (PostgreSQL), planned by repokit migrate diff and applied with goose.
--   Item.title: rename field from label
--   Item.title: add enum values c
-- Builds indexes with CREATE INDEX CONCURRENTLY, which cannot run in a transaction.
-- +goose NO TRANSACTION

-- +goose Up
ALTER TABLE "item" ADD COLUMN IF NOT EXISTS "title" text COLLATE "C" DEFAULT 'a';
-- +goose StatementBegin
DO $repokit$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('"item"') AND attname = 'label' AND NOT attisdropped) THEN
		EXECUTE $fn$CREATE OR REPLACE FUNCTION "item_title_compat"() RETURNS trigger LANGUAGE plpgsql AS $body$BEGIN
	IF TG_OP = 'INSERT' THEN
		IF NEW."title" IS NOT DISTINCT FROM 'a' AND NEW."label" IS DISTINCT FROM 'a' THEN
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
ALTER TABLE "item" DROP CONSTRAINT IF EXISTS "item_label_check";
-- +goose StatementBegin
DO $repokit$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('"item"') AND attname = 'label' AND NOT attisdropped) THEN
		ALTER TABLE "item" ALTER COLUMN "label" DROP NOT NULL;
	END IF;
END
$repokit$;
-- +goose StatementEnd
ALTER TABLE "item" DROP CONSTRAINT IF EXISTS "item_title_check", ADD CONSTRAINT "item_title_check" CHECK ("title" IN ('a', 'b', 'c')) NOT VALID;
ALTER TABLE "item" VALIDATE CONSTRAINT "item_title_check";
UPDATE "item" SET "title" = 'a' WHERE "title" IS NULL;
ALTER TABLE "item" DROP CONSTRAINT IF EXISTS "item_title_required", ADD CONSTRAINT "item_title_required" CHECK ("title" IS NOT NULL) NOT VALID;
ALTER TABLE "item" VALIDATE CONSTRAINT "item_title_required";
ALTER TABLE "item" ALTER COLUMN "title" SET NOT NULL;
ALTER TABLE "item" DROP CONSTRAINT IF EXISTS "item_title_required";
-- +goose StatementBegin
DO $repokit$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('"item_title_idx"') AND NOT indisvalid) THEN
		DROP INDEX "item_title_idx";
	END IF;
END
$repokit$;
-- +goose StatementEnd
CREATE INDEX CONCURRENTLY IF NOT EXISTS "item_title_idx" ON "item" ("title");
