package drivertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/repokit/repokit/runtime/backends/drivertest/things"
	"github.com/repokit/repokit/runtime/repo"
)

// The unique cases use Member, whose email (required), nick and seat (optional, a string and
// an int) are unique: a present value may be held by one record at a time, a missing one by
// any number. A write that would give a second record a taken value fails with
// ErrAlreadyExists and changes nothing; its message names the field.
func testUnique(t *testing.T, h Harness) {
	t.Run("Create", func(t *testing.T) { testUniqueCreate(t, h) })
	t.Run("Update", func(t *testing.T) { testUniqueUpdate(t, h) })
	t.Run("Upsert", func(t *testing.T) { testUniqueUpsert(t, h) })
	t.Run("Freed", func(t *testing.T) { testUniqueFreed(t, h) })
	t.Run("CreateBatch", func(t *testing.T) { testUniqueCreateBatch(t, h) })
	t.Run("Missing", func(t *testing.T) { testUniqueMissing(t, h) })
	t.Run("Concurrent", func(t *testing.T) { testUniqueConcurrent(t, h) })
	t.Run("FieldInMessage", func(t *testing.T) { testUniqueFieldInMessage(t, h) })
}

// wantTaken fails the test unless err is ErrAlreadyExists. (Which field the message names is
// testUniqueFieldInMessage's concern.)
func wantTaken(t *testing.T, what string, err error) {
	t.Helper()
	wantErr(t, what, err, repo.ErrAlreadyExists)
}

// wantNamed fails the test unless err is ErrAlreadyExists with a *repo.UniqueError naming the
// field and, when earlier is not "", the record of the same batch that took the value first
// (else a stored record holds it), and unless its message ends in that error's message: one
// shape on every backend.
func wantNamed(t *testing.T, what string, err error, field, earlier string) {
	t.Helper()
	wantErr(t, what, err, repo.ErrAlreadyExists)
	if err == nil {
		return
	}
	want := &repo.UniqueError{Field: field, Earlier: earlier}
	var ue *repo.UniqueError
	switch {
	case !errors.As(err, &ue):
		t.Errorf("%s: error %q has no *repo.UniqueError naming the unique field %s", what, err, field)
	case ue.Field != field || ue.Earlier != earlier || ue.Pending != 0:
		t.Errorf("%s: error %q is about field %s, earlier record %q (pending %v); want field %s, earlier record %q",
			what, err, ue.Field, ue.Earlier, ue.Pending, field, earlier)
	case !strings.HasSuffix(err.Error(), ": "+repo.ErrAlreadyExists.Error()+": "+want.Error()):
		t.Errorf("%s: error %q does not end in %q", what, err, repo.ErrAlreadyExists.Error()+": "+want.Error())
	}
}

// wantMembers fails the test unless the stored members are exactly want (id → email).
func wantMembers(ctx context.Context, t *testing.T, r repo.Repository[things.Member], want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, m := range find(ctx, t, r, things.MemberQuery()) {
		got[m.ID] = m.Email
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stored members, id → email (-want +got):\n%s", d)
	}
	if n := count(ctx, t, r, things.MemberQuery()); n != int64(len(want)) {
		t.Errorf("Count = %d, want %d", n, len(want))
	}
}

// holderA returns a member holding a value in every unique field; takeFromA lists, per
// field, how to give another record A's value.
func holderA() things.Member {
	return things.Member{ID: "a", Email: "a@x", Nick: ptr("al"), Seat: ptr[int64](1)}
}

var takeFromA = []struct {
	field string
	set   func(*things.Member)
}{
	{"email", func(m *things.Member) { m.Email = "a@x" }},
	{"nick", func(m *things.Member) { m.Nick = ptr("al") }},
	{"seat", func(m *things.Member) { m.Seat = ptr[int64](1) }},
}

func create(ctx context.Context, t *testing.T, r repo.Repository[things.Member], m things.Member) things.Member {
	t.Helper()
	out, err := r.Create(ctx, m)
	if err != nil {
		t.Fatalf("Create %s (%s): %v", m.ID, m.Email, err)
	}
	return out
}

