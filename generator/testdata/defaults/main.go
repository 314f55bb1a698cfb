// Command defaults checks that every kind of default is applied on create.
package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"time"

	"gentest/defaults"
)

func check(cond bool, format string, args ...any) {
	if !cond {
		fmt.Printf("FAIL: "+format+"\n", args...)
		os.Exit(1)
	}
}

func main() {
	ctx := context.Background()
	r := defaults.NewSettingMemoryRepository()
	s, err := r.Create(ctx, defaults.Setting{Key: "k"})
	check(err == nil, "create: %v", err)
	check(*s.Label == `untitled "draft"` && *s.Note == "" && *s.Owner == "0190a0a0-0000-7000-8000-000000000001", "strings: %+v", s)
	check(*s.Retries == 3 && *s.Neg == math.MinInt64 && *s.Ratio == 0.25 && *s.Weight == 2, "numbers: %+v", s)
	check(*s.Enabled && !*s.Disabled && *s.Mode == defaults.SettingModeSafe && s.Plain == nil, "bool, enum, none: %+v", s)
	want := time.Date(2024, 2, 29, 21, 59, 59, 123456000, time.UTC)
	check(s.Since.Equal(want) && s.Since.Location() == time.UTC, "time: %v", s.Since)

	off := false
	s2, err := r.Create(ctx, defaults.Setting{Key: "k2", Enabled: &off})
	check(err == nil && !*s2.Enabled, "explicit false kept: %+v, %v", s2, err)
	fmt.Println("ok")
}
