package s3

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/repo"
)

// Older code on a newer store. A driver whose history ends before the store's applied
// version (a process of the previous version during a rolling deploy, or after a rollback)
// opens when the newer versions left its record workable (olderCodeProblems). Its writes
// replace whole objects, and the members only newer code knows (a field it added) would be
// lost: such a driver reads the stored object before each Update and Upsert and writes its
// own members plus the stored ones it does not know (migrate.KeepMembers), under If-Match
// the ETag it read (If-None-Match: * when there was none), again from the read when another
// write got in between. Names it knows are its fields, the old names it writes, "@rev",
// "@schema" and the newer names of its fields (migrate.NewerNames): under those the stored
// value is not kept, so a value it clears stays cleared and newer code reads its value of
// a renamed field, which the object's older "@schema" upgrades.

// readKeep reads the store's applied version (for d.older) and returns the skip set of
// migrate.KeepMembers when the store is ahead of the driver's history, nil when it is not.
func (d *Driver[T]) readKeep(ctx context.Context) (func(string) bool, error) {
	st, _, err := readState(ctx, d.api, d.bucket, d.stateKey)
	if err != nil {
		return nil, d.mapErr(ctx, err)
	}
	return d.olderKeep(st, d.schema.version), nil
}

// olderKeep returns the skip set of migrate.KeepMembers for a driver whose history ends
// at version known in a store whose state is st, or nil when the store is not ahead.
func (d *Driver[T]) olderKeep(st *migState, known int64) func(string) bool {
	if st.current() <= known {
		return nil
	}
	var changes []migrate.Change
	for _, a := range st.Applied {
		if a.Version > known {
			changes = append(changes, a.Changes...)
		}
	}
	skip := map[string]bool{revMember: true, schemaMember: true}
	names := make([]string, len(d.desc.Fields))
	for i := range d.desc.Fields {
		names[i] = d.desc.Fields[i].JSON
		skip[names[i]] = true
	}
	if d.schema != nil {
		for _, old := range d.schema.up.OldNames() {
			skip[old] = true
		}
	}
	for n := range migrate.NewerNames(changes, d.desc.Name, names) {
		skip[n] = true
	}
	return func(n string) bool { return skip[n] }
}

// writeKeeping writes rec over the stored object keeping the members this driver does not
// know (see above): only over version ifVersion when it is set, and, with mustExist, never
// creating an object. It returns the new ETag.
func (d *Driver[T]) writeKeeping(ctx context.Context, rec *T, ifVersion string, mustExist bool, keep func(string) bool) (string, error) {
	id := d.desc.GetID(rec)
	key := d.Key(id)
	own, err := d.encode(rec)
	if err != nil {
		return "", err
	}
	for attempt := 1; ; attempt++ {
		cur, etag, err := d.getRaw(ctx, key)
		switch {
		case err != nil:
			return "", err
		case cur == nil && (mustExist || ifVersion != ""):
			return "", repo.E(repo.ErrNotFound, nil)
		case ifVersion != "" && etag != ifVersion:
			return "", repo.VersionConflict(ifVersion)
		}
		body, err := migrate.KeepMembers(own, cur, keep)
		if err != nil {
			return "", repo.E(repo.ErrUnavailable, fmt.Errorf("s3: object %s: %w", key, err))
		}
		var ifMatch, ifNoneMatch *string
		if cur == nil {
			ifNoneMatch = aws.String("*")
		} else {
			ifMatch = aws.String(etag)
		}
		v, err := d.putBody(ctx, key, body, ifMatch, ifNoneMatch)
		if err == nil {
			return v, nil
		}
		if !isPrecondition(err) && !isConditionalConflict(err) {
			return "", d.mapErr(ctx, err)
		}
		if ifVersion != "" {
			return "", repo.NotFoundOr(ctx, d.Exists, id, repo.VersionConflict(ifVersion))
		}
		if attempt >= migrate.KeepAttempts {
			return "", repo.E(repo.ErrVersionConflict, fmt.Errorf("s3: object %s changed under each of %d writes that kept the members newer code added", key, attempt))
		}
	}
}
