package schema

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// compileJSONSchema compiles the embedded JSON Schema.
func compileJSONSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema))
	if err != nil {
		t.Fatalf("JSONSchema is not well-formed JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("repokit.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("repokit.schema.json")
	if err != nil {
		t.Fatalf("compile JSONSchema: %v", err)
	}
	return sch
}

// yamlToJSONValue converts a YAML document to the value encoding/json would decode.
func yamlToJSONValue(t *testing.T, src []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json: %v", err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// docExample returns the complete example of docs/schema.md: the yaml block after the
// marker comment.
func docExample(t *testing.T) []byte {
	t.Helper()
	doc, err := os.ReadFile("../docs/schema.md")
	if err != nil {
		t.Fatalf("read docs/schema.md: %v", err)
	}
	m := regexp.MustCompile("(?s)<!-- complete example -->\\s*```yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/schema.md has no ```yaml block after <!-- complete example -->")
	}
	return m[1]
}

// TestJSONSchemaAccepts checks that the JSON Schema accepts every valid schema of the tests
// and the docs' complete example, which Parse and Validate also accept.
func TestJSONSchemaAccepts(t *testing.T) {
	sch := compileJSONSchema(t)
	files, err := filepath.Glob("testdata/valid/*.y*ml")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("testdata/valid/*/*.y*ml")
	inputs := map[string][]byte{"docs/schema.md example": docExample(t)}
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[f] = b
	}
	for name, src := range inputs {
		if err := sch.Validate(yamlToJSONValue(t, src)); err != nil {
			t.Errorf("%s: JSON Schema rejects it: %v", name, err)
		}
	}
	// The docs' example is valid for repokit too.
	f, err := Parse("example.yaml", inputs["docs/schema.md example"])
	if err != nil {
		t.Fatalf("docs example: %v", err)
	}
	if err := Validate(&Set{Files: []*File{f}}); err != nil {
		t.Fatalf("docs example: %v", err)
	}
}

// TestJSONSchemaRejects checks that the JSON Schema rejects invalid cases that one file shows,
// the way Parse or Validate does. Cases that need the whole set (duplicates across records,
// Go name collisions) or YAML details are left out.
func TestJSONSchemaRejects(t *testing.T) {
	sch := compileJSONSchema(t)
	skip := map[string]bool{
		// YAML-level problems: not a document the JSON Schema sees.
		"syntax error": true, "tab indentation": true, "second document": true, "alias": true,
		"mapping value error on line 1": true, "parser error reported 0-based": true,
		"invalid UTF-8": true, "control character": true, "UTF-16": true,
		"duplicate key": true, "non-string key": true, "errors in two files": true,
		// Rules across names, values or records that a JSON Schema cannot express.
		"record name derives a long table": true, "duplicate record name": true,
		"record Go names collide across files": true, "duplicate field name": true,
		"field Go names collide": true, "field has the id's name": true, "field has the id's Go name": true,
		"enum values with one Go name": true, "enum value without letters": true,
		"enum values with one ASCII Go name": true, "default not among enum values": true,
		"time default not RFC 3339": true, "uuid default not canonical": true,
		"float default infinite": true, "string default with NUL": true, "version out of range": false,
		"duplicate table": true, "explicit table equals a derived one": true, "duplicate index": true,
		"duplicate prefix": true, "nested prefix": true, "id default": true,
		"renamed_from itself": true, "renamed_from a field still there": true, "two fields renamed from one": true,
	}
	for _, tc := range invalidCases {
		if skip[tc.name] || len(tc.files) != 1 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			src := []byte(tc.files[0].src)
			var v any
			if err := yaml.Unmarshal(src, &v); err != nil {
				t.Skipf("not YAML for this check: %v", err)
			}
			if v == nil {
				v = map[string]any{}
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Skipf("no JSON form: %v", err)
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(doc); err == nil {
				t.Errorf("JSON Schema accepts a schema repokit rejects with:\n%s", tc.want)
			}
		})
	}
}

// TestJSONSchemaKeys checks that the JSON Schema and the parser accept the same keys and types.
func TestJSONSchemaKeys(t *testing.T) {
	var js struct {
		Properties map[string]json.RawMessage
		Defs       map[string]struct {
			Properties map[string]struct {
				Properties map[string]json.RawMessage
				Enum       []string
			}
		} `json:"$defs"`
	}
	if err := json.Unmarshal(JSONSchema, &js); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]json.RawMessage) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	keys2 := func(m map[string]struct {
		Properties map[string]json.RawMessage
		Enum       []string
	}) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	sorted := func(s []string) []string { s = slices.Clone(s); sort.Strings(s); return s }
	record := js.Defs["record"].Properties
	for _, tc := range []struct {
		name      string
		jsonKeys  []string
		parseKeys []string
	}{
		{"file", keys(js.Properties), fileKeys},
		{"record", keys2(record), recordKeys},
		{"id", keys2(js.Defs["id"].Properties), idKeys},
		{"field", keys2(js.Defs["field"].Properties), fieldKeys},
		{"postgres", keys(record["postgres"].Properties), pgKeys},
		{"elasticsearch", keys(record["elasticsearch"].Properties), esKeys},
		{"s3", keys(record["s3"].Properties), s3Keys},
	} {
		if diff := cmp.Diff(sorted(tc.parseKeys), tc.jsonKeys); diff != "" {
			t.Errorf("%s keys (-parser +JSON Schema):\n%s", tc.name, diff)
		}
	}
	wantTypes := typeNames(Types)
	for _, e := range ListElemTypes {
		wantTypes = append(wantTypes, "list<"+string(e)+">")
	}
	if diff := cmp.Diff(sorted(wantTypes), sorted(js.Defs["field"].Properties["type"].Enum)); diff != "" {
		t.Errorf("field types (-parser +JSON Schema):\n%s", diff)
	}
	if got := strings.Join(js.Defs["id"].Properties["type"].Enum, ","); got != "string,uuid" {
		t.Errorf("id types = %s", got)
	}
}
