package eval_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"

	"github.com/repokit/repokit/runtime/query"
	"github.com/repokit/repokit/runtime/record"
)

// rec is a hand-written record with one field of every kind, shaped like generated code.
type rec struct {
	ID    string
	S     *string // optional string
	Name  string  // required text
	U     *string // optional uuid
	E     *string // optional enum (red, green, blue)
	I     *int64
	F     *float64
	B     *bool
	T     *time.Time
	By    []byte
	JS    json.RawMessage
	Ss    []string
	Is    []int64
	Fs    []float64
	Bs    []bool
	Ts    []time.Time
	Es    []string // enum list
	Count int64    // required int

	Version string
}

func ptr[V any](v V) *V { return &v }

func optStr(p *string) (string, bool) {
	if p == nil {
		return "", false
	}
	return *p, true
}

func opt[V any](p *V) (V, bool) {
	if p == nil {
		var zero V
		return zero, false
	}
	return *p, true
}

func cloneP[V any](p *V) *V {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneRec(r *rec) rec {
	c := *r
	c.S, c.U, c.E = cloneP(r.S), cloneP(r.U), cloneP(r.E)
	c.I, c.F, c.B, c.T = cloneP(r.I), cloneP(r.F), cloneP(r.B), cloneP(r.T)
	c.By, c.JS = bytes.Clone(r.By), bytes.Clone(r.JS)
	c.Ss, c.Is, c.Fs, c.Bs, c.Ts, c.Es = slices.Clone(r.Ss), slices.Clone(r.Is), slices.Clone(r.Fs), slices.Clone(r.Bs), slices.Clone(r.Ts), slices.Clone(r.Es)
	return c
}

var recFields = []record.Field[rec]{
	{Name: "id", Kind: query.KindString, Str: func(r *rec) (string, bool) { return r.ID, true }},
	{Name: "s", Kind: query.KindString, Optional: true, Str: func(r *rec) (string, bool) { return optStr(r.S) }},
	{Name: "name", Kind: query.KindText, Str: func(r *rec) (string, bool) { return r.Name, true }},
	{Name: "u", Kind: query.KindUUID, Optional: true, Str: func(r *rec) (string, bool) { return optStr(r.U) }},
	{Name: "e", Kind: query.KindEnum, Optional: true, Enum: []string{"red", "green", "blue"}, Str: func(r *rec) (string, bool) { return optStr(r.E) }},
	{Name: "i", Kind: query.KindInt, Optional: true, Int: func(r *rec) (int64, bool) { return opt(r.I) }},
	{Name: "f", Kind: query.KindFloat, Optional: true, Float: func(r *rec) (float64, bool) { return opt(r.F) }},
	{Name: "b", Kind: query.KindBool, Optional: true, Bool: func(r *rec) (bool, bool) { return opt(r.B) }},
	{Name: "t", Kind: query.KindTime, Optional: true, Time: func(r *rec) (time.Time, bool) { return opt(r.T) }},
	{Name: "by", Kind: query.KindBytes, Optional: true, Bytes: func(r *rec) ([]byte, bool) { return r.By, len(r.By) > 0 }},
	{Name: "js", Kind: query.KindJSON, Optional: true, Bytes: func(r *rec) ([]byte, bool) { return r.JS, len(r.JS) > 0 }},
	{Name: "ss", Kind: query.KindString, List: true, Optional: true, Strs: func(r *rec) []string { return r.Ss }},
	{Name: "is", Kind: query.KindInt, List: true, Optional: true, Ints: func(r *rec) []int64 { return r.Is }},
	{Name: "fs", Kind: query.KindFloat, List: true, Optional: true, Floats: func(r *rec) []float64 { return r.Fs }},
	{Name: "bs", Kind: query.KindBool, List: true, Optional: true, Bools: func(r *rec) []bool { return r.Bs }},
	{Name: "ts", Kind: query.KindTime, List: true, Optional: true, Times: func(r *rec) []time.Time { return r.Ts }},
	{Name: "es", Kind: query.KindEnum, List: true, Optional: true, Enum: []string{"red", "green", "blue"}, Strs: func(r *rec) []string { return r.Es }},
	{Name: "count", Kind: query.KindInt, Int: func(r *rec) (int64, bool) { return r.Count, true }},
}

var recDesc = record.MustNew(&record.Desc[rec]{
	Name:       "Rec",
	Fields:     recFields,
	GetID:      func(r *rec) string { return r.ID },
	SetID:      func(r *rec, id string) { r.ID = id },
	GetVersion: func(r *rec) string { return r.Version },
	SetVersion: func(r *rec, v string) { r.Version = v },
	Clone:      cloneRec,
	Prepare:    func(*rec) error { return nil },
	Addr: func(r *rec, field int) any {
		switch recFields[field].Name {
		case "id":
			return &r.ID
		case "s":
			return &r.S
		case "name":
			return &r.Name
		case "u":
			return &r.U
		case "e":
			return &r.E
		case "i":
			return &r.I
		case "f":
			return &r.F
		case "b":
			return &r.B
		case "t":
			return &r.T
		case "by":
			return &r.By
		case "js":
			return &r.JS
		case "ss":
			return &r.Ss
		case "is":
			return &r.Is
		case "fs":
			return &r.Fs
		case "bs":
			return &r.Bs
		case "ts":
			return &r.Ts
		case "es":
			return &r.Es
		case "count":
			return &r.Count
		}
		return nil
	},
	Project: func(dst, src *rec, fields []int) {
		dst.ID = src.ID
		for _, i := range fields {
			switch recFields[i].Name {
			case "s":
				dst.S = src.S
			case "name":
				dst.Name = src.Name
			case "u":
				dst.U = src.U
			case "e":
				dst.E = src.E
			case "i":
				dst.I = src.I
			case "f":
				dst.F = src.F
			case "b":
				dst.B = src.B
			case "t":
				dst.T = src.T
			case "by":
				dst.By = src.By
			case "js":
				dst.JS = src.JS
			case "ss":
				dst.Ss = src.Ss
			case "is":
				dst.Is = src.Is
			case "fs":
				dst.Fs = src.Fs
			case "bs":
				dst.Bs = src.Bs
			case "ts":
				dst.Ts = src.Ts
			case "es":
				dst.Es = src.Es
			case "count":
				dst.Count = src.Count
			}
		}
	},
})

// handles, as generated code would declare them.
var (
	fID    = query.NewStringField[rec]("id")
	fS     = query.NewStringField[rec]("s")
	fName  = query.NewStringField[rec]("name")
	fU     = query.NewStringField[rec]("u")
	fE     = query.NewEnumField[rec, string]("e")
	fI     = query.NewIntField[rec]("i")
	fF     = query.NewFloatField[rec]("f")
	fB     = query.NewBoolField[rec]("b")
	fT     = query.NewTimeField[rec]("t")
	fBy    = query.NewPresenceField[rec]("by")
	fJS    = query.NewPresenceField[rec]("js")
	fSs    = query.NewStringListField[rec]("ss")
	fIs    = query.NewIntListField[rec]("is")
	fFs    = query.NewFloatListField[rec]("fs")
	fBs    = query.NewBoolListField[rec]("bs")
	fTs    = query.NewTimeListField[rec]("ts")
	fEs    = query.NewEnumListField[rec, string]("es")
	fCount = query.NewIntField[rec]("count")
)

// recDescAccessors is recDesc with an Addr that never answers, so that every field is read
// through its accessor closure instead of at its offset.
var recDescAccessors = record.MustNew(&record.Desc[rec]{
	Name:       "Rec",
	Fields:     recFields,
	GetID:      recDesc.GetID,
	SetID:      recDesc.SetID,
	GetVersion: recDesc.GetVersion,
	SetVersion: recDesc.SetVersion,
	Clone:      recDesc.Clone,
	Prepare:    recDesc.Prepare,
	Project:    recDesc.Project,
	Addr:       func(*rec, int) any { return nil },
})
