package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/repo"
)

// UpdateMany and UpsertMany. Items are written with one statement per chunk of up to
// maxParams values: UPDATE ... FROM (VALUES ...) RETURNING id for updates and conditional
// upserts (the expected version NULL where there is none), INSERT ... ON CONFLICT (id) DO
// UPDATE RETURNING id for unconditional upserts. Versions are drawn as Update and Upsert
// draw them (newVersion), and an update that changed no row is explained as Update explains
// it (explainMisses).
//
// A statement the server rejects for one item (a unique value taken by another record, a
// value it does not accept) writes nothing; the chunk is then split in halves and each is
// written again, down to the items that fail, which get the error Update or Upsert would
// return (k failing items in n cost O(k log n) statements). On a transaction each statement
// runs in a savepoint.
//
// With unique fields, items of one call may depend on each other: two items giving a field
// the same value (the later one fails in a loop of single writes), or an item taking a value
// that another item of the call holds now and gives up. One statement cannot honour their
// order, so such a call is written item by item, in order, as the loop of single writes
// would (writeInOrder); bulkOrdered finds these calls, reading the stored holders of the
// values with one statement.

// UpdateMany implements repo.BatchUpdater.
func (d *Driver[T]) UpdateMany(ctx context.Context, recs []T, ifVersion []string, res []repo.Result) error {
	return d.writeMany(ctx, recs, ifVersion, res, false)
}

// UpsertMany implements repo.BatchUpserter: an item with an expected version is an update
// conditional on it (as Update with that version), the others are upserts.
func (d *Driver[T]) UpsertMany(ctx context.Context, recs []T, ifVersion []string, res []repo.Result) error {
	return d.writeMany(ctx, recs, ifVersion, res, true)
}

func (d *Driver[T]) writeMany(ctx context.Context, recs []T, ifVersion []string, res []repo.Result, upsert bool) error {
	defer d.rs.markWrite()
	if err := startBatch(ctx, func(i int) string { return d.desc.GetID(&recs[i]) }, res); err != nil || len(recs) == 0 {
		return err
	}
	if ifVersion == nil {
		ifVersion = make([]string, len(recs))
	}
	if d.uq != nil {
		ordered, err := d.bulkOrdered(ctx, recs, res)
		if err != nil {
			failPending(res, nil, err)
			return err
		}
		if ordered {
			return d.writeInOrder(ctx, recs, ifVersion, res, upsert)
		}
	}
	var upd, ups, misses []int
	want := make([]any, len(recs)) // nil, or the expected version (int64)
	for i := range recs {
		switch {
		case ifVersion[i] != "":
			w, err := strconv.ParseInt(ifVersion[i], 10, 64)
			if err != nil {
				misses = append(misses, i) // not a version this backend issues
				continue
			}
			want[i] = w
			upd = append(upd, i)
		case upsert:
			ups = append(ups, i)
		default:
			upd = append(upd, i)
		}
	}
	versions := make([]int64, len(recs))
	apply := func(part []int, got map[string]bool) {
		for _, i := range part {
			if got[res[i].ID] {
				v := strconv.FormatInt(versions[i], 10)
				res[i].Version = v
				d.desc.SetVersion(&recs[i], v)
			}
		}
	}
	updateRows := func(part []int) (map[string]bool, error) {
		return d.returningIDs(ctx, d.updateValuesSQL(len(part)), d.updateValuesArgs(recs, want, versions, part))
	}
	upsertRows := func(part []int) (map[string]bool, error) {
		return d.returningIDs(ctx, d.upsertValuesSQL(len(part)), d.upsertValuesArgs(recs, versions, part))
	}
	for _, w := range []struct {
		idx  []int
		per  int
		rows func([]int) (map[string]bool, error)
	}{
		{upd, maxParams / (len(d.cols) + 1), updateRows},
		{ups, maxParams / len(d.cols), upsertRows},
	} {
		for start := 0; start < len(w.idx); start += w.per {
			part := w.idx[start:min(start+w.per, len(w.idx))]
			if err := d.splitWrite(ctx, part, versions, res, w.rows, apply); err != nil {
				failPending(res, nil, err)
				return err
			}
		}
	}
	for _, i := range upd {
		if res[i].Err != nil || res[i].Version != "" {
			continue
		}
		if ifVersion[i] != "" {
			misses = append(misses, i)
		} else {
			res[i].Err = repo.E(repo.ErrNotFound, nil)
		}
	}
	for _, i := range ups {
		if res[i].Err == nil && res[i].Version == "" {
			// ON CONFLICT DO UPDATE returns every row it wrote: only a trigger or a policy
			// of the table's own can have skipped this one.
			res[i].Err = repo.E(nil, errors.New("postgres: the server did not report the record written (a trigger or policy of the table skipped it)"))
		}
	}
	if err := d.explainMisses(ctx, misses, ifVersion, res); err != nil {
		failPending(res, nil, err)
		return err
	}
	return nil
}

