-- repokit migration 00001_first (PostgreSQL), planned by repokit migrate diff and applied with goose.
--   Thing: add record

-- +goose Up
CREATE TABLE IF NOT EXISTS "thing" (
	"id" text COLLATE "C" NOT NULL,
	"a" bigint,
	"b" text COLLATE "C",
	"c" text COLLATE "C",
	"repokit_version" bigint NOT NULL,
	CONSTRAINT "thing_pkey" PRIMARY KEY ("id"),
	CONSTRAINT "thing_c_check" CHECK ("c" IN ('x', 'y'))
);
