package drivertest

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

func testInvalidInput(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	bad := func(field string, mod func(*things.Thing)) (string, things.Thing) {
		x := fullThing("bad-" + field)
		mod(&x)
		return field, x
	}
	cases := []struct {
		field string
		rec   things.Thing
	}{}
	add := func(f string, x things.Thing) {
		cases = append(cases, struct {
			field string
			rec   things.Thing
		}{f, x})
	}
	add(bad("id", func(x *things.Thing) { x.ID = "" }))
	add(bad("id", func(x *things.Thing) { x.ID = "a\x00b" }))
	add(bad("id", func(x *things.Thing) { x.ID = "a\xffb" }))
	add(bad("kind", func(x *things.Thing) { x.Kind = ptr(things.ThingKind("zzz")) }))
	add(bad("kind", func(x *things.Thing) { x.Kind = ptr(things.ThingKind("A")) }))
	add(bad("levels", func(x *things.Thing) { x.Levels = []things.ThingLevel{"low", "bogus"} }))
	add(bad("ratio", func(x *things.Thing) { x.Ratio = math.NaN() }))
	add(bad("ratio", func(x *things.Thing) { x.Ratio = math.Inf(-1) }))
	add(bad("score", func(x *things.Thing) { x.Score = ptr(math.Inf(1)) }))
	add(bad("name", func(x *things.Thing) { x.Name = "bad \xff utf8" }))
	add(bad("name", func(x *things.Thing) { x.Name = "nul\x00inside" }))
	add(bad("title", func(x *things.Thing) { x.Title = ptr("\x00") }))
	add(bad("body", func(x *things.Thing) { x.Body = ptr("\xc3") }))
	add(bad("tags", func(x *things.Thing) { x.Tags = []string{"ok", "a\x00"} }))
	add(bad("code", func(x *things.Thing) { x.Code = ptr("not-a-uuid") }))
	add(bad("code", func(x *things.Thing) { x.Code = ptr("0190A6C4-1B2C-7D3E-8F40-123456789ABC") }))
	add(bad("code", func(x *things.Thing) { x.Code = ptr("") }))
	add(bad("meta", func(x *things.Thing) { x.Meta = json.RawMessage(`{"unterminated":`) }))
	for _, c := range cases {
		_, err := r.Create(ctx, c.rec)
		what := "Create with a bad " + c.field
		wantErr(t, what, err, repo.ErrInvalidInput)
		if err != nil && !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: error %q does not name the field", what, err)
		}
		if err != nil && strings.Contains(err.Error(), "query") {
			t.Errorf("%s: error %q calls the write a query", what, err)
		}
		var re *repo.Error
		if err != nil && (!errors.As(err, &re) || re.Record != "Thing") {
			t.Errorf("%s: error %#v is not a *repo.Error for Thing", what, err)
		}
	}
	if n := count(ctx, t, r, things.ThingQuery()); n != 0 {
		t.Errorf("%d invalid records were stored", n)
	}

	// Bad ids in calls that take one.
	for _, id := range []string{"", "a\x00", "\xff"} {
		_, err := r.Get(ctx, id)
		wantErr(t, "Get("+id+")", err, repo.ErrInvalidInput)
		_, err = r.Exists(ctx, id)
		wantErr(t, "Exists("+id+")", err, repo.ErrInvalidInput)
		wantErr(t, "Delete("+id+")", r.Delete(ctx, id), repo.ErrInvalidInput)
		_, err = r.Update(ctx, things.Thing{ID: id, Name: "x", Created: t0})
		wantErr(t, "Update("+id+")", err, repo.ErrInvalidInput)
	}

	// An invalid Update leaves the stored record alone.
	good, err := r.Create(ctx, fullThing("good"))
	if err != nil {
		t.Fatal(err)
	}
	broken := good
	broken.Ratio = math.NaN()
	_, err = r.Update(ctx, broken)
	wantErr(t, "Update with NaN", err, repo.ErrInvalidInput)
	if got, _ := r.Get(ctx, "good"); got.RecordVersion != good.RecordVersion || got.Ratio != good.Ratio {
		t.Errorf("an invalid Update changed the record")
	}

	// UUID ids are checked on every call.
	ctxO, o := makeOthers(t, h)
	for _, id := range []string{"not-a-uuid", "0190A6C4-1B2C-7D3E-8F40-123456789ABC", "0190a6c41b2c7d3e8f40123456789abc"} {
		_, err := o.Get(ctxO, id)
		wantErr(t, "Other.Get("+id+")", err, repo.ErrInvalidInput)
		_, err = o.Create(ctxO, things.Other{ID: id, Label: "x"})
		wantErr(t, "Other.Create with id "+id, err, repo.ErrInvalidInput)
	}
}