// splitWrite runs rows (one statement writing the items at part, returning the ids it wrote)
// in a savepoint on a transaction, with fresh versions, and applies its outcome. When the
// statement fails for one item's values (ErrAlreadyExists, ErrInvalidInput) it wrote
// nothing: part is split in halves and each written again, down to the single items that
// fail, which get the error. Any other error is the call's.
func (d *Driver[T]) splitWrite(ctx context.Context, part []int, versions []int64, res []repo.Result,
	rows func([]int) (map[string]bool, error), apply func([]int, map[string]bool)) error {
	for _, i := range part {
		versions[i] = newVersion()
	}
	var got map[string]bool
	err := d.inSavepoint(ctx, func() error {
		var err error
		got, err = rows(part)
		return err
	})
	if err == nil {
		apply(part, got)
		return nil
	}
	if k := repo.KindOf(err); k != repo.ErrAlreadyExists && k != repo.ErrInvalidInput {
		return err
	}
	if len(part) == 1 {
		res[part[0]].Err = err
		return nil
	}
	h := len(part) / 2
	if err := d.splitWrite(ctx, part[:h], versions, res, rows, apply); err != nil {
		return err
	}
	return d.splitWrite(ctx, part[h:], versions, res, rows, apply)
}

// updateValuesSQL returns UPDATE ... FROM (VALUES ...) RETURNING id for n items: the
// fields but the id, and the version, set from the item's row where the id matches and the
// expected version (the row's last value) is NULL or the stored one. Every value is cast to
// its column's type, which VALUES cannot infer.
func (d *Driver[T]) updateValuesSQL(n int) string {
	ncol := len(d.cols) + 1 // fields, version, expected version
	types := make([]string, 0, ncol)
	for i := range d.desc.Fields {
		typ, _ := pgdialect.ColumnType(d.desc.Fields[i].Kind, d.desc.Fields[i].List)
		types = append(types, typ)
	}
	types = append(types, "bigint", "bigint")
	var b strings.Builder
	b.WriteString("UPDATE " + d.ident.Sanitize() + " AS t SET ")
	names := make([]string, 0, ncol)
	for k, c := range d.cols {
		q := pgdialect.Quote(c)
		names = append(names, q)
		if k == 0 {
			continue
		}
		if k > 1 {
			b.WriteString(", ")
		}
		b.WriteString(q + " = n." + q)
	}
	const wantCol = `"repokit_expected_version"`
	names = append(names, wantCol)
	b.WriteString(" FROM (VALUES ")
	p := 1
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for k, typ := range types {
			if k > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(p))
			p++
			if typ != "" {
				b.WriteString("::" + typ)
			}
		}
		b.WriteByte(')')
	}
	id, ver := names[0], pgdialect.Quote(pgdialect.VersionColumn)
	b.WriteString(") AS n(" + strings.Join(names, ", ") + ") WHERE t." + id + " = n." + id +
		" AND (n." + wantCol + " IS NULL OR t." + ver + " = n." + wantCol + ") RETURNING t." + id)
	return b.String()
}

func (d *Driver[T]) updateValuesArgs(recs []T, want []any, versions []int64, part []int) []any {
	args := make([]any, 0, len(part)*(len(d.cols)+1))
	for _, i := range part {
		args = append(d.args(&recs[i], versions[i], args), want[i])
	}
	return args
}

// upsertValuesSQL returns INSERT ... VALUES ... ON CONFLICT (id) DO UPDATE ... RETURNING id
// for n items.
func (d *Driver[T]) upsertValuesSQL(n int) string {
	ncol := len(d.cols)
	var b strings.Builder
	b.WriteString("INSERT INTO " + d.ident.Sanitize() + " (" + d.allCols + ") VALUES ")
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.WriteString(placeholders(r*ncol+1, ncol))
		b.WriteByte(')')
	}
	id := pgdialect.Quote(d.cols[0])
	b.WriteString(" ON CONFLICT (" + id + ") DO UPDATE SET ")
	for k, c := range d.cols[1:] {
		if k > 0 {
			b.WriteString(", ")
		}
		q := pgdialect.Quote(c)
		b.WriteString(q + " = EXCLUDED." + q)
	}
	b.WriteString(" RETURNING " + id)
	return b.String()
}