func testUniqueCreate(t *testing.T, h Harness) {
	ctx, r := makeMembers(t, h)
	create(ctx, t, r, holderA())

	_, err := r.Create(ctx, things.Member{ID: "b", Email: "a@x"})
	wantTaken(t, "Create with a taken email", err)
	_, err = r.Create(ctx, things.Member{ID: "b", Email: "b@x", Nick: ptr("al")})
	wantTaken(t, "Create with a taken nick", err)
	_, err = r.Create(ctx, things.Member{ID: "b", Email: "b@x", Seat: ptr[int64](1)})
	wantTaken(t, "Create with a taken seat", err)
	// Values are compared exactly: another case or another number is another value.
	create(ctx, t, r, things.Member{ID: "c", Email: "A@x", Nick: ptr("Al"), Seat: ptr[int64](-1)})
	// A taken id is ErrAlreadyExists too, whether or not the values are free.
	_, err = r.Create(ctx, things.Member{ID: "a", Email: "a@x"})
	wantErr(t, "Create of a taken id with its own email", err, repo.ErrAlreadyExists)
	_, err = r.Create(ctx, things.Member{ID: "a", Email: "new@x"})
	wantErr(t, "Create of a taken id with a free email", err, repo.ErrAlreadyExists)
	wantMembers(ctx, t, r, map[string]string{"a": "a@x", "c": "A@x"})
	// The failed creates took nothing: their free values are still free.
	create(ctx, t, r, things.Member{ID: "d", Email: "b@x"})
	create(ctx, t, r, things.Member{ID: "e", Email: "new@x"})
}

func testUniqueUpdate(t *testing.T, h Harness) {
	ctx, r := makeMembers(t, h)
	a := create(ctx, t, r, holderA())
	b := create(ctx, t, r, things.Member{ID: "b", Email: "b@x"})

	for _, c := range takeFromA {
		b2 := b
		c.set(&b2)
		_, err := r.Update(ctx, b2)
		wantTaken(t, "Update to a taken "+c.field, err)
		_, err = r.Update(ctx, b2, repo.IfVersion(b.RecordVersion))
		wantTaken(t, "Update with IfVersion to a taken "+c.field, err)
	}
	b2 := b
	b2.Email = "a@x"
	_, err := r.Update(ctx, b2, repo.IfVersion(a.RecordVersion))
	wantErr(t, "Update with a stale version to a taken email", err, repo.ErrVersionConflict)
	_, err = r.Update(ctx, things.Member{ID: "nobody", Email: "a@x"})
	wantErr(t, "Update of a missing record to a taken email", err, repo.ErrNotFound)
	got, err := r.Get(ctx, "b")
	if err != nil || got.Email != "b@x" || got.Nick != nil || got.Seat != nil || got.RecordVersion != b.RecordVersion {
		t.Errorf("after the failed updates, b = %+v, %v; want it unchanged", got, err)
	}

	// A record keeps its own values through updates of its other fields.
	a.Name = ptr("renamed")
	a, err = r.Update(ctx, a, repo.IfVersion(a.RecordVersion))
	if err != nil {
		t.Fatalf("Update keeping its own unique values: %v", err)
	}
	// b takes free values.
	b.Email, b.Nick, b.Seat = "b2@x", ptr("bo"), ptr[int64](2)
	if _, err := r.Update(ctx, b); err != nil {
		t.Errorf("Update to free values: %v", err)
	}
	wantMembers(ctx, t, r, map[string]string{"a": "a@x", "b": "b2@x"})
	_, err = r.Create(ctx, things.Member{ID: "c", Email: "c@x", Nick: ptr("bo")})
	wantTaken(t, "Create with the nick b took by an Update", err)
}

