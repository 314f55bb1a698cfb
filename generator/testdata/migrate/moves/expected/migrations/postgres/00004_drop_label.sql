-- repokit migration 00004_drop_label (PostgreSQL), planned by repokit migrate diff and applied with goose.
--   Item.title: drop old name label [destructive: code that still uses the old name label fails; plan it once no such code runs]

-- +goose Up
DROP TRIGGER IF EXISTS "item_v2_title_compat" ON "item_v2";
DROP FUNCTION IF EXISTS "item_v2_title_compat"();
ALTER TABLE "item_v2" DROP COLUMN IF EXISTS "label";
