package generator

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// repokit help lists every flag of repokit generate that docs/generator.md documents (its
// "- `-flag`" items), with its description, and the short usage names them too.
func TestHelpListsDocumentedFlags(t *testing.T) {
	doc, err := os.ReadFile("../docs/generator.md")
	if err != nil {
		t.Fatal(err)
	}
	flags := regexp.MustCompile("(?m)^- `(-[a-z-]+)").FindAllStringSubmatch(string(doc), -1)
	if len(flags) < 4 {
		t.Fatalf("docs/generator.md documents %d flags, want at least -out, -package, -backends, -import", len(flags))
	}
	var stdout bytes.Buffer
	if code := Main([]string{"help"}, &stdout, &stdout); code != 0 {
		t.Fatalf("repokit help: exit status %d", code)
	}
	for _, f := range flags {
		if !strings.Contains(stdout.String(), "\n  "+f[1]+" ") {
			t.Errorf("repokit help does not list %s:\n%s", f[1], stdout.String())
		}
		if !strings.Contains(shortUsage, f[1]+" ") {
			t.Errorf("the short usage does not name %s: %s", f[1], shortUsage)
		}
	}
}