func testUniqueUpsert(t *testing.T, h Harness) {
	ctx, r := makeMembers(t, h)
	a := create(ctx, t, r, things.Member{ID: "a", Email: "a@x", Nick: ptr("al")})
	b := create(ctx, t, r, things.Member{ID: "b", Email: "b@x"})

	_, err := r.Upsert(ctx, things.Member{ID: "new", Email: "a@x"})
	wantTaken(t, "Upsert of a new record with a taken email", err)
	_, err = r.Upsert(ctx, things.Member{ID: "new", Email: "new@x", Nick: ptr("al")})
	wantTaken(t, "Upsert of a new record with a taken nick", err)
	b2 := b
	b2.Email = "a@x"
	_, err = r.Upsert(ctx, b2)
	wantTaken(t, "Upsert of a stored record to a taken email", err)
	wantMembers(ctx, t, r, map[string]string{"a": "a@x", "b": "b@x"})

	// Upsert keeping its own values, and to free ones.
	a.Name = ptr("renamed")
	if _, err := r.Upsert(ctx, a); err != nil {
		t.Errorf("Upsert keeping its own values: %v", err)
	}
	b.Nick = ptr("bo")
	if _, err := r.Upsert(ctx, b); err != nil {
		t.Errorf("Upsert to a free nick: %v", err)
	}
	if _, err := r.Upsert(ctx, things.Member{ID: "new", Email: "new@x"}); err != nil {
		t.Errorf("Upsert of a new record with free values: %v", err)
	}
	_, err = r.Upsert(ctx, things.Member{ID: "other", Email: "new@x"})
	wantTaken(t, "Upsert of a new record with the email an Upsert took", err)
	wantMembers(ctx, t, r, map[string]string{"a": "a@x", "b": "b@x", "new": "new@x"})
}

