package elasticsearch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/repo"
)

type fdKind string

// fdItem has a field of every type codec.fast decodes.
type fdItem struct {
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	Kind    *fdKind         `json:"kind,omitempty"`
	Title   *string         `json:"title,omitempty"`
	Rank    *int64          `json:"rank,omitempty"`
	Count   int64           `json:"count"`
	Score   *float64        `json:"score,omitempty"`
	Ratio   float64         `json:"ratio"`
	Flag    *bool           `json:"flag,omitempty"`
	Active  bool            `json:"active"`
	At      *time.Time      `json:"at,omitempty"`
	Created time.Time       `json:"created"`
	Tags    []string        `json:"tags,omitempty"`
	Levels  []fdKind        `json:"levels,omitempty"`
	Nums    []int64         `json:"nums,omitempty"`
	Fs      []float64       `json:"fs,omitempty"`
	Bs      []bool          `json:"bs,omitempty"`
	Ts      []time.Time     `json:"ts,omitempty"`
	Blob    []byte          `json:"blob,omitempty"`
	Meta    json.RawMessage `json:"meta,omitempty"`
	Version string          `json:"-" record:",version"`
}

// fdDriver is a Driver with only what decoding an _mget response uses.
func fdDriver(t testing.TB) *Driver[fdItem] {
	desc := recordtest.MustNew[fdItem]("fd")
	d := &Driver[fdItem]{desc: desc, codec: newCodec(desc), o: Options{Index: "fd"}}
	if !d.codec.direct || d.codec.fast == nil {
		t.Fatal("fdItem is not decoded by codec.fast")
	}
	return d
}

// outcome is what GetMany gives for a chunk: the records, each item's version or error
// message, and the call's error.
type outcome struct {
	recs  []fdItem
	items []string
	err   string
}

func (o outcome) String() string { return fmt.Sprintf("%+v %q %q", o.recs, o.items, o.err) }

func outcomeOf(recs []fdItem, res []repo.Result, err error) outcome {
	o := outcome{recs: recs}
	for _, r := range res {
		if r.Err != nil {
			o.items = append(o.items, "error: "+r.Err.Error())
		} else {
			o.items = append(o.items, r.Version)
		}
	}
	if err != nil {
		o.err = err.Error()
	}
	return o
}

// viaFast is GetMany's decoding of body: decodeDirect, and, on an UnmarshalTypeError,
// getDecoded's per-document decoding of the same response.
func viaFast(d *Driver[fdItem], body []byte, ids []string) outcome {
	recs, res := make([]fdItem, len(ids)), make([]repo.Result, len(ids))
	err := d.decodeDirect(body, ids, recs, res)
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return viaEach(d, body, ids)
	}
	return outcomeOf(recs, res, err)
}

// viaEach decodes body with encoding/json, each _source on its own by codec.decode, as Get.
func viaEach(d *Driver[fdItem], body []byte, ids []string) outcome {
	recs, res := make([]fdItem, len(ids)), make([]repo.Result, len(ids))
	docs, err := decodeMget[mgetDoc](bytes.NewReader(body), d.o.Index, ids)
	if err == nil {
		d.decodeEach(docs, recs, res)
	}
	return outcomeOf(recs, res, err)
}

const fdFull = `{"id":"a","name":"n","kind":"k1","title":"T","rank":7,"count":-3,"score":1.5,"ratio":0,` +
	`"flag":false,"active":true,"at":"2024-01-02T03:04:05.123456Z","created":"2024-01-01T00:00:00Z",` +
	`"tags":["x","y"],"levels":["l"],"nums":[1,-2],"fs":[0.5,1e3],"bs":[true,false],` +
	`"ts":["2024-01-01T00:00:00+02:00"],"blob":"aGVsbG8=","meta":{"a":[1,{"b":null}]},` +
	`"_rk":{"w":"tok","us":{"at":1,"created":2},"has":["meta"]}}`