func testInvalidQuery(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, []things.Thing{fullThing("q1"), minimalThing("q2")})
	F := things.ThingFields
	Q := things.ThingQuery
	nope := query.NewStringField[things.Thing]("nope")
	cases := []struct {
		name string
		q    query.Query[things.Thing]
		also error
	}{
		{"negative limit", Q().Limit(-1), query.ErrBadQuery},
		{"negative offset", Q().Offset(-1), query.ErrBadQuery},
		{"unknown field", Q().Where(nope.EQ("x")), query.ErrBadQuery},
		{"unknown field deep in OR", Q().Where(query.Or(F.Name.EQ("x"), query.Not(nope.Exists()))), query.ErrBadQuery},
		{"unknown sort field", Q().OrderBy(nope.Asc()), query.ErrBadQuery},
		{"unknown selected field", Q().Select(nope), query.ErrBadQuery},
		{"sort by a list", Q().OrderBy(query.NewStringField[things.Thing]("tags").Asc()), query.ErrBadQuery},
		{"sort by bytes", Q().OrderBy(query.NewStringField[things.Thing]("blob").Desc()), query.ErrBadQuery},
		{"sort by json", Q().OrderBy(query.NewStringField[things.Thing]("meta").Asc()), query.ErrBadQuery},
		{"EQ on json", Q().Where(query.NewStringField[things.Thing]("meta").EQ("x")), query.ErrBadQuery},
		{"LIKE on enum", Q().Where(query.NewStringField[things.Thing]("kind").Like("a%")), query.ErrBadQuery},
		{"LIKE on a list", Q().Where(query.NewStringField[things.Thing]("tags").Like("a%")), query.ErrBadQuery},
		{"GT on a list", Q().Where(query.NewIntField[things.Thing]("nums").GT(1)), query.ErrBadQuery},
		{"int operand on a string", Q().Where(query.NewIntField[things.Thing]("name").EQ(1)), query.ErrBadQuery},
		{"string operand on an int", Q().Where(query.NewStringField[things.Thing]("rank").IN("1")), query.ErrBadQuery},
		{"NaN operand", Q().Where(F.Score.EQ(math.NaN())), query.ErrBadValue},
		{"infinite operand", Q().Where(F.Ratio.Between(0, math.Inf(1))), query.ErrBadValue},
		{"NUL in operand", Q().Where(F.Name.IN("ok", "a\x00")), query.ErrBadValue},
		{"invalid UTF-8 operand", Q().Where(F.Title.NEQ("\xff")), query.ErrBadValue},
		{"invalid UTF-8 prefix", Q().Where(F.Title.StartsWith("\xff")), query.ErrBadValue},
	}
	for _, c := range cases {
		_, err := r.Find(ctx, c.q)
		wantErr(t, "Find: "+c.name, err, repo.ErrInvalidInput, c.also)
		_, err = r.Page(ctx, c.q, "")
		wantErr(t, "Page: "+c.name, err, repo.ErrInvalidInput, c.also)
		var serr error
		n := 0
		for _, err := range r.Stream(ctx, c.q) {
			n++
			serr = err
			if err != nil {
				break
			}
		}
		if n != 1 {
			t.Errorf("Stream: %s: yielded %d items, want just the error", c.name, n)
		}
		wantErr(t, "Stream: "+c.name, serr, repo.ErrInvalidInput, c.also)
	}
	// Count checks the filter (and the query's own errors).
	for _, c := range cases[2:5] {
		_, err := r.Count(ctx, c.q)
		wantErr(t, "Count: "+c.name, err, repo.ErrInvalidInput, c.also)
	}
	_, err := r.Page(ctx, Q().Offset(1), "")
	wantErr(t, "Page with an offset", err, repo.ErrInvalidInput)
}

func testClosed(t *testing.T, h Harness) {
	ctx, r := makeThings(t, h)
	seed(ctx, t, r, []things.Thing{fullThing("c1")})
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err := r.Create(ctx, fullThing("c2"))
	wantErr(t, "Create after Close", err, repo.ErrClosed)
	_, err = r.CreateBatch(ctx, []things.Thing{fullThing("c3")})
	wantErr(t, "CreateBatch after Close", err, repo.ErrClosed)
	_, err = r.Get(ctx, "c1")
	wantErr(t, "Get after Close", err, repo.ErrClosed)
	_, err = r.Update(ctx, fullThing("c1"))
	wantErr(t, "Update after Close", err, repo.ErrClosed)
	_, err = r.Upsert(ctx, fullThing("c1"))
	wantErr(t, "Upsert after Close", err, repo.ErrClosed)
	wantErr(t, "Delete after Close", r.Delete(ctx, "c1"), repo.ErrClosed)
	_, err = r.Exists(ctx, "c1")
	wantErr(t, "Exists after Close", err, repo.ErrClosed)
	_, err = r.Find(ctx, things.ThingQuery())
	wantErr(t, "Find after Close", err, repo.ErrClosed)
	_, err = r.Count(ctx, things.ThingQuery())
	wantErr(t, "Count after Close", err, repo.ErrClosed)
	_, err = r.Page(ctx, things.ThingQuery(), "")
	wantErr(t, "Page after Close", err, repo.ErrClosed)
	var serr error
	for _, err := range r.Stream(ctx, things.ThingQuery()) {
		serr = err
		break
	}
	wantErr(t, "Stream after Close", serr, repo.ErrClosed)
}