// A value freed by a Delete or by an Update to another value is free at once, for every way
// of writing it; the record that freed it cannot take it back once another record has.
func testUniqueFreed(t *testing.T, h Harness) {
	ctx, r := makeMembers(t, h)
	a := create(ctx, t, r, things.Member{ID: "a", Email: "a@x", Seat: ptr[int64](7)})
	b := create(ctx, t, r, things.Member{ID: "b", Email: "b@x", Nick: ptr("bo")})
	create(ctx, t, r, things.Member{ID: "c", Email: "c@x", Nick: ptr("cy")})

	// Freed by Update, taken by Create.
	a.Email, a.Seat = "a2@x", nil
	a, err := r.Update(ctx, a)
	if err != nil {
		t.Fatalf("Update to a free email: %v", err)
	}
	create(ctx, t, r, things.Member{ID: "d", Email: "a@x", Seat: ptr[int64](7)})
	// The old value is no longer the record's own.
	a.Email = "a@x"
	_, err = r.Update(ctx, a)
	wantTaken(t, "Update back to an email taken since it was freed", err)

	// Freed by Delete, taken by Update.
	if err := r.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	a.Email, a.Nick = "a2@x", ptr("bo")
	if _, err := r.Update(ctx, a); err != nil {
		t.Errorf("Update to a nick freed by a Delete: %v", err)
	}
	_, err = r.Create(ctx, things.Member{ID: "b", Email: b.Email, Nick: b.Nick})
	wantTaken(t, "re-Create of a deleted record whose nick was taken since", err)

	// Freed by Delete, taken by Upsert of a new record.
	if err := r.Delete(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Upsert(ctx, things.Member{ID: "e", Email: "c@x", Nick: ptr("cy")}); err != nil {
		t.Errorf("Upsert with an email and nick freed by a Delete: %v", err)
	}
	// Freed by an Update that drops an optional value, taken by CreateBatch.
	d, err := r.Get(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	d.Seat = nil
	if _, err := r.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	res, err := r.CreateBatch(ctx, []things.Member{{ID: "f", Email: "f@x", Seat: ptr[int64](7)}})
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Errorf("CreateBatch with a seat freed by an Update: %v, %+v", err, res)
	}
	wantMembers(ctx, t, r, map[string]string{"a": "a2@x", "d": "a@x", "e": "c@x", "f": "f@x"})
}

func testUniqueCreateBatch(t *testing.T, h Harness) {
	ctx, r := makeMembers(t, h)
	create(ctx, t, r, things.Member{ID: "a", Email: "a@x", Nick: ptr("al")})

	batch := []things.Member{
		{ID: "c", Email: "c@x"},                  // 0: stored
		{ID: "d", Email: "c@x"},                  // 1: email of an earlier record of the batch
		{ID: "e", Email: "a@x"},                  // 2: email of a stored record
		{ID: "a", Email: "z@x"},                  // 3: taken id: does not take its email
		{ID: "f", Email: "z@x"},                  // 4: stored (z@x is free: 3 failed)
		{ID: "g", Email: "g@x", Nick: ptr("gi")}, // 5: stored
		{ID: "h", Email: "h@x", Nick: ptr("gi")}, // 6: nick of an earlier record of the batch
		{ID: "i", Email: "i@x", Nick: ptr("al")}, // 7: nick of a stored record
		{ID: "j", Email: "j@x", Seat: ptr[int64](3)},
		{ID: "k", Email: "k@x", Seat: ptr[int64](3)}, // 9: seat of an earlier record
	}
	want := []string{"", "email", "email", "id", "", "", "nick", "nick", "", "seat"}
	res, err := r.CreateBatch(ctx, batch)
	if err != nil {
		t.Fatalf("CreateBatch: %v", err)
	}
	if len(res) != len(batch) {
		t.Fatalf("CreateBatch returned %d results for %d records", len(res), len(batch))
	}
	for i, field := range want {
		what := fmt.Sprintf("CreateBatch item %d (%s, %s)", i, batch[i].ID, batch[i].Email)
		if res[i].ID != batch[i].ID {
			t.Errorf("%s: result for id %q", what, res[i].ID)
		}
		switch field {
		case "":
			if res[i].Err != nil || res[i].Version == "" {
				t.Errorf("%s: %v (version %q), want it stored", what, res[i].Err, res[i].Version)
			}
		case "id":
			wantErr(t, what, res[i].Err, repo.ErrAlreadyExists)
		default:
			wantTaken(t, what, res[i].Err)
		}
	}
	wantMembers(ctx, t, r, map[string]string{"a": "a@x", "c": "c@x", "f": "z@x", "g": "g@x", "j": "j@x"})

	// A batch of only taken values stores nothing and is not an error as a whole; the values
	// its failed records carried stay free.
	res, err = r.CreateBatch(ctx, []things.Member{{ID: "l", Email: "c@x", Nick: ptr("free")}, {ID: "m", Email: "m@x", Nick: ptr("gi")}})
	if err != nil || len(res) != 2 {
		t.Fatalf("all-failing batch: %v, %+v", err, res)
	}
	wantTaken(t, "all-failing batch, item 0", res[0].Err)
	wantTaken(t, "all-failing batch, item 1", res[1].Err)
	create(ctx, t, r, things.Member{ID: "l", Email: "m@x", Nick: ptr("free")})

	// A larger batch (backends may send those another way): item 5 meets a stored email,
	// item 12 the seat of item 3.
	big := make([]things.Member, 20)
	for i := range big {
		big[i] = things.Member{ID: fmt.Sprintf("n%02d", i), Email: fmt.Sprintf("n%02d@x", i), Seat: ptr(int64(100 + i))}
	}
	big[5].Email = "a@x"
	big[12].Seat = ptr[int64](103)
	res, err = r.CreateBatch(ctx, big)
	if err != nil || len(res) != len(big) {
		t.Fatalf("CreateBatch of %d: %v, %d results", len(big), err, len(res))
	}
	for i := range big {
		if i == 5 || i == 12 {
			wantTaken(t, fmt.Sprintf("CreateBatch of %d, item %d", len(big), i), res[i].Err)
		} else if res[i].Err != nil {
			t.Errorf("CreateBatch of %d, item %d: %v", len(big), i, res[i].Err)
		}
	}
	if n := count(ctx, t, r, things.MemberQuery().Where(things.MemberFields.Seat.GTE(100))); n != int64(len(big)-2) {
		t.Errorf("CreateBatch of %d stored %d records, want %d", len(big), n, len(big)-2)
	}
}

// Missing values never collide, in any field and with any write; present ones still do.
func testUniqueMissing(t *testing.T, h Harness) {
	ctx, r := makeMembers(t, h)
	for _, id := range []string{"a", "b"} {
		create(ctx, t, r, things.Member{ID: id, Email: id + "@x"})
	}
	res, err := r.CreateBatch(ctx, []things.Member{{ID: "c", Email: "c@x"}, {ID: "d", Email: "d@x"}})
	if err != nil || len(res) != 2 || res[0].Err != nil || res[1].Err != nil {
		t.Errorf("CreateBatch of records without nick and seat: %v, %+v", err, res)
	}
	if _, err := r.Upsert(ctx, things.Member{ID: "e", Email: "e@x"}); err != nil {
		t.Errorf("Upsert without nick and seat: %v", err)
	}
	// Dropping a value leaves a missing one, which collides with none of the others.
	f := create(ctx, t, r, things.Member{ID: "f", Email: "f@x", Nick: ptr("fi"), Seat: ptr[int64](0)})
	f.Nick, f.Seat = nil, nil
	if _, err := r.Update(ctx, f); err != nil {
		t.Errorf("Update dropping nick and seat: %v", err)
	}
	// Zero is a value, not a missing one: the first 0 takes it, as does the empty string.
	create(ctx, t, r, things.Member{ID: "g", Email: "g@x", Nick: ptr(""), Seat: ptr[int64](0)})
	_, err = r.Create(ctx, things.Member{ID: "h", Email: "h@x", Seat: ptr[int64](0)})
	wantTaken(t, "Create with a taken seat 0", err)
	_, err = r.Create(ctx, things.Member{ID: "h", Email: "h@x", Nick: ptr("")})
	wantTaken(t, "Create with a taken empty nick", err)
	for _, q := range []struct {
		what string
		n    int64
		got  int64
	}{
		{"without a nick", 6, count(ctx, t, r, things.MemberQuery().Where(things.MemberFields.Nick.NotExists()))},
		{"without a seat", 6, count(ctx, t, r, things.MemberQuery().Where(things.MemberFields.Seat.NotExists()))},
	} {
		if q.got != q.n {
			t.Errorf("members %s: %d, want %d", q.what, q.got, q.n)
		}
	}
	wantMembers(ctx, t, r, map[string]string{"a": "a@x", "b": "b@x", "c": "c@x", "d": "d@x", "e": "e@x", "f": "f@x", "g": "g@x"})
}

// Concurrent writers of one value: exactly one wins, the others get ErrAlreadyExists, for
// Create (new records) and for Update (stored records taking the value).
func testUniqueConcurrent(t *testing.T, h Harness) {
	const writers = 8
	ctx, r := makeMembers(t, h)
	race := func(what string, write func(i int) error) []string {
		t.Helper()
		errs := make([]error, writers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = write(i)
			}()
		}
		close(start)
		wg.Wait()
		var winners []string
		for i, err := range errs {
			if err == nil {
				winners = append(winners, fmt.Sprintf("w%d", i))
			} else {
				wantTaken(t, fmt.Sprintf("%s, writer %d", what, i), err)
			}
		}
		if len(winners) != 1 {
			t.Errorf("%s: %d writers won (%v), want exactly one", what, len(winners), winners)
		}
		return winners
	}

	winners := race("concurrent Create", func(i int) error {
		_, err := r.Create(ctx, things.Member{ID: fmt.Sprintf("w%d", i), Email: "same@x"})
		return err
	})
	got := find(ctx, t, r, things.MemberQuery().Where(things.MemberFields.Email.EQ("same@x")))
	if ids := memberIDs(got); !slices.Equal(ids, winners) {
		t.Errorf("records holding the email after concurrent Creates: %v, want the winner %v", ids, winners)
	}

	// Writers that lost hold nothing: each can be stored with a value of its own.
	seedMembers := make([]things.Member, 0, writers)
	for i := range writers {
		if id := fmt.Sprintf("w%d", i); !slices.Contains(winners, id) {
			seedMembers = append(seedMembers, things.Member{ID: id, Email: id + "@x"})
		}
	}
	seed(ctx, t, r, seedMembers)

	// Every record moves to one free value at once.
	winners = race("concurrent Update", func(i int) error {
		_, err := r.Update(ctx, things.Member{ID: fmt.Sprintf("w%d", i), Email: "other@x"})
		return err
	})
	got = find(ctx, t, r, things.MemberQuery().Where(things.MemberFields.Email.EQ("other@x")))
	if ids := memberIDs(got); !slices.Equal(ids, winners) {
		t.Errorf("records holding the email after concurrent Updates: %v, want the winner %v", ids, winners)
	}
	if n := count(ctx, t, r, things.MemberQuery()); n != writers {
		t.Errorf("Count = %d, want %d", n, writers)
	}
}

