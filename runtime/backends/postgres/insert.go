package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/repokit/repokit/runtime/dialect/pgdialect"
	"github.com/repokit/repokit/runtime/repo"
)

func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(from + i))
	}
	return b.String()
}

// Insert implements repo.Driver. One record is an INSERT ... ON CONFLICT DO NOTHING; a batch
// (of distinct ids, see repo.Driver) is sent with COPY in chunks of CopyChunk records. COPY
// fails as a whole on the server when some id or unique value is already taken (a unique
// value also by an earlier record of the same chunk), or when the server rejects a value;
// the chunk is then inserted again with INSERT ... ON CONFLICT DO NOTHING RETURNING (see
// insertValues), which gives every record its own result.
// On a transaction every batch step runs in a savepoint, so that a failed step leaves the
// caller's transaction usable.
func (d *Driver[T]) Insert(ctx context.Context, recs []T, res []repo.Result) error {
	defer d.rs.markWrite()
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(recs) == 1 {
		if d.bound {
			return d.insertOneInSavepoint(ctx, &recs[0], &res[0])
		}
		return d.insertOne(ctx, d.db, &recs[0], &res[0])
	}
	for start := 0; start < len(recs); start += CopyChunk {
		end := min(start+CopyChunk, len(recs))
		var err error
		if end-start < copyMin {
			err = d.insertValues(ctx, recs[start:end], res[start:end])
		} else {
			err = d.insertCopy(ctx, recs[start:end], res[start:end])
		}
		if err != nil {
			return err
		}
	}
	return d.explainBatch(ctx, recs, res)
}

// explainBatch runs explainTaken for the records of a batch that were not stored, in a
// savepoint on a transaction. A failed read leaves their results as they are (taken, without
// the reason); only a failure of the savepoint statements themselves, after which the
// transaction's state is unknown, fails the call.
func (d *Driver[T]) explainBatch(ctx context.Context, recs []T, res []repo.Result) error {
	if d.uq == nil || !slices.ContainsFunc(res, func(r repo.Result) bool { return notStored(&r) }) {
		return nil
	}
	var readErr error
	err := d.inSavepoint(ctx, func() error {
		readErr = d.explainTaken(ctx, recs, res)
		return readErr
	})
	if err != nil && err != readErr {
		return err
	}
	return nil
}

// InsertOne implements repo.SingleInserter: Create runs one INSERT ... ON CONFLICT DO
// NOTHING, also on a transaction, where it takes no savepoint (unlike a batch of one
// record): a value the server rejects aborts the transaction, as a hand-written INSERT
// does, and a loop of Creates does not open a subtransaction per record.
func (d *Driver[T]) InsertOne(ctx context.Context, rec *T, res *repo.Result) error {
	defer d.rs.markWrite()
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.insertOne(ctx, d.db, rec, res)
}

// CopyChunk is the number of records one COPY of CreateBatch sends.
const CopyChunk = 10000

// copyMin is the smallest batch sent with COPY; smaller ones take one INSERT round trip.
const copyMin = 16

func (d *Driver[T]) insertOne(ctx context.Context, db DB, rec *T, res *repo.Result) error {
	res.ID = d.desc.GetID(rec)
	v := newVersion()
	var buf [32]any
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	var n int64
	var err error
	if d.stmts != nil {
		n, err = d.stmts.Insert(cctx, db, rec, v)
	} else {
		n, err = exec(cctx, db, d.insertSQL, d.args(rec, v, buf[:0])...)
	}
	if err != nil {
		res.Err = d.fail(ctx, err)
		if repo.KindOf(res.Err) == repo.ErrAlreadyExists || repo.KindOf(res.Err) == repo.ErrInvalidInput {
			return nil
		}
		return res.Err
	}
	if n == 0 {
		res.Err = repo.E(repo.ErrAlreadyExists, nil)
		if d.uq != nil {
			// Which of the id and the unique values was taken (a failed read leaves the
			// result as it is).
			recs, rs := []T{*rec}, []repo.Result{*res}
			_ = d.explainTaken(ctx, recs, rs)
			*res = rs[0]
		}
		return nil
	}
	res.Version = strconv.FormatInt(v, 10)
	return nil
}

// insertOneInSavepoint is insertOne as a batch step on a transaction: in a savepoint, rolled
// back when the record is rejected, so that a value the server rejects does not abort the
// caller's transaction (a CreateBatch of one record keeps the promise of WithTx). The
// statements are sent one after the other (not pipelined: pgx closes the connection when it
// cannot encode an argument of a pipelined statement, which would end the transaction).
func (d *Driver[T]) insertOneInSavepoint(ctx context.Context, rec *T, res *repo.Result) error {
	var callErr error
	err := d.inSavepoint(ctx, func() error {
		callErr = d.insertOne(ctx, d.db, rec, res)
		if callErr != nil {
			return callErr
		}
		return res.Err // the record's own error (or nil): roll back to the savepoint
	})
	if callErr == nil && err != nil && err == res.Err {
		return nil // the record was rejected, reported in res, and the savepoint rolled back
	}
	return err
}

