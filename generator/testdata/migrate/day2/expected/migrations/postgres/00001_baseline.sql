-- repokit migration 00001_baseline (PostgreSQL), planned by repokit migrate diff and applied with goose.
--   Item: add record

-- +goose Up
CREATE TABLE IF NOT EXISTS "item" (
	"id" text COLLATE "C" NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"sku" text COLLATE "C",
	"category" text COLLATE "C",
	"status" text COLLATE "C" DEFAULT 'draft',
	"label" text COLLATE "C",
	"stock" bigint,
	"tags" text[] COLLATE "C",
	"repokit_version" bigint NOT NULL,
	CONSTRAINT "item_pkey" PRIMARY KEY ("id"),
	CONSTRAINT "item_status_check" CHECK ("status" IN ('draft', 'active'))
);
ALTER TABLE "item" ALTER COLUMN "status" SET DEFAULT 'draft';
