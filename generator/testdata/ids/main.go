// Command ids checks provided and generated string and UUID ids.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"gentest/ids"

	"github.com/repokit/repokit/runtime/open"
	"github.com/repokit/repokit/runtime/record"
	"github.com/repokit/repokit/runtime/repo"
)

func check(cond bool, format string, args ...any) {
	if !cond {
		fmt.Printf("FAIL: "+format+"\n", args...)
		os.Exit(1)
	}
}

func isUUID(s string) bool { return record.CheckUUID(s) == nil }

func main() {
	ctx := context.Background()

	sp := ids.NewStringProvidedMemoryRepository()
	_, err := sp.Create(ctx, ids.StringProvided{})
	check(errors.Is(err, repo.ErrInvalidInput), "string provided, empty: %v", err)
	r1, err := sp.Create(ctx, ids.StringProvided{ID: "any string"})
	check(err == nil && r1.ID == "any string", "string provided: %+v, %v", r1, err)
	check(!ids.StringProvidedSchema.IDGenerated, "StringProvided IDGenerated")

	sg := ids.NewStringGeneratedMemoryRepository()
	r2, err := sg.Create(ctx, ids.StringGenerated{})
	check(err == nil && isUUID(r2.ID), "string generated: %+v, %v", r2, err)
	r2b, err := sg.Create(ctx, ids.StringGenerated{ID: "mine"})
	check(err == nil && r2b.ID == "mine", "string generated, given: %+v, %v", r2b, err)

	up := ids.NewUUIDProvidedMemoryRepository()
	_, err = up.Create(ctx, ids.UUIDProvided{ID: "not-a-uuid"})
	check(errors.Is(err, repo.ErrInvalidInput), "uuid provided, bad: %v", err)
	_, err = up.Create(ctx, ids.UUIDProvided{})
	check(errors.Is(err, repo.ErrInvalidInput), "uuid provided, empty: %v", err)
	r3, err := up.Create(ctx, ids.UUIDProvided{ID: "0190a0a0-0000-7000-8000-00000000000a"})
	check(err == nil, "uuid provided: %+v, %v", r3, err)

	ug := ids.NewUUIDGeneratedMemoryRepository()
	r4, err := ug.Create(ctx, ids.UUIDGenerated{})
	check(err == nil && isUUID(r4.ID) && ids.UUIDGeneratedSchema.IDGenerated, "uuid generated: %+v, %v", r4, err)
	got, err := ug.Get(ctx, r4.ID)
	check(err == nil && got.ID == r4.ID, "get: %v", err)
	_, err = ug.Get(ctx, "0190a0a0-0000-7000-8000-00000000000b")
	check(errors.Is(err, repo.ErrNotFound), "not found: %v", err)

	books := ids.NewBookMemoryRepository()
	b, err := books.Create(ctx, ids.Book{Isbn: "978-0", Title: "Go"})
	check(err == nil && ids.BookSchema.Fields[0].Name == "isbn", "book: %+v, %v", b, err)
	found, err := books.Find(ctx, ids.BookQuery().Where(ids.BookFields.Isbn.StartsWith("978")))
	check(err == nil && len(found) == 1, "find by isbn: %v", err)

	bare := ids.NewBareMemoryRepository()
	_, err = bare.Create(ctx, ids.Bare{ID: "b"})
	check(err == nil, "bare: %v", err)
	ok, err := bare.Exists(ctx, "b")
	check(err == nil && ok, "bare exists: %v, %v", ok, err)

	// A package generated with the memory backend alone names the flag that adds another.
	_, err = ids.NewBookRepository(ctx, nil, "postgres://app:hunter2@db/shop")
	check(errors.Is(err, open.ErrNotGenerated) && strings.Contains(err.Error(), "regenerate it with -backends=memory,postgres") &&
		!strings.Contains(err.Error(), "hunter2"), "not generated: %v", err)
	fmt.Println("ok")
}
