-- repokit migration 00001_baseline (PostgreSQL), planned by repokit migrate diff and applied with goose.
--   Item: add record

-- +goose Up
CREATE TABLE IF NOT EXISTS "item" (
	"id" text COLLATE "C" NOT NULL,
	"n" bigint NOT NULL,
	"label" text COLLATE "C" DEFAULT 'a' NOT NULL,
	"repokit_version" bigint NOT NULL,
	CONSTRAINT "item_pkey" PRIMARY KEY ("id"),
	CONSTRAINT "item_label_check" CHECK ("label" IN ('a', 'b'))
);
CREATE INDEX IF NOT EXISTS "item_label_idx" ON "item" ("label");
ALTER TABLE "item" ALTER COLUMN "label" SET DEFAULT 'a';
