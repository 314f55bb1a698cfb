package repo

import (
	"fmt"
	"time"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// The portable limits: the same numbers on every backend, checked here, before any backend
// is contacted (by Collection, and by CheckID, Prepare and CheckFilter, which backends' own
// batch methods call). A value or a query over one is ErrInvalidInput with a *LimitError
// naming the limit and the size. docs/semantics.md ("Limits") lists them, with the reason for
// each number and the test that holds it; Limits returns the same table.
const (
	// MaxIDBytes is the longest id, in bytes of UTF-8: what a VARCHAR(255) key holds. Every
	// backend stores any such id (Elasticsearch's _id allows 512 bytes; an S3 key escapes an
	// id to at most 3×255 bytes, split into key segments of at most 255 bytes).
	MaxIDBytes = 255
	// MaxIndexedStringBytes is the longest value, in bytes of UTF-8, of a string field with
	// an index (indexed or unique), and of each element of an indexed list: PostgreSQL's
	// btree and GIN entries hold at most about 2,700 bytes, and 2048 leave room for the
	// entry's own overhead.
	MaxIndexedStringBytes = 2048
	// MaxStringBytes is the longest value, in bytes of UTF-8, of any string, text, uuid or
	// enum field (list elements included) other than the id: the largest value a search
	// index holds as one exact term (Lucene's limit, 32,766 bytes), which exact filters,
	// sorting and uniqueness need. Elasticsearch refused a longer value ("immense term")
	// that the other backends stored, and the same filter then returned different records.
	MaxStringBytes = 32766
	// MaxFilterConditions is the most conditions (comparisons on a field: EQ, IN, LIKE, ...;
	// And, Or and Not do not count) in one query's filter. An IN of any number of values is
	// one condition.
	MaxFilterConditions = 10000
	// MinYear and MaxYear bound the year, in UTC, of every time value of a record (list
	// elements included): the years of RFC 3339, which Elasticsearch's dates and Go's JSON
	// encoding of times (S3) take. PostgreSQL and memory hold wider ranges, and
	// Elasticsearch stored a year before 1 that it then could not read back.
	MinYear = 1
	MaxYear = 9999
	// MaxRegexBytes is the longest REGEX pattern, in bytes of UTF-8 as written:
	// Elasticsearch takes patterns of at most 1,000 characters (index.max_regex_length), and
	// its rendering of a pattern escapes some characters, doubling them at most.
	MaxRegexBytes = 500
)

// Limit is one portable limit: a row of docs/semantics.md's "Limits" table.
type Limit struct {
	Name string // what is limited, e.g. "id"
	Max  int    // the largest size allowed
	Min  int    // the smallest size allowed, for a range (times); 0 otherwise
	Unit string // what Max counts: "bytes", "conditions" or "year"
}

var (
	idLimit         = Limit{Name: "id", Max: MaxIDBytes, Unit: "bytes"}
	indexedLimit    = Limit{Name: "indexed or unique string value", Max: MaxIndexedStringBytes, Unit: "bytes"}
	stringLimit     = Limit{Name: "string value", Max: MaxStringBytes, Unit: "bytes"}
	conditionsLimit = Limit{Name: "filter", Max: MaxFilterConditions, Unit: "conditions"}
	timeLimit       = Limit{Name: "time", Min: MinYear, Max: MaxYear, Unit: "year"}
	regexLimit      = Limit{Name: "regex pattern", Max: MaxRegexBytes, Unit: "bytes"}
)

// Limits returns the portable limits, in the order of the docs' table.
func Limits() []Limit {
	return []Limit{idLimit, indexedLimit, stringLimit, conditionsLimit, timeLimit, regexLimit}
}

// LimitError is the cause of the ErrInvalidInput error of a value or a query over a
// portable limit (errors.As finds it). For a record value it is wrapped in a
// *record.FieldError naming the record and the field.
type LimitError struct {
	Limit
	Size int // the size found, in Limit.Unit
}

func (e *LimitError) Error() string {
	if e.Min != 0 {
		return fmt.Sprintf("%s in %s %d: the limit is %ss %d to %d", e.Name, e.Unit, e.Size, e.Unit, e.Min, e.Max)
	}
	return fmt.Sprintf("%s of %d %s: the limit is %d %s", e.Name, e.Size, e.Unit, e.Max, e.Unit)
}

func fieldOver[T any](d *record.Desc[T], f *record.Field[T], l Limit, size int) error {
	return &record.FieldError{Record: d.Name, Field: f.Name, Err: &LimitError{Limit: l, Size: size}}
}

// checkIDLimit reports an id over MaxIDBytes.
func checkIDLimit[T any](d *record.Desc[T], id string) error {
	if len(id) > MaxIDBytes {
		return fieldOver(d, d.ID(), idLimit, len(id))
	}
	return nil
}

// checkRecordLimits reports the first value of rec over a portable limit: the id, then the
// string values (list elements included) longer than MaxIndexedStringBytes in a field with an
// index, or longer than MaxStringBytes in any other, and the times (list elements included)
// outside years MinYear to MaxYear in UTC.
func checkRecordLimits[T any](d *record.Desc[T], rec *T) error {
	if err := checkIDLimit(d, d.GetID(rec)); err != nil {
		return err
	}
	for i := 1; i < len(d.Fields); i++ {
		f := &d.Fields[i]
		if f.Kind == query.KindTime {
			if err := checkYears(d, f, rec); err != nil {
				return err
			}
			continue
		}
		if !f.Kind.IsString() {
			continue
		}
		l := stringLimit
		if f.Indexed || f.Unique {
			l = indexedLimit
		}
		if f.List {
			for _, v := range f.Strs(rec) {
				if len(v) > l.Max {
					return fieldOver(d, f, l, len(v))
				}
			}
		} else if v, ok := f.Str(rec); ok && len(v) > l.Max {
			return fieldOver(d, f, l, len(v))
		}
	}
	return nil
}

// checkYears reports a time of f outside years MinYear to MaxYear in UTC.
func checkYears[T any](d *record.Desc[T], f *record.Field[T], rec *T) error {
	check := func(t time.Time) error {
		if y := t.UTC().Year(); y < MinYear || y > MaxYear {
			return fieldOver(d, f, timeLimit, y)
		}
		return nil
	}
	if f.Times != nil {
		for _, t := range f.Times(rec) {
			if err := check(t); err != nil {
				return err
			}
		}
	} else if f.Time != nil {
		if t, ok := f.Time(rec); ok {
			return check(t)
		}
	}
	return nil
}

// checkFilterLimits reports a filter of more than MaxFilterConditions conditions, or with a
// REGEX pattern longer than MaxRegexBytes.
func checkFilterLimits(e query.Expr) error {
	n := 0
	err := e.Walk(func(e query.Expr) error {
		switch e.Op {
		case query.OpAll, query.OpAnd, query.OpOr, query.OpNot:
			return nil
		case query.OpRegex:
			if len(e.Args) == 0 {
				break
			}
			if re, ok := e.Args[0].(*query.Regex); ok && re != nil && len(re.Pattern()) > MaxRegexBytes {
				return &query.FieldError{Field: e.Field, Op: e.Op, Err: &LimitError{Limit: regexLimit, Size: len(re.Pattern())}}
			}
		}
		n++
		return nil
	})
	if err != nil {
		return E(ErrInvalidInput, err)
	}
	if n > MaxFilterConditions {
		return E(ErrInvalidInput, &LimitError{Limit: conditionsLimit, Size: n})
	}
	return nil
}
