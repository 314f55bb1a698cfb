package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/repokit/repokit/runtime/backends/postgres"
	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/pool"
)

// TestEncodingNotUTF8: on a database whose encoding is not UTF8 (where LIKE's _ matches one
// byte, not one code point) New and NewWithDB fail with an *EncodingError naming the
// database and its encoding, and create no table.
func TestEncodingNotUTF8(t *testing.T) {
	cfg := testConfig(t)
	ctx := t.Context()
	admin := otherConn(t)
	name := fmt.Sprintf("repokit_ascii_%d_%d", os.Getpid(), tableSeq.Add(1))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgdialect.Quote(name)+" ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'"); err != nil {
		t.Fatalf("creating a SQL_ASCII database (the test role needs CREATEDB): %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgdialect.Quote(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	cfg.Database = name
	m := pool.New(pool.Options{})
	defer m.CloseAll(context.Background())

	check := func(what string, err error) {
		t.Helper()
		var ee *postgres.EncodingError
		switch {
		case !errors.Is(err, postgres.ErrNotUTF8):
			t.Errorf("%s on a SQL_ASCII database: %v, want ErrNotUTF8", what, err)
		case !errors.As(err, &ee) || ee.Encoding != "SQL_ASCII" || ee.Database != name:
			t.Errorf("%s: %#v, want an *EncodingError naming %s and SQL_ASCII", what, err, name)
		}
	}
	d, err := postgres.New(ctx, m, cfg, itemSchema)
	if d != nil {
		_ = d.Close()
	}
	check("New", err)
	if st := m.Stats(); len(st) != 0 {
		t.Errorf("New kept a lease on the pool: %+v", st)
	}

	pc, err := postgres.PgxConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(ctx, pc.ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	_, err = postgres.NewWithDB(ctx, conn, itemSchema, postgres.WithoutSchemaCheck())
	check("NewWithDB", err)
	t.Logf("error: %v", err)

	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('item') IS NOT NULL").Scan(&exists); err != nil || exists {
		t.Errorf("table created on a database that is refused: %v, %v", exists, err)
	}
	// Why: in SQL_ASCII, _ is one byte.
	var one bool
	if err := conn.QueryRow(ctx, "SELECT 'é' LIKE '_'").Scan(&one); err == nil {
		t.Logf("SQL_ASCII: 'é' LIKE '_' is %v", one)
	}
}
