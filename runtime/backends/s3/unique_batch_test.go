package s3_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/repo"
)

// TestUniqueBatchWrites checks the batch writes' unique values: UpsertMany and UpdateMany
// give per-item results, in the batch and against stored records, and DeleteMany and
// DeleteMatching free the values of the records they delete.
func TestUniqueBatchWrites(t *testing.T) {
	ctx, d, r := newDriverFor(t, memberSchema, s3.WithConcurrency(4))
	if _, err := r.Create(ctx, member{ID: "a", Email: "a@x"}); err != nil {
		t.Fatal(err)
	}
	upsert := func(recs []member, vers []string) []repo.Result {
		t.Helper()
		res := make([]repo.Result, len(recs))
		if err := d.UpsertMany(ctx, recs, vers, res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := upsert([]member{
		{ID: "b", Email: "b@x"},
		{ID: "c", Email: "b@x"}, // b's, earlier in the batch
		{ID: "d", Email: "a@x"}, // a's, stored
		{ID: "a", Email: "a@x", Name: "again"},
		{ID: "e", Email: "e@x", Nick: nick("e")},
		{ID: "f", Email: "f@x", Nick: nick("e")}, // e's nick
	}, nil)
	for i, want := range []error{nil, repo.ErrAlreadyExists, repo.ErrAlreadyExists, nil, nil, repo.ErrAlreadyExists} {
		wantKind(t, fmt.Sprintf("UpsertMany[%d] (%s)", i, res[i].ID), res[i].Err, want)
	}
	if res[1].Err != nil && !strings.Contains(res[1].Err.Error(), "email") {
		t.Errorf("UpsertMany error names no field: %v", res[1].Err)
	}
	if res[5].Err != nil && !strings.Contains(res[5].Err.Error(), "nick") {
		t.Errorf("UpsertMany error names no field: %v", res[5].Err)
	}

	ures := make([]repo.Result, 4)
	err := d.UpdateMany(ctx, []member{
		{ID: "b", Email: "z@x"}, // gives up b@x
		{ID: "e", Email: "a@x"}, // a's
		{ID: "g", Email: "g@x"}, // no such record
		{ID: "h", Email: "a@x"}, // no such record, and a taken value: not found first
	}, []string{res[0].Version, "", "", ""}, ures)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []error{nil, repo.ErrAlreadyExists, repo.ErrNotFound, repo.ErrNotFound} {
		wantKind(t, fmt.Sprintf("UpdateMany[%d] (%s)", i, ures[i].ID), ures[i].Err, want)
	}

	dres := make([]repo.Result, 2)
	if err := d.DeleteMany(ctx, []string{"a", "b"}, nil, dres); err != nil || dres[0].Err != nil || dres[1].Err != nil {
		t.Fatalf("DeleteMany: %v %+v", err, dres)
	}
	res = upsert([]member{{ID: "x", Email: "a@x", Name: "del"}, {ID: "y", Email: "z@x", Name: "del"}, {ID: "z", Email: "b@x"}}, nil)
	for i := range res {
		wantKind(t, fmt.Sprintf("UpsertMany of values freed by DeleteMany [%d]", i), res[i].Err, nil)
	}
	n, err := d.DeleteMatching(ctx, query.Expr{Op: query.OpEQ, Field: "name", Args: []any{"del"}})
	if err != nil || n != 2 {
		t.Fatalf("DeleteMatching = %d, %v; want 2", n, err)
	}
	res = upsert([]member{{ID: "p", Email: "a@x"}, {ID: "q", Email: "z@x"}}, nil)
	for i := range res {
		wantKind(t, fmt.Sprintf("UpsertMany of values freed by DeleteMatching [%d]", i), res[i].Err, nil)
	}
	recs, gres := make([]member, 3), make([]repo.Result, 3)
	if err := d.GetMany(ctx, []string{"p", "q", "e"}, recs, gres); err != nil || gres[0].Err != nil || recs[1].Email != "z@x" || recs[2].Email != "e@x" {
		t.Errorf("GetMany: %v %+v %+v", err, gres, recs)
	}
}

// wantKind fails t unless err is of kind (nil: no error).
func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if kind == nil {
		if err != nil {
			t.Errorf("%s: %v, want no error", what, err)
		}
		return
	}
	if !errors.Is(err, kind) {
		t.Errorf("%s: %v, want %v", what, err, kind)
	}
}
