package migrate_test

import (
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