// insertCopy sends the chunk with COPY (in a savepoint on a transaction). When the server
// rejects the COPY for a taken id or unique value, or for a value it does not accept, it
// falls back to insertValues, which reports each record.
func (d *Driver[T]) insertCopy(ctx context.Context, recs []T, res []repo.Result) error {
	versions := make([]int64, len(recs))
	row := make([]any, 0, len(d.cols))
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(recs) {
			return nil, nil
		}
		versions[i] = newVersion()
		row = d.args(&recs[i], versions[i], row[:0])
		i++
		return row, nil
	})
	err := d.inSavepoint(ctx, func() error {
		cctx, cancel := d.callCtx(ctx)
		defer cancel()
		if err := d.copyFrom(cctx, src); err != nil {
			return d.fail(ctx, err)
		}
		return nil
	})
	if err != nil {
		if k := repo.KindOf(err); k == repo.ErrAlreadyExists || k == repo.ErrInvalidInput {
			return d.insertValues(ctx, recs, res)
		}
		return err
	}
	for j := range res {
		res[j].ID = d.desc.GetID(&recs[j])
		res[j].Version = strconv.FormatInt(versions[j], 10)
	}
	return nil
}

// maxParams is PostgreSQL's limit on the parameters of one statement.
const maxParams = 65535

// insertValues inserts the chunk with multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING
// id (see insertRows).
func (d *Driver[T]) insertValues(ctx context.Context, recs []T, res []repo.Result) error {
	todo := make([]int, len(recs))
	for i := range recs {
		res[i].ID = d.desc.GetID(&recs[i])
		todo[i] = i
	}
	per := maxParams / len(d.cols)
	for start := 0; start < len(todo); start += per {
		if err := d.insertRows(ctx, recs, res, todo[start:min(start+per, len(todo))]); err != nil {
			return err
		}
	}
	return nil
}

// insertRows inserts the records at the indexes in part (distinct ids, at most maxParams
// values) with one INSERT ... ON CONFLICT DO NOTHING RETURNING id, in a savepoint on a
// transaction: the ids returned were stored, the others were taken (ErrAlreadyExists). A
// value the server rejects fails the statement, which then stored nothing: the part is
// split in halves and each inserted again, down to the records whose values the server
// rejects, which get its error (ErrInvalidInput). k bad records in n cost O(k log n)
// statements.
func (d *Driver[T]) insertRows(ctx context.Context, recs []T, res []repo.Result, part []int) error {
	ncol := len(d.cols)
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", d.ident.Sanitize(), d.allCols)
	args := make([]any, 0, len(part)*ncol)
	versions := make(map[string]int64, len(part))
	for j, i := range part {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.WriteString(placeholders(len(args)+1, ncol))
		b.WriteByte(')')
		v := newVersion()
		versions[res[i].ID] = v
		args = d.args(&recs[i], v, args)
	}
	fmt.Fprintf(&b, " ON CONFLICT DO NOTHING RETURNING %s", pgdialect.Quote(d.cols[0]))
	var stored map[string]bool
	err := d.inSavepoint(ctx, func() error {
		var err error
		stored, err = d.returningIDs(ctx, b.String(), args)
		return err
	})
	if err != nil {
		if repo.KindOf(err) != repo.ErrInvalidInput {
			return err
		}
		if len(part) == 1 {
			res[part[0]].Err = err
			return nil
		}
		h := len(part) / 2
		if err := d.insertRows(ctx, recs, res, part[:h]); err != nil {
			return err
		}
		return d.insertRows(ctx, recs, res, part[h:])
	}
	for _, i := range part {
		if stored[res[i].ID] {
			res[i].Version = strconv.FormatInt(versions[res[i].ID], 10)
		} else {
			res[i].Err = repo.E(repo.ErrAlreadyExists, nil)
		}
	}
	return nil
}

func (d *Driver[T]) returningIDs(ctx context.Context, sql string, args []any) (map[string]bool, error) {
	cctx, cancel := d.callCtx(ctx)
	defer cancel()
	rows, err := d.db.Query(cctx, sql, args...)
	if err != nil {
		return nil, d.fail(ctx, err)
	}
	defer rows.Close()
	stored := map[string]bool{}
	var id string
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return nil, d.fail(ctx, err)
		}
		stored[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, err)
	}
	return stored, nil
}
