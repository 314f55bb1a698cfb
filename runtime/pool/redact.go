package pool

import (
	"net/url"
	"sort"
	"strings"
)

// Mask replaces secrets in Redacted output and in redacted error texts.
const Mask = "xxxxx"

// redactSecrets replaces every non-empty secret in s, raw and in its URL-escaped forms.
func redactSecrets(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		forms := []string{sec, url.QueryEscape(sec), url.PathEscape(sec),
			strings.TrimPrefix(url.UserPassword("", sec).String(), ":")}
		// Longest first, so an escaped form is not half-replaced by a shorter one.
		sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
		for _, f := range forms {
			if f != "" {
				s = strings.ReplaceAll(s, f, Mask)
			}
		}
	}
	return s
}

func sortStrings(s []string) { sort.Strings(s) }
