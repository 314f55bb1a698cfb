// Command nobackend uses a package generated without backends: the descriptor and handles
// work on their own.
package main

import (
	"fmt"
	"os"

	"gentest/nobackend"
)

func main() {
	r := nobackend.Book{Isbn: "1", Title: "T"}
	c := nobackend.BookSchema.Clone(&r)
	if err := nobackend.BookSchema.Prepare(&c); err != nil || c.Title != "T" {
		fmt.Println("FAIL:", err)
		os.Exit(1)
	}
	q := nobackend.BookQuery().Where(nobackend.BookFields.Title.EQ("T"))
	if q.Err() != nil {
		fmt.Println("FAIL:", q.Err())
		os.Exit(1)
	}
	fmt.Println("ok")
}
