-- repokit migration 00001_initial_0 (PostgreSQL), planned by repokit migrate diff and applied with goose.
--   Order: add record
--   select: add record

-- +goose Up
CREATE TABLE IF NOT EXISTS "Order" (
	"id" text COLLATE "C" NOT NULL,
	"select" text COLLATE "C",
	"group" text COLLATE "C",
	"user" text COLLATE "C",
	"repokit_version" bigint NOT NULL,
	CONSTRAINT "Order_pkey" PRIMARY KEY ("id"),
	CONSTRAINT "Order_group_check" CHECK ("group" IN ('a b', 'it''s', 'a_c'))
);
CREATE INDEX IF NOT EXISTS "Order_select_idx" ON "Order" ("select");
CREATE TABLE IF NOT EXISTS "select" (
	"from" uuid NOT NULL,
	"where" timestamp with time zone DEFAULT '2030-01-01T00:00:00Z'::timestamptz,
	"repokit_version" bigint NOT NULL,
	CONSTRAINT "select_pkey" PRIMARY KEY ("from")
);
ALTER TABLE "select" ALTER COLUMN "where" SET DEFAULT '2030-01-01T00:00:00Z'::timestamptz;
