// Command reserved uses records and fields named after Go keywords and SQL reserved words.
package main

import (
	"context"
	"fmt"
	"os"

	"gentest/reserved"
)

func check(cond bool, format string, args ...any) {
	if !cond {
		fmt.Printf("FAIL: "+format+"\n", args...)
		os.Exit(1)
	}
}

func main() {
	ctx := context.Background()
	orders := reserved.NewOrderMemoryRepository()
	typ, sel, grp := "t", true, reserved.OrderGroupB
	o, err := orders.Create(ctx, reserved.Order{ID: "o1", Order: 7, Type: &typ, Select: &sel, Group: &grp, Range: []string{"x"}})
	check(err == nil && *o.Default == "default", "create: %+v, %v", o, err)
	found, err := orders.Find(ctx, reserved.OrderQuery().
		Where(reserved.OrderFields.Order.Between(1, 10), reserved.OrderFields.Type.EQ("t"), reserved.OrderFields.Select.EQ(true),
			reserved.OrderFields.Group.IN(reserved.OrderGroupB), reserved.OrderFields.Range.Contains("x"), reserved.OrderFields.From.NotExists()).
		OrderBy(reserved.OrderFields.Order.Desc()))
	check(err == nil && len(found) == 1, "find: %+v, %v", found, err)

	sels := reserved.NewSelectMemoryRepository()
	_, err = sels.Create(ctx, reserved.Select{ID: "s", Where: "here"})
	check(err == nil, "select: %v", err)
	_, err = reserved.NewMemoryMemoryRepository().Create(ctx, reserved.Memory{ID: "m"})
	check(err == nil, "memory: %v", err)
	_, err = reserved.NewThingWindowsMemoryRepository().Create(ctx, reserved.ThingWindows{ID: "w"})
	check(err == nil, "thing windows: %v", err)
	_, err = reserved.NewRunTestMemoryRepository().Create(ctx, reserved.RunTest{ID: "r"})
	check(err == nil, "run test: %v", err)
	fmt.Println("ok")
}
