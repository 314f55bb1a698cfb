package elasticsearch

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/repokit/repokit/runtime/dialect/esdialect"
	"github.com/repokit/repokit/runtime/migrate"
)

// action is one step of a migration: what Plan prints and what Apply runs. Every run is
// idempotent or guarded, so that applying again after a failure finishes the migration.
type action struct {
	text   string
	online bool
	run    func(ctx context.Context) error // nil: nothing to do in Elasticsearch
}

// recordPlan is what one migration does to one record.
type recordPlan struct {
	m       *Migrator
	mig     *migrate.Migration
	name    string
	before  *migrate.Record // nil for an added record
	after   *migrate.Record // nil for a dropped record
	changes []migrate.Change

	renames  [][2]string      // old, new
	drops    []string         // dropped fields
	defaults map[string]any   // field → default to fill where missing (document form)
	us       map[string]int64 // time field → microseconds of its default
	copy     bool             // a new index and a copy are needed
}

// actions returns the steps of migration mig.
func (m *Migrator) actions(mig *migrate.Migration) ([]action, error) {
	before := m.h.State(mig.Version - 1)
	var order []string
	by := map[string][]migrate.Change{}
	for _, c := range mig.Changes {
		if _, ok := by[c.Record]; !ok {
			order = append(order, c.Record)
		}
		by[c.Record] = append(by[c.Record], c)
	}
	var out []action
	for _, name := range order {
		p := &recordPlan{m: m, mig: mig, name: name, after: mig.Schema.Record(name), changes: by[name],
			defaults: map[string]any{}, us: map[string]int64{}}
		old := name
		for _, c := range p.changes {
			if c.Kind == migrate.RenameRecord {
				old = c.From
			}
		}
		p.before = before.Record(old)
		acts, err := p.plan()
		if err != nil {
			return nil, err
		}
		out = append(out, acts...)
	}
	return out, nil
}

func (p *recordPlan) plan() ([]action, error) {
	var out, pre []action // pre: the index name's move, before the steps that use the new name
	noop := func(c migrate.Change, why string) {
		out = append(out, action{text: fmt.Sprintf("%s: nothing to change in Elasticsearch (%s)", c, why), online: true})
	}
	for _, c := range p.changes {
		switch c.Kind {
		case migrate.AddRecord:
			out = append(out, p.addRecord())
		case migrate.DropRecord:
			out = append(out, p.dropRecord())
		case migrate.ChangeIndex:
			pre = append(pre, p.changeIndex(c))
		case migrate.RenameField:
			p.renames = append(p.renames, [2]string{c.From, c.Field})
			p.copy = true
		case migrate.DropField:
			p.drops = append(p.drops, c.Field)
			p.copy = true
		case migrate.ChangeType:
			if !esdialect.SameFieldMapping(c.From, c.To) {
				p.copy = true
			} else {
				noop(c, "both types map to the same field type")
			}
		case migrate.SetSearch:
			p.copy = true // the stored documents' terms are computed in Go (fillSearch)
		case migrate.AddField, migrate.SetRequired:
			if f := p.after.Field(c.Field); c.Default != nil && f != nil && f.Search != "" {
				p.copy = true // a painless backfill cannot compute the default's terms
			}
			if c.Default != nil {
				if err := p.addDefault(c.Field, c.Default); err != nil {
					return nil, err
				}
			} else if c.Kind == migrate.SetRequired {
				noop(c, "no default to fill")
			}
		case migrate.DropOldName:
			out = append(out, p.dropOldName(c))
		case migrate.AddUnique:
			out = append(out, p.addUnique(c.Field))
		case migrate.DropUnique:
			out = append(out, p.dropUnique(c.Field))
		case migrate.AddIndex, migrate.DropIndex:
			noop(c, "every field is indexed")
		case migrate.AddEnumValues, migrate.DropEnumValues:
			noop(c, "enums are keyword fields; stored values are kept")
		default:
			noop(c, "no storage change")
		}
	}
	if p.after == nil || p.before == nil {
		return append(pre, out...), nil
	}
	mid := pre
	if p.copy {
		mid = append(mid, p.copyAction())
	} else if !sameMapping(p.before, p.after) {
		mid = append(mid, p.putMapping())
	}
	if len(p.defaults) > 0 && !p.copy {
		mid = append(mid, p.backfillAction())
	}
	// Mapping and copy first, then unique checks and the rest, in change order.
	return append(mid, out...), nil
}

func sameMapping(a, b *migrate.Record) bool {
	return string(esdialect.RecordMapping(a)) == string(esdialect.RecordMapping(b))
}

// addDefault records the document form of field's default.
func (p *recordPlan) addDefault(field string, def any) error {
	f := p.after.Field(field)
	if f == nil {
		return fmt.Errorf("elasticsearch: migration %s: %s has no field %s", p.mig.BaseName(), p.name, field)
	}
	if f.Type == "time" {
		s, ok := def.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if !ok || err != nil {
			return fmt.Errorf("elasticsearch: migration %s: %s.%s: default %v is not an RFC 3339 time", p.mig.BaseName(), p.name, field, def)
		}
		t = t.UTC().Truncate(time.Microsecond)
		p.defaults[field] = t.Format(timeLayout)
		p.us[field] = t.UnixMicro()
		return nil
	}
	p.defaults[field] = def
	return nil
}

// physical returns the name of the record's index at this migration: <alias>_v<version>.
func (p *recordPlan) physical() string {
	return fmt.Sprintf("%s_v%d", p.after.Index, p.mig.Version)
}

func (p *recordPlan) describeTransform() string {
	var parts []string
	for _, r := range p.renames {
		parts = append(parts, fmt.Sprintf("move %s to %s", r[0], r[1]))
	}
	for _, f := range p.drops {
		parts = append(parts, "remove "+f)
	}
	for _, f := range slices.Sorted(maps.Keys(p.defaults)) {
		parts = append(parts, fmt.Sprintf("fill %s = %v where missing", f, p.defaults[f]))
	}
	if len(parts) == 0 {
		return "no document change"
	}
	return strings.Join(parts, ", ")
}
