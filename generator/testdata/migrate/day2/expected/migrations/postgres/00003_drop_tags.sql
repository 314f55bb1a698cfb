-- repokit migration 00003_drop_tags (PostgreSQL), planned by repokit migrate diff and applied with goose.
--   Item.tags: drop field [destructive: its stored values are deleted]

-- +goose Up
ALTER TABLE "item" DROP COLUMN IF EXISTS "tags";
