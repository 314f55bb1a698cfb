package migrate_test

import (
	"maps"
	"testing"

	"github.com/repokit/repokit/runtime/migrate"
)

func TestOlderCodeProblem(t *testing.T) {
	cases := []struct {
		c    migrate.Change
		want string
	}{
		{migrate.Change{Kind: migrate.AddField, Record: "R", Field: "f"}, ""},
		{migrate.Change{Kind: migrate.AddEnumValues, Record: "R", Field: "f", Values: []string{"x"}}, ""},
		{migrate.Change{Kind: migrate.SetRequired, Record: "R", Field: "f", Default: 1}, ""},
		{migrate.Change{Kind: migrate.AddIndex, Record: "R", Field: "f"}, ""},
		{migrate.Change{Kind: migrate.DropUnique, Record: "R", Field: "f"}, ""},
		{migrate.Change{Kind: migrate.ChangeType, Record: "R", Field: "f", From: "int", To: "float"}, ""},
		{migrate.Change{Kind: migrate.ChangeType, Record: "R", Field: "f", From: "float", To: "int"}, "field f changed type from float to int"},
		{migrate.Change{Kind: migrate.RenameField, Record: "R", Field: "title", From: "label"}, ""},
		{migrate.Change{Kind: migrate.DropOldName, Record: "R", Field: "title", From: "label"}, "the old name label of field title was dropped"},
		{migrate.Change{Kind: migrate.DropField, Record: "R", Field: "f"}, "field f was dropped"},
		{migrate.Change{Kind: migrate.AddUnique, Record: "R", Field: "sku"}, "field sku became unique, and code of this version would write its values without reserving them"},
		{migrate.Change{Kind: migrate.ChangePrefix, Record: "R", From: "a", To: "b"}, "record R moved from prefix a to b"},
		{migrate.Change{Kind: migrate.ChangeIndex, Record: "R", From: "a", To: "b"}, ""},
		{migrate.Change{Kind: migrate.DropRecord, Record: "R"}, "record R was dropped"},
	}
	for _, c := range cases {
		if got := migrate.OlderCodeProblem(c.c); got != c.want {
			t.Errorf("%s: %q, want %q", c.c, got, c.want)
		}
	}
}

func TestKeepMembers(t *testing.T) {
	known := map[string]bool{"id": true, "name": true, "label": true, "title": true}
	skip := func(n string) bool { return known[n] }
	for _, c := range []struct{ name, body, cur, want string }{
		{"nothing stored", `{"id":"a","name":"n"}`, ``, `{"id":"a","name":"n"}`},
		{"only known members", `{"id":"a","name":"n"}`, `{"id":"a","name":"old","label":"x"}`, `{"id":"a","name":"n"}`},
		{"unknown kept in name order", `{"id":"a","name":"n"}`, `{"z":[1,2],"id":"a","note":{"k":"v"},"title":"stale"}`, `{"id":"a","name":"n","note":{"k":"v"},"z":[1,2]}`},
		{"own value wins", `{"id":"a","note":"mine"}`, `{"note":"theirs"}`, `{"id":"a","note":"mine"}`},
		{"empty body", `{}`, `{"note":1}`, `{"note":1}`},
	} {
		body := []byte(c.body)
		for attempt := range 2 { // the caller's body is left alone: a retry merges it again
			got, err := migrate.KeepMembers(body, []byte(c.cur), skip)
			if err != nil || string(got) != c.want || string(body) != c.body {
				t.Errorf("%s, call %d: KeepMembers = %s, %v (body now %s); want %s", c.name, attempt+1, got, err, body, c.want)
			}
		}
	}
	if _, err := migrate.KeepMembers([]byte(`{}`), []byte(`[1]`), skip); err == nil {
		t.Error("KeepMembers of a stored array: no error")
	}
}

func TestNewerNames(t *testing.T) {
	changes := []migrate.Change{
		{Kind: migrate.RenameField, Record: "Item", From: "label", Field: "title"},
		{Kind: migrate.RenameField, Record: "Other", From: "name", Field: "other"},
		{Kind: migrate.AddField, Record: "Item", Field: "note"},
		{Kind: migrate.RenameField, Record: "Item", From: "title", Field: "heading"},
		{Kind: migrate.RenameField, Record: "Item", From: "note", Field: "remark"},
	}
	got := migrate.NewerNames(changes, "Item", []string{"id", "name", "label"})
	want := map[string]bool{"title": true, "heading": true}
	if !maps.Equal(got, want) {
		t.Errorf("NewerNames = %v, want %v", got, want)
	}
}
