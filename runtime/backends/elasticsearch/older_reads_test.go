package elasticsearch_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/backends/elasticsearch"
	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/repo"
)

// docReads counts the reads of documents of an index through it (GET <index>/_doc/<id>,
// <index>/_mget), and runs between (once, when set) after the next one is answered.
type docReads struct {
	next    http.RoundTripper
	index   string
	n       atomic.Int64
	between atomic.Pointer[func()]
}

func (g *docReads) RoundTrip(r *http.Request) (*http.Response, error) {
	get := r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/"+g.index+"/_doc/")
	if !get && r.URL.Path != "/"+g.index+"/_mget" {
		return g.next.RoundTrip(r)
	}
	g.n.Add(1)
	res, err := g.next.RoundTrip(r)
	if f := g.between.Swap(nil); f != nil {
		(*f)()
	}
	return res, err
}

// TestMigrateOlderCodeOneRead checks that a driver of older code on a newer cluster reads a
// document once per write: the source it merges into the write is the one whose version
// the write is conditional on (Update without a version read the document twice before:
// once for the version, once for the source), and what only newer code knows is kept, also
// when a write of newer code gets in between the read and the write. With sku unique in both
// versions the writes take the path of records with unique fields (writeUnique), which
// reads the document once too.
func TestMigrateOlderCodeOneRead(t *testing.T) {
	t.Run("plain", func(t *testing.T) { checkOneRead(t, false) })
	t.Run("unique", func(t *testing.T) { checkOneRead(t, true) })
}

// checkOneRead is TestMigrateOlderCodeOneRead with sku unique or not.
func checkOneRead(t *testing.T, unique bool) {
	e := newMigEnv(t)
	desc1, desc2 := item1Desc, item2nDesc
	var dirs []fstest.MapFS
	if unique {
		desc1, desc2 = recordtest.MustNew[item1]("Item", recordtest.Tag("Sku", ",unique")), item3Desc
		v1 := e.v1.Clone()
		v1.Records[0].Field("sku").Unique = true
		v2 := v1.Clone()
		v2.Records[0].Fields = append(v2.Records[0].Fields, migrate.Field{Name: "note", Type: "string"})
		dirs = history(t, false, v1, v2)
		if _, err := e.migrator(t, dirs[1]).Apply(e.ctx); err != nil {
			t.Fatal(err)
		}
	} else {
		loadItems(t, e, e.v1Repo(t), 3)
		dirs = e.addFields(t, migrate.Field{Name: "note", Type: "string"})
	}
	r2 := mustOpenAt(t, e, desc2, dirs[1])
	by := func(id, how string) item1 { return item1{ID: id, Name: how, Sku: "s-" + id, Label: "l"} }
	for _, id := range []string{"k1", "k2", "k3", "k4", "k5"} {
		if _, err := r2.Create(e.ctx, item3{item1: by(id, "n"), Note: ptr("only v2 knows")}); err != nil {
			t.Fatal(err)
		}
	}
	d1, err := elasticsearch.New(e.ctx, e.m, e.cfg, desc1, elasticsearch.WithIndex(e.index),
		elasticsearch.WithMigrations(e.pkg, dirs[0]), elasticsearch.WithMigrationStateIndex(e.state))
	if err != nil {
		t.Fatal(err)
	}
	defer d1.Close()
	reads := &docReads{index: e.index}
	if err := elasticsearch.WrapTransport(e.ctx, d1, e.cfg, func(next http.RoundTripper) http.RoundTripper {
		reads.next = next
		return reads
	}); err != nil {
		t.Fatal(err)
	}
	r1 := repo.New(desc1, d1)
	k3, err := r1.Get(e.ctx, "k3")
	if err != nil {
		t.Fatal(err)
	}
	// Between the read of k4 and the write, version 2 writes k4 again: the write over the
	// version read is refused, read back (not this write's), and sent again from a new read,
	// which keeps the newer note.
	overtake := func() {
		if _, err := r2.Update(e.ctx, item3{item1: by("k4", "n"), Note: ptr("v2 wrote in between")}); err != nil {
			t.Errorf("the version-2 write in between: %v", err)
		}
	}
	cases := []struct {
		what  string
		id    string
		note  string // the note to keep, "" when none
		reads int64  // document reads
		call  func(rec item1) error
	}{
		{"Update", "k1", "only v2 knows", 1, func(rec item1) error { _, err := r1.Update(e.ctx, rec); return err }},
		{"Upsert", "k2", "only v2 knows", 1, func(rec item1) error { _, err := r1.Upsert(e.ctx, rec); return err }},
		{"Update with a version", "k3", "only v2 knows", 1, func(rec item1) error {
			_, err := r1.Update(e.ctx, rec, repo.IfVersion(k3.RecordVersion))
			return err
		}},
		{"Upsert of a new record", "k9", "", 1, func(rec item1) error { _, err := r1.Upsert(e.ctx, rec); return err }},
		{"Update of the sku", "k5", "only v2 knows", 1, func(rec item1) error {
			rec.Sku = "s-k5-changed"
			_, err := r1.Update(e.ctx, rec)
			return err
		}},
		// The read, the read back of the refused write, the new read.
		{"Update overtaken", "k4", "v2 wrote in between", 3, func(rec item1) error {
			reads.between.Store(&overtake)
			_, err := r1.Update(e.ctx, rec)
			return err
		}},
	}
	for _, c := range cases {
		reads.n.Store(0)
		if err := c.call(by(c.id, "v1 "+c.what)); err != nil {
			t.Fatalf("version-1 %s: %v", c.what, err)
		}
		if n := reads.n.Load(); n != c.reads {
			t.Errorf("version-1 %s read the document %d times, want %d", c.what, n, c.reads)
		}
		g, err := r2.Get(e.ctx, c.id)
		if err != nil || g.Name != "v1 "+c.what || g.Sku == "s-k5" || (g.Note == nil) != (c.note == "") || (g.Note != nil && *g.Note != c.note) {
			t.Errorf("version-2 Get %s after a version-1 %s: %+v, %v; want note %q", c.id, c.what, g, err, c.note)
		}
	}
}