// fdSources are _source values of every form: plain, and each one codec.fast hands to
// encoding/json (or to codec.decode) instead of decoding it itself.
var fdSources = []string{
	fdFull,
	`{}`, `null`, `{"id":"a"}`,
	` { "id" : "a" , "tags" : [ ] , "nums" : [ 1 , 2 ] } `,
	`{"id":"a","name":"esc\"aped\n\u00e9\ud83d\ude00"}`,
	`{"id":"a","name":"bad \ud800 surrogate"}`,
	"{\"id\":\"a\",\"name\":\"invalid \xff\xfe utf8\"}",
	"{\"id\":\"a\",\"name\":\"caf\xc3\xa9\"}",
	`{"id":"a","title":null,"rank":null,"count":null,"name":null,"at":null,"created":null,"tags":null,"blob":null,"meta":null}`,
	`{"id":"a","meta":"str"}`, `{"id":"a","meta":[]}`, `{"id":"a","meta":12.5e3}`,
	`{"id":"a","count":1.0}`, `{"id":"a","count":1e2}`, `{"id":"a","count":9223372036854775808}`,
	`{"id":"a","count":-9223372036854775808}`, `{"id":"a","count":"5"}`, `{"id":"a","count":true}`,
	`{"id":"a","ratio":1e400}`, `{"id":"a","ratio":-0}`, `{"id":"a","ratio":"1"}`, `{"id":"a","score":-0.0}`,
	`{"id":"a","active":"true"}`, `{"id":"a","active":1}`,
	`{"id":"a","created":"not a time"}`, `{"id":"a","created":12}`, `{"id":"a","at":"2024-13-01T00:00:00Z"}`,
	`{"id":"a","ts":[null]}`, `{"id":"a","tags":[null,"x"]}`, `{"id":"a","tags":"x"}`, `{"id":"a","tags":[1]}`,
	`{"id":"a","nums":[1.5]}`, `{"id":"a","bs":[1]}`,
	`{"id":"a","blob":"not base64!"}`, `{"id":"a","blob":""}`, `{"id":"a","blob":[104,105]}`, `{"id":"a","blob":"aGk\u003d"}`,
	`{"id":"a","Name":"case"}`, `{"id":"a","NAME":"case","name":"x"}`, `{"id":"a","unknown":{"x":1}}`,
	`{"id":"a","name":"one","name":"two"}`, `{"id":"a","tags":["a"],"tags":["b"]}`,
	`{"id":"a","_RK":1}`, `{"id":"a","_rk":null}`, `{"id":"a","n\u0061me":"escaped key"}`,
	`{"id":"a","kind":"x","levels":[]}`, `[]`, `"str"`, `12`,
}

// fdBody is an _mget response: ids[0] found with src, ids[1] missing, ids[2] failed.
func fdBody(src string) string {
	return `{"docs":[{"_index":"fd","_type":"_doc","_id":"a","_version":3,"_seq_no":12,"_primary_term":2,"found":true,"_source":` + src + `},` +
		`{"_index":"fd","_type":"_doc","_id":"b","found":false},` +
		`{"_index":"fd","_type":"_doc","_id":"c","error":{"type":"shard_failure","reason":"boom"}}]}`
}

var fdIDs = []string{"a", "b", "c"}

// TestFastDecodeAsEncodingJSON: every _source form, and envelopes of other shapes, give
// GetMany the records, versions, item errors and call error encoding/json gives.
func TestFastDecodeAsEncodingJSON(t *testing.T) {
	d := fdDriver(t)
	bodies := []string{
		`{"docs":[]}`, `{"docs":null}`, `{}`, `{"docs":[{"_id":"a","found":false}]}`,
		`{"docs":[{"_id":"x","found":false},{"_id":"b","found":false},{"_id":"c","found":false}]}`,
		`{"docs":[{"_id":"a","found":false},{"_id":"b","found":false},{"_id":"c","found":false}],"docs":[]}`,
		`{"took":1,"docs":[{"_id":"a","found":"yes"},{"_id":"b","found":false},{"_id":"c","found":false}]}`,
		`{"docs":[{"_id":"a","found":true,"_seq_no":1.5},{"_id":"b","found":false},{"_id":"c","found":false}]}`,
		`{"docs":[{"_id":"a","FOUND":true},{"_id":"b","found":false},{"_id":"c","found":false}]}`,
		`{"docs":[{"_id":"a","found":true,"error":null,"_source":{"id":"a"}},{"_id":"b","found":false},{"_id":"c","found":false}]} trailing`,
		`{"docs":[{"_id":"a","found":true,"_source":{"id":"a"},"found":false},{"_id":"b","found":false},{"_id":"c","found":false}]}`,
		`{"docs":[{"_id":"a","found":true,"_source":{"id":"a"}},{"_id":"b","found":false},{"_id":"c","found":false},{"_id":"d"}]}`,
		`{"docs":[{"_id":"a","found":true,"_source":{"id":"a"`, `{"docs":[{"_id":"a","found":true,"_source":{"id":"a\u12"}}]}`,
		"{\"docs\":[{\"_id\":\"a\",\"found\":true,\"_source\":{\"id\":\"a\x01\"}}]}", ``, `nul`,
	}
	for _, src := range fdSources {
		bodies = append(bodies, fdBody(src))
	}
	fast := 0
	for _, body := range bodies {
		got, want := viaFast(d, []byte(body), fdIDs), viaEach(d, []byte(body), fdIDs)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s\n got  %v\n want %v", body, got, want)
		}
		docs := make([]fastDoc, len(fdIDs))
		if d.codec.fast.decode([]byte(body), fdIDs, make([]fdItem, len(fdIDs)), docs) && docs[0].done {
			fast++
		}
	}
	// The plain forms are decoded by codec.fast itself, not handed to encoding/json.
	if fast < 10 {
		t.Errorf("codec.fast decoded %d of the %d responses itself", fast, len(bodies))
	}
}

// FuzzFastDecode: any response body gives GetMany the outcome encoding/json gives.
func FuzzFastDecode(f *testing.F) {
	for _, src := range fdSources {
		f.Add(fdBody(src))
	}
	d := fdDriver(f)
	f.Fuzz(func(t *testing.T, body string) {
		got, want := viaFast(d, []byte(body), fdIDs), viaEach(d, []byte(body), fdIDs)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q\n got  %v\n want %v", body, got, want)
		}
	})
}
