-- repokit migration 00001_baseline (PostgreSQL), planned by repokit migrate diff and applied with goose.
--   Customer: add record
--   Product: add record
--   Order: add record

-- +goose Up
CREATE TABLE IF NOT EXISTS "customers" (
	"id" uuid NOT NULL,
	"email" text COLLATE "C" NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"tier" text COLLATE "C" DEFAULT 'free',
	"tags" text[] COLLATE "C",
	"signed_up" timestamp with time zone NOT NULL,
	"active" boolean NOT NULL,
	"credit" double precision,
	"repokit_version" bigint NOT NULL,
	CONSTRAINT "customers_pkey" PRIMARY KEY ("id"),
	CONSTRAINT "customers_tier_check" CHECK ("tier" IN ('free', 'silver', 'gold'))
);
CREATE UNIQUE INDEX IF NOT EXISTS "customers_email_key" ON "customers" ("email");
CREATE INDEX IF NOT EXISTS "customers_name_idx" ON "customers" ("name");
ALTER TABLE "customers" ALTER COLUMN "tier" SET DEFAULT 'free';
CREATE TABLE IF NOT EXISTS "products" (
	"sku" text COLLATE "C" NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"description" text COLLATE "C",
	"price" double precision NOT NULL,
	"stock" bigint NOT NULL,
	"status" text COLLATE "C" DEFAULT 'draft',
	"categories" text[] COLLATE "C",
	"ratings" bigint[],
	"attributes" json,
	"thumbnail" bytea,
	"updated_at" timestamp with time zone,
	"repokit_version" bigint NOT NULL,
	CONSTRAINT "products_pkey" PRIMARY KEY ("sku"),
	CONSTRAINT "products_status_check" CHECK ("status" IN ('draft', 'active', 'discontinued')),
	CONSTRAINT "products_categories_check" CHECK ("categories" <@ ARRAY['books', 'games', 'music', 'toys']::text[])
);
CREATE INDEX IF NOT EXISTS "products_name_idx" ON "products" ("name");
ALTER TABLE "products" ALTER COLUMN "status" SET DEFAULT 'draft';
CREATE TABLE IF NOT EXISTS "orders" (
	"id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"status" text COLLATE "C" NOT NULL,
	"skus" text[] COLLATE "C",
	"total" double precision NOT NULL,
	"items" bigint NOT NULL,
	"placed_at" timestamp with time zone NOT NULL,
	"notes" text COLLATE "C",
	"gift" boolean,
	"repokit_version" bigint NOT NULL,
	CONSTRAINT "orders_pkey" PRIMARY KEY ("id"),
	CONSTRAINT "orders_status_check" CHECK ("status" IN ('pending', 'paid', 'shipped', 'cancelled'))
);
CREATE INDEX IF NOT EXISTS "orders_customer_id_idx" ON "orders" ("customer_id");
