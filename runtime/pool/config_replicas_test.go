package pool

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestPostgresReplicas: the standbys and their lag bound come from the databases: YAML (a
// list or a comma-separated string), from a map and from the URL's replicas and
// replica_max_lag parameters, enter the identity, render in Redacted (which parses back) but
// not in the connection string pgx reads, and give one config per standby.
func TestPostgresReplicas(t *testing.T) {
	want := NewPostgresPoolConfig()
	want.Host, want.Database, want.User, want.Password = "db1", "shop", "app", "pw"
	want.Replicas = []string{"db2:5432", "[::1]:5433"}
	want.ReplicaMaxLag = 3 * time.Second

	fc, err := ParseFile("c.yaml", []byte("databases:\n  postgres:\n    host: db1\n    database: shop\n    user: app\n    password: pw\n"+
		"    replicas: [\"db2:5432\", \"[::1]:5433\"]\n    replica_max_lag: 3s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*fc.Postgres, want) {
		t.Fatalf("YAML: %#v\nwant %#v", fc.Postgres, want)
	}
	for name, m := range map[string]map[string]any{
		"url":          {"connection_string": "postgres://app:pw@db1/shop?replicas=db2:5432,%5B::1%5D:5433&replica_max_lag=3"},
		"url and keys": {"connection_string": "postgres://app:pw@db1/shop", "replicas": "db2:5432, [::1]:5433", "replica_max_lag": "3s"},
		"list":         {"host": "db1", "database": "shop", "user": "app", "password": "pw", "replicas": []any{"db2:5432", "[::1]:5433"}, "replica_max_lag": 3},
	} {
		got, err := PostgresPoolConfigFromMap(m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %#v\nwant %#v", name, got, want)
		}
	}

	if cs := want.ConnectionString(); strings.Contains(cs, "replica") {
		t.Fatalf("ConnectionString %s names the replicas: pgx would send them to the server", cs)
	}
	red := want.Redacted()
	if !strings.Contains(red, "replicas=db2%3A5432%2C%5B%3A%3A1%5D%3A5433") || !strings.Contains(red, "replica_max_lag=3s") {
		t.Fatalf("Redacted = %s", red)
	}
	back, err := PostgresPoolConfigFromMap(map[string]any{"connection_string": red})
	if err != nil || !reflect.DeepEqual(back.Replicas, want.Replicas) || back.ReplicaMaxLag != want.ReplicaMaxLag {
		t.Fatalf("Redacted does not parse back: %#v, %v", back, err)
	}

	noRep := want
	noRep.Replicas = nil
	other := want
	other.Replicas = []string{"[::1]:5433", "db2:5432"}
	lag := want
	lag.ReplicaMaxLag = time.Second
	keys := map[Key]string{want.Key(): "want"}
	for name, c := range map[string]PostgresPoolConfig{"no replicas": noRep, "other order": other, "other lag": lag} {
		if prev, ok := keys[c.Key()]; ok {
			t.Fatalf("%s has the identity of %s", name, prev)
		}
		keys[c.Key()] = name
	}

	rcs := want.ReplicaConfigs()
	if len(rcs) != 2 || rcs[0].Host != "db2" || rcs[0].Port != 5432 || rcs[1].Host != "::1" || rcs[1].Port != 5433 {
		t.Fatalf("ReplicaConfigs = %v", rcs)
	}
	for _, rc := range rcs {
		if rc.Replicas != nil || rc.ReplicaMaxLag != 0 || rc.Password != "pw" || rc.Database != "shop" || rc.Validate() != nil {
			t.Fatalf("replica config %#v", rc)
		}
	}
	if want.MaxLag() != 3*time.Second || noRep.MaxLag() != 3*time.Second || NewPostgresPoolConfig().MaxLag() != DefaultPostgresReplicaMaxLag {
		t.Fatal("MaxLag")
	}
}

func TestPostgresReplicasInvalid(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"no port", "replicas: [db2]", `c.yaml:3: databases.postgres.replicas: expected host:port, got "db2"`},
		{"bad port", "replicas: [\"db2:0\"]", `c.yaml:3: databases.postgres.replicas: invalid port in "db2:0" (want 1..65535)`},
		{"primary", "replicas: [\"localhost:5432\"]", `c.yaml:3: databases.postgres.replicas: "localhost:5432" is the primary itself`},
		{"twice", "replicas: [\"a:1\", \"a:1\"]", `c.yaml:3: databases.postgres.replicas: "a:1" is listed twice`},
		{"not a list", "replicas: 5", `c.yaml:3: databases.postgres.replicas: expected a list of strings, got 5`},
		{"negative lag", "replica_max_lag: -1", `c.yaml:3: databases.postgres.replica_max_lag: must not be negative, got -1s`},
		{"hint", "standbys: [\"a:1\"]", `c.yaml:3: databases.postgres.standbys: unknown key (use replicas)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("c.yaml", []byte("databases:\n  postgres:\n    "+tc.yaml+"\n"))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant    %s", err, tc.want)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("%v does not wrap ErrInvalidConfig", err)
			}
		})
	}
	_, err := PostgresPoolConfigFromMap(map[string]any{"connection_string": "postgres://u@h/d?replicas=h2"})
	if err == nil || !strings.Contains(err.Error(), `expected host:port, got "h2"`) {
		t.Fatalf("URL replicas=h2: %v", err)
	}
}