func (d *Driver[T]) upsertValuesArgs(recs []T, versions []int64, part []int) []any {
	args := make([]any, 0, len(part)*len(d.cols))
	for _, i := range part {
		args = d.args(&recs[i], versions[i], args)
	}
	return args
}

// bulkOrdered reports whether the items of a write call depend on each other through a
// unique field (see the comment at the top): two items giving a field the same value, or an
// item giving a field the value another item's stored record holds while that item gives
// it up. It reads the stored holders of the items' ids and values with one statement
// (uniqueInfo.heldSQL), and only when some item has a unique value.
func (d *Driver[T]) bulkOrdered(ctx context.Context, recs []T, res []repo.Result) (bool, error) {
	all := make([]int, len(recs))
	pos := make(map[string]int, len(recs))
	for i := range recs {
		all[i] = i
		pos[res[i].ID] = i
	}
	some := false
	for _, f := range d.uq.fields {
		field := &d.desc.Fields[f]
		seen := make(map[string]bool, len(recs))
		for i := range recs {
			v, ok := field.UniqueValue(&recs[i])
			if !ok {
				continue
			}
			if seen[v] {
				return true, nil
			}
			seen[v] = true
			some = true
		}
	}
	if !some {
		return false, nil
	}
	args := make([]any, 1+len(d.uq.fields))
	ids := make([]string, len(recs))
	for i := range res {
		ids[i] = res[i].ID
	}
	args[0] = ids
	for k, f := range d.uq.fields {
		args[k+1] = uniqueArray(&d.desc.Fields[f], recs, all)
	}
	held, err := d.readHeld(ctx, args)
	if err != nil {
		return false, err
	}
	for k := range held {
		j, mine := pos[d.desc.GetID(&held[k])]
		if !mine {
			continue
		}
		for _, f := range d.uq.fields {
			field := &d.desc.Fields[f]
			old, ok := field.UniqueValue(&held[k])
			if !ok {
				continue
			}
			if now, ok := field.UniqueValue(&recs[j]); ok && now == old {
				continue // item j keeps the value
			}
			for i := range recs {
				if v, ok := field.UniqueValue(&recs[i]); ok && i != j && v == old {
					return true, nil // item i takes the value item j gives up
				}
			}
		}
	}
	return false, nil
}

// writeInOrder writes the items one at a time, in order, each as Update (or, for an
// unconditional item of UpsertMany, Upsert) would, in a savepoint on a transaction. An item
// that meets a value of a unique field an earlier item of the call took gets
// repo.UniqueTakenEarlier, as in CreateBatch.
func (d *Driver[T]) writeInOrder(ctx context.Context, recs []T, ifVersion []string, res []repo.Result, upsert bool) error {
	for i := range recs {
		var itemErr error
		err := d.inSavepoint(ctx, func() error {
			if upsert && ifVersion[i] == "" {
				itemErr = d.Upsert(ctx, &recs[i])
			} else {
				itemErr = d.Update(ctx, &recs[i], ifVersion[i])
			}
			return itemErr
		})
		switch {
		case err == nil:
			res[i].Version = d.desc.GetVersion(&recs[i])
		case err == itemErr && isItemErr(err):
			res[i].Err = d.takenEarlier(recs, res, i, err)
		default:
			failPending(res, nil, err)
			return err
		}
	}
	return nil
}

// isItemErr reports an error that is one item's outcome, not the call's.
func isItemErr(err error) bool {
	switch repo.KindOf(err) {
	case repo.ErrNotFound, repo.ErrVersionConflict, repo.ErrAlreadyExists, repo.ErrInvalidInput:
		return true
	}
	return false
}

// takenEarlier returns err, a unique violation of item i, as repo.UniqueTakenEarlier when an
// earlier item of the call that was written holds the value; err otherwise.
func (d *Driver[T]) takenEarlier(recs []T, res []repo.Result, i int, err error) error {
	var ue *repo.UniqueError
	if d.uq == nil || !errors.As(err, &ue) {
		return err
	}
	for _, f := range d.uq.fields {
		field := &d.desc.Fields[f]
		if field.Name != ue.Field {
			continue
		}
		v, ok := field.UniqueValue(&recs[i])
		if !ok {
			return err
		}
		for j := range i {
			if w, ok := field.UniqueValue(&recs[j]); ok && w == v && res[j].Version != "" && res[j].Err == nil {
				return repo.UniqueTakenEarlier(field.Name, res[j].ID)
			}
		}
	}
	return err
}
