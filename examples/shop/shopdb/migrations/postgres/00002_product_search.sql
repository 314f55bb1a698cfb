-- repokit migration 00002_product_search (PostgreSQL), planned by repokit migrate diff and applied with goose.
--   Product.description: make searchable (english)
-- Builds indexes with CREATE INDEX CONCURRENTLY, which cannot run in a transaction.
-- +goose NO TRANSACTION

-- +goose Up
-- +goose StatementBegin
DO $repokit$
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('repokit:textsearch'));
	CREATE EXTENSION IF NOT EXISTS unaccent;
	IF NOT EXISTS (SELECT 1 FROM pg_ts_dict WHERE dictname = 'repokit_english_stem' AND dictnamespace::regnamespace::text = ANY (current_schemas(false))) THEN
		CREATE TEXT SEARCH DICTIONARY repokit_english_stem (TEMPLATE = pg_catalog.snowball, Language = english);
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'repokit_english' AND cfgnamespace::regnamespace::text = ANY (current_schemas(false))) THEN
		CREATE TEXT SEARCH CONFIGURATION repokit_english (COPY = pg_catalog.simple);
		ALTER TEXT SEARCH CONFIGURATION repokit_english ALTER MAPPING FOR asciiword, word, asciihword, hword, hword_asciipart, hword_part WITH unaccent, repokit_english_stem;
		ALTER TEXT SEARCH CONFIGURATION repokit_english ALTER MAPPING FOR numword, numhword, hword_numpart, int, uint, float, sfloat, version WITH unaccent, simple;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'repokit_simple' AND cfgnamespace::regnamespace::text = ANY (current_schemas(false))) THEN
		CREATE TEXT SEARCH CONFIGURATION repokit_simple (COPY = pg_catalog.simple);
		ALTER TEXT SEARCH CONFIGURATION repokit_simple ALTER MAPPING FOR asciiword, word, asciihword, hword, hword_asciipart, hword_part WITH unaccent, simple;
		ALTER TEXT SEARCH CONFIGURATION repokit_simple ALTER MAPPING FOR numword, numhword, hword_numpart, int, uint, float, sfloat, version WITH unaccent, simple;
	END IF;
END
$repokit$;
-- +goose StatementEnd
ALTER TABLE "products" ADD COLUMN IF NOT EXISTS "_tsv_description" tsvector GENERATED ALWAYS AS (to_tsvector('repokit_english'::regconfig, regexp_replace(coalesce("description", '') COLLATE "C.utf8", '[^[:alnum:]]+', ' ', 'g'))) STORED;
-- +goose StatementBegin
DO $repokit$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('"products_description_search"') AND NOT indisvalid) THEN
		DROP INDEX "products_description_search";
	END IF;
END
$repokit$;
-- +goose StatementEnd
CREATE INDEX CONCURRENTLY IF NOT EXISTS "products_description_search" ON "products" USING gin ("_tsv_description");
