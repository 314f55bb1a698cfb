-- repokit migration 00003_move_table (PostgreSQL), planned by repokit migrate diff and applied with goose.
--   Item: move table item → item_v2

-- +goose Up
ALTER TABLE IF EXISTS "item" RENAME TO "item_v2";
ALTER INDEX IF EXISTS "item_pkey" RENAME TO "item_v2_pkey";
ALTER INDEX IF EXISTS "item_title_idx" RENAME TO "item_v2_title_idx";
-- +goose StatementBegin
DO $repokit$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass('"item_v2"') AND conname = 'item_title_check') THEN
		ALTER TABLE "item_v2" RENAME CONSTRAINT "item_title_check" TO "item_v2_title_check";
	END IF;
END
$repokit$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $repokit$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass('"item_v2"') AND tgname = 'item_title_compat') THEN
		ALTER TRIGGER "item_title_compat" ON "item_v2" RENAME TO "item_v2_title_compat";
	END IF;
END
$repokit$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $repokit$
BEGIN
	IF to_regprocedure('"item_title_compat"()') IS NOT NULL THEN
		ALTER FUNCTION "item_title_compat"() RENAME TO "item_v2_title_compat";
	END IF;
END
$repokit$;
-- +goose StatementEnd
