package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// Unique fields. Each has a unique index (pgdialect.TableDef.CreateIndexes), so the server
// enforces them; what this file adds is the report. A write that meets a taken value fails
// like on every backend, with repo.UniqueTaken or repo.UniqueTakenEarlier naming the field:
//
//   - Update and Upsert fail with the server's unique violation (23505), which names the
//     index: fail maps the index to its field (takenField);
//   - Create and CreateBatch insert with ON CONFLICT DO NOTHING, which does not abort a
//     transaction but says only that a record was not stored, not whether its id or which
//     value was taken: explainTaken reads the stored records holding the id or one of the
//     values and tells which (a record of the same batch stored earlier, another record, or
//     the id).

// uniqueInfo is what the reports need of the record's unique fields.
type uniqueInfo struct {
	fields  []int          // indexes into desc.Fields of the unique fields
	byIndex map[string]int // index name (pgdialect.IndexName) → field
	heldSQL string         // the stored rows holding any of the given ids or values (explainTaken)
}

// prepareUnique sets d.uq (nil when the record has no unique field).
func (d *Driver[T]) prepareUnique() {
	var u uniqueInfo
	for i := 1; i < len(d.desc.Fields); i++ {
		if f := &d.desc.Fields[i]; f.Unique && f.UniqueSupported() {
			u.fields = append(u.fields, i)
		}
	}
	if len(u.fields) == 0 {
		return
	}
	u.byIndex = make(map[string]int, len(u.fields))
	id := pgdialect.Quote(d.desc.ID().Column)
	var sel, where strings.Builder
	sel.WriteString("SELECT " + id)
	where.WriteString(" WHERE " + id + " = ANY($1)")
	for k, i := range u.fields {
		col := d.desc.Fields[i].Column
		u.byIndex[pgdialect.IndexName(d.table, col, "key")] = i
		sel.WriteString(", " + pgdialect.Quote(col))
		where.WriteString(" OR " + pgdialect.Quote(col) + " = ANY($" + strconv.Itoa(k+2) + ")")
	}
	sel.WriteString(", " + pgdialect.Quote(pgdialect.VersionColumn) + " FROM " + d.ident.Sanitize())
	u.heldSQL = sel.String() + where.String()
	d.uq = &u
}

// takenField returns the name of the unique field whose index a unique violation (23505)
// names: by the name repokit gives the index, else by the column the server's detail names
// (an index created under another name). ok is false for any other error.
func (d *Driver[T]) takenField(err error) (name string, ok bool) {
	var pe *pgconn.PgError
	if d.uq == nil || !errors.As(err, &pe) || pe.Code != "23505" {
		return "", false
	}
	if i, ok := d.uq.byIndex[pe.ConstraintName]; ok {
		return d.desc.Fields[i].Name, true
	}
	// Detail: `Key (email)=(a@x) already exists.`, the column quoted when it needs it.
	rest, found := strings.CutPrefix(pe.Detail, "Key (")
	col, _, found2 := strings.Cut(rest, ")=(")
	if !found || !found2 {
		return "", false
	}
	if c, quoted := strings.CutPrefix(col, `"`); quoted {
		col = strings.ReplaceAll(strings.TrimSuffix(c, `"`), `""`, `"`)
	}
	for _, i := range d.uq.fields {
		if d.desc.Fields[i].Column == col {
			return d.desc.Fields[i].Name, true
		}
	}
	return "", false
}

// notStored reports whether r is the result of a record an INSERT ... ON CONFLICT DO NOTHING
// did not store: ErrAlreadyExists without a cause, not yet explained.
func notStored(r *repo.Result) bool {
	var e *repo.Error
	return r.Version == "" && errors.As(r.Err, &e) && e.Kind == repo.ErrAlreadyExists && e.Err == nil
}

