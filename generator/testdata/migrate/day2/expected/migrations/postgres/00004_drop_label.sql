-- repokit migration 00004_drop_label (PostgreSQL), planned by repokit migrate diff and applied with goose.
--   Item.title: drop old name label [destructive: code that still uses the old name label fails; plan it once no such code runs]

-- +goose Up
DROP TRIGGER IF EXISTS "item_title_compat" ON "item";
DROP FUNCTION IF EXISTS "item_title_compat"();
ALTER TABLE "item" DROP COLUMN IF EXISTS "label";
