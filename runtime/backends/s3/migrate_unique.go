package s3

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/repokit/repokit/runtime/migrate"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

// Unique values of existing objects: apply reserves them (held, owned by the object's id)
// exactly as a driver's write would (unique.go), so that drivers of the new version find
// them taken, and names the values two stored records share.

// uniqueNames returns the names of r's unique fields that take reservations.
func uniqueNames(r *migrate.Record) []string {
	var out []string
	for _, f := range r.Fields {
		if f.Unique && !f.List && f.Type != "bytes" && f.Type != "json" {
			out = append(out, f.Name)
		}
	}
	return out
}

// canonJSON returns the canonical text of a document's value of a unique field of type
// typ, as record.Field.UniqueValue gives it for the decoded value; false when it has none.
func canonJSON(typ string, v any) (string, bool) {
	switch x := v.(type) {
	case string:
		if typ == "time" {
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return "", false
			}
			return strconv.FormatInt(t.UnixMicro(), 10), true
		}
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		if typ == "int" {
			i, err := x.Int64()
			return strconv.FormatInt(i, 10), err == nil
		}
		f, err := x.Float64()
		if f == 0 {
			f = 0
		}
		return strconv.FormatFloat(f, 'g', -1, 64), err == nil
	}
	return "", false
}

// reserve makes record id hold the reservation of value c of its unique field f: a
// *dupValue when another stored record holds it. With readFirst it reads the reservation
// before trying to create it (the value is likely reserved already).
func (m *Migrator) reserve(ctx context.Context, r *migrate.Record, up *migrate.Upgrader, f, c, id string, readFirst bool) error {
	sum := sha256.Sum256([]byte(c))
	hx := hex.EncodeToString(sum[:])
	key := m.uniquePrefix(r) + f + "/" + hx
	held := func() reservation {
		return reservation{Owner: id, State: stateHeld, Rev: record.NewID(), Record: r.Name, Field: f, SHA256: hx, At: time.Now().UTC()}
	}
	for attempt := range maxAcquireAttempts {
		if !readFirst || attempt > 0 {
			_, err := putJSON(ctx, m.api, m.bucket, key, held(), "")
			if err == nil {
				return nil
			}
			if !isPrecondition(err) && !isConditionalConflict(err) {
				return m.mapErr(ctx, err)
			}
		}
		body, etag, err := m.getObject(ctx, key, "")
		if errors.Is(err, errGone) {
			continue
		}
		if err != nil {
			return err
		}
		var cur reservation
		if err := json.Unmarshal(body, &cur); err != nil || cur.Owner == "" {
			return fmt.Errorf("s3: reservation %s is not a repokit reservation (%v)", key, err)
		}
		if cur.Owner == id && cur.State == stateHeld {
			return nil
		}
		if cur.Owner != id {
			holds, err := m.holds(ctx, r, up, f, c, cur.Owner)
			if err != nil {
				return err
			}
			if holds {
				ids := [2]string{cur.Owner, id}
				if ids[1] < ids[0] {
					ids[0], ids[1] = ids[1], ids[0]
				}
				return &dupValue{field: f, value: c, ids: ids}
			}
		}
		if _, err := putJSON(ctx, m.api, m.bucket, key, held(), etag); err == nil {
			return nil
		} else if !isPrecondition(err) && !isConditionalConflict(err) && !isNotFound(err) {
			return m.mapErr(ctx, err)
		}
	}
	return repo.E(repo.ErrUnavailable, fmt.Errorf("unique field %s: the reservation changed during each of %d attempts", f, maxAcquireAttempts))
}

// holds reports whether the stored record owner holds value c in field f.
func (m *Migrator) holds(ctx context.Context, r *migrate.Record, up *migrate.Upgrader, f, c, owner string) (bool, error) {
	body, _, err := m.getObject(ctx, m.recordPrefix(r)+EscapeID(owner), "")
	if errors.Is(err, errGone) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	doc, err := up.UpgradeJSON(body, objectVersion(body), revMember, schemaMember)
	if err != nil {
		return false, err
	}
	vals, err := migrate.DecodeDocument(doc)
	if err != nil {
		return false, err
	}
	got, ok := canonJSON(r.Field(f).Type, vals[f])
	return ok && got == c, nil
}

// dupValue is a value of a unique field that two stored records hold.
type dupValue struct {
	field, value string
	ids          [2]string
}

func (d *dupValue) Error() string {
	return fmt.Sprintf("%s %q in records %q and %q", d.field, d.value, d.ids[0], d.ids[1])
}

// dupList collects the duplicates a pass found.
type dupList struct {
	mu   sync.Mutex
	list []dupValue
}

func (l *dupList) add(d dupValue) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, d)
}

// maxNamedDuplicates is how many duplicates the error of a pass names.
const maxNamedDuplicates = 10

func (l *dupList) err(record string) error {
	if len(l.list) == 0 {
		return nil
	}
	sort.Slice(l.list, func(i, j int) bool { return l.list[i].value < l.list[j].value })
	names := make([]string, 0, maxNamedDuplicates)
	for i := range min(len(l.list), maxNamedDuplicates) {
		names = append(names, l.list[i].Error())
	}
	more := ""
	if len(l.list) > maxNamedDuplicates {
		more = fmt.Sprintf(" (and %d more)", len(l.list)-maxNamedDuplicates)
	}
	return repo.E(repo.ErrAlreadyExists, fmt.Errorf("%s: stored records share values of a unique field, so it cannot be made unique: %s%s; change them and apply again",
		record, strings.Join(names, "; "), more))
}