// explainTaken gives every record of recs (the records of one Insert call, in order) that an
// INSERT ... ON CONFLICT DO NOTHING did not store (see notStored) the reason, read from the
// stored records holding its id or one of its unique values:
//
//   - its id is stored: ErrAlreadyExists without a cause, as before;
//   - the first unique field (in field order) whose value a stored record holds: UniqueTaken,
//     or UniqueTakenEarlier when that record is one of recs stored before it (a record of
//     recs stored after it cannot be why it was not stored, and is passed over);
//   - none (the record holding it changed or was deleted since): ErrAlreadyExists, saying so.
//
// It returns the error of the read; the results then stay as they were.
func (d *Driver[T]) explainTaken(ctx context.Context, recs []T, res []repo.Result) error {
	if d.uq == nil {
		return nil
	}
	var todo []int
	for i := range res {
		if notStored(&res[i]) {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	args := make([]any, 1+len(d.uq.fields))
	ids := make([]string, len(todo))
	for k, i := range todo {
		ids[k] = res[i].ID
	}
	args[0] = ids
	for k, f := range d.uq.fields {
		args[k+1] = uniqueArray(&d.desc.Fields[f], recs, todo)
	}
	held, err := d.readHeld(ctx, args)
	if err != nil {
		return err
	}
	pos := make(map[string]int, len(recs)) // id → index in recs
	for i := range res {
		pos[res[i].ID] = i
	}
	for _, i := range todo {
		res[i].Err = d.whyTaken(&recs[i], i, held, pos, res)
	}
	return nil
}

// readHeld runs uniqueInfo.heldSQL and returns the rows it reads.
func (d *Driver[T]) readHeld(ctx context.Context, args []any) ([]T, error) {
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	rows, err := d.db.Query(cctx, d.uq.heldSQL, args...)
	if err != nil {
		return nil, d.fail(ctx, err)
	}
	defer rows.Close()
	s := newScanner(d.desc, append([]int{0}, d.uq.fields...))
	var held []T
	for rows.Next() {
		rec, err := s.scan(rows)
		if err != nil {
			return nil, d.fail(ctx, err)
		}
		held = append(held, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, err)
	}
	return held, nil
}

// whyTaken returns the error of recs[i] (see explainTaken), given the stored rows held.
func (d *Driver[T]) whyTaken(rec *T, i int, held []T, pos map[string]int, res []repo.Result) error {
	id := res[i].ID
	for k := range held {
		if d.desc.GetID(&held[k]) == id {
			return repo.E(repo.ErrAlreadyExists, nil)
		}
	}
	for _, f := range d.uq.fields {
		field := &d.desc.Fields[f]
		v, ok := field.UniqueValue(rec)
		if !ok {
			continue
		}
		for k := range held {
			if hv, ok := field.UniqueValue(&held[k]); !ok || hv != v {
				continue
			}
			owner := d.desc.GetID(&held[k])
			j, mine := pos[owner]
			switch {
			case !mine:
				return repo.UniqueTaken(field.Name, nil)
			case j < i && res[j].Version != "":
				return repo.UniqueTakenEarlier(field.Name, owner)
			}
		}
	}
	return repo.E(repo.ErrAlreadyExists, errors.New("the id or a unique value was taken when the record was written, by a record that has changed or gone since"))
}

// uniqueArray returns the present values of field f in the records of recs at idx, as a
// slice of the Go type its column takes (the = ANY($n) operand of uniqueInfo.heldSQL).
func uniqueArray[T any](f *record.Field[T], recs []T, idx []int) any {
	switch {
	case f.Str != nil:
		return presentValues(recs, idx, f.Str)
	case f.Int != nil:
		return presentValues(recs, idx, f.Int)
	case f.Float != nil:
		return presentValues(recs, idx, f.Float)
	case f.Bool != nil:
		return presentValues(recs, idx, f.Bool)
	case f.Time != nil:
		return presentValues(recs, idx, f.Time)
	}
	return []string{}
}

func presentValues[T, V any](recs []T, idx []int, get func(*T) (V, bool)) []V {
	out := make([]V, 0, len(idx))
	for _, i := range idx {
		if v, ok := get(&recs[i]); ok {
			out = append(out, v)
		}
	}
	return out
}