func memberIDs(recs []things.Member) []string {
	out := make([]string, len(recs))
	for i := range recs {
		out[i] = recs[i].ID
	}
	return out
}

// The error of every kind of write that meets a taken value names the field, so that a caller
// can tell the user which value to change (and a taken value from a taken id).
func testUniqueFieldInMessage(t *testing.T, h Harness) {
	// open returns a repository holding A and a record b.
	open := func(t *testing.T) (context.Context, repo.Repository[things.Member]) {
		t.Helper()
		ctx, r := makeMembers(t, h)
		create(ctx, t, r, holderA())
		create(ctx, t, r, things.Member{ID: "b", Email: "b@x"})
		return ctx, r
	}
	// with returns a record of the id with values of its own, changed by set.
	with := func(id string, set func(*things.Member)) things.Member {
		m := things.Member{ID: id, Email: id + "@x"}
		set(&m)
		return m
	}
	t.Run("Create", func(t *testing.T) {
		ctx, r := open(t)
		for _, f := range takeFromA {
			_, err := r.Create(ctx, with("new", f.set))
			wantNamed(t, "Create with a taken "+f.field, err, f.field, "")
		}
	})
	t.Run("CreateBatch", func(t *testing.T) {
		ctx, r := open(t)
		for _, f := range takeFromA {
			// Item 0 meets a stored record's value, item 2 the value of item 1.
			res, err := r.CreateBatch(ctx, []things.Member{with("new", f.set), {ID: "c", Email: "c@x"}, with("d", func(m *things.Member) { m.Email = "c@x" })})
			if err != nil || len(res) != 3 {
				t.Fatalf("CreateBatch: %v, %+v", err, res)
			}
			wantNamed(t, "CreateBatch item with a stored record's "+f.field, res[0].Err, f.field, "")
			wantNamed(t, "CreateBatch item with an earlier item's email", res[2].Err, "email", "c")
			if err := r.Delete(ctx, "c"); err != nil {
				t.Fatal(err)
			}
		}
		// The same in a larger batch (backends may send those another way).
		big := make([]things.Member, 20)
		for i := range big {
			big[i] = things.Member{ID: fmt.Sprintf("n%02d", i), Email: fmt.Sprintf("n%02d@x", i)}
		}
		big[5].Nick = ptr("al")
		big[12].Email = "n03@x"
		res, err := r.CreateBatch(ctx, big)
		if err != nil || len(res) != len(big) {
			t.Fatalf("CreateBatch of %d: %v, %d results", len(big), err, len(res))
		}
		wantNamed(t, "CreateBatch of 20, item with a stored record's nick", res[5].Err, "nick", "")
		wantNamed(t, "CreateBatch of 20, item with an earlier item's email", res[12].Err, "email", "n03")
	})
	t.Run("Update", func(t *testing.T) {
		ctx, r := open(t)
		for _, f := range takeFromA {
			_, err := r.Update(ctx, with("b", f.set))
			wantNamed(t, "Update to a taken "+f.field, err, f.field, "")
		}
	})
	t.Run("Upsert", func(t *testing.T) {
		ctx, r := open(t)
		for _, f := range takeFromA {
			_, err := r.Upsert(ctx, with("b", f.set))
			wantNamed(t, "Upsert of a stored record to a taken "+f.field, err, f.field, "")
			_, err = r.Upsert(ctx, with("new", f.set))
			wantNamed(t, "Upsert of a new record with a taken "+f.field, err, f.field, "")
		}
	})
}
