// Command search checks the Search and SearchPhrase handles of searchable text fields.
package main

import (
	"context"
	"fmt"
	"os"

	"gentest/search"
)

func check(cond bool, format string, args ...any) {
	if !cond {
		fmt.Printf("FAIL: "+format+"\n", args...)
		os.Exit(1)
	}
}

func main() {
	ctx := context.Background()
	r := search.NewArticleMemoryRepository()
	body := "The runners were running to the café"
	_, err := r.Create(ctx, search.Article{ID: "a1", Title: "Running", Body: &body})
	check(err == nil, "create: %v", err)
	F, Q := search.ArticleFields, search.ArticleQuery
	for _, c := range []struct {
		what string
		q    func() (int, error)
		want int
	}{
		{"english stems", func() (int, error) { n, err := r.Count(ctx, Q().Where(F.Body.Search("RUN cafe"))); return int(n), err }, 1},
		{"english phrase", func() (int, error) {
			n, err := r.Count(ctx, Q().Where(F.Body.SearchPhrase("running to the")))
			return int(n), err
		}, 1},
		{"simple does not stem", func() (int, error) { n, err := r.Count(ctx, Q().Where(F.Title.Search("run"))); return int(n), err }, 0},
	} {
		n, err := c.q()
		check(err == nil && n == c.want, "%s: %d, %v; want %d", c.what, n, err, c.want)
	}
	fmt.Println("ok")
}
