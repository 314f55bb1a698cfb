// Command enums checks enum and list<enum> fields.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"gentest/enums"

	"github.com/repokit/repokit/runtime/repo"
)

func check(cond bool, format string, args ...any) {
	if !cond {
		fmt.Printf("FAIL: "+format+"\n", args...)
		os.Exit(1)
	}
}

func main() {
	ctx := context.Background()
	r := enums.NewTicketMemoryRepository()
	t, err := r.Create(ctx, enums.Ticket{ID: "t1", State: enums.TicketStateInProgress,
		Labels: []enums.TicketLabel{enums.TicketLabelBug, enums.TicketLabelUI}, Categories: []enums.TicketCategory{enums.TicketCategoryA}})
	check(err == nil && *t.Priority == enums.TicketPriorityLow, "create: %+v, %v", t, err)
	_, err = r.Create(ctx, enums.Ticket{ID: "t2", State: enums.TicketState2fa, Categories: []enums.TicketCategory{"zzz"}})
	check(errors.Is(err, repo.ErrInvalidInput), "bad list<enum> value: %v", err)
	_, err = r.Create(ctx, enums.Ticket{ID: "t2", State: enums.TicketStateDone})
	check(errors.Is(err, repo.ErrInvalidInput), "required list<enum> empty: %v", err)
	_, err = r.Create(ctx, enums.Ticket{ID: "t2", State: "", Categories: []enums.TicketCategory{enums.TicketCategoryB}})
	check(errors.Is(err, repo.ErrInvalidInput), "required enum empty: %v", err)
	_, err = r.Create(ctx, enums.Ticket{ID: "t2", State: enums.TicketStateHTTPError, Categories: []enums.TicketCategory{enums.TicketCategoryB},
		Boxes: []enums.TicketBox{enums.TicketBoxLarge}, Status: []enums.TicketStatus{enums.TicketStatusX}})
	check(err == nil, "create t2: %v", err)

	found, err := r.Find(ctx, enums.TicketQuery().Where(enums.TicketFields.Labels.Contains(enums.TicketLabelUI)))
	check(err == nil && len(found) == 1 && found[0].ID == "t1", "contains: %+v, %v", found, err)
	found, err = r.Find(ctx, enums.TicketQuery().Where(enums.TicketFields.Labels.NotExists()).OrderBy(enums.TicketFields.State.Desc()))
	check(err == nil && len(found) == 1 && found[0].ID == "t2", "labels missing: %+v, %v", found, err)
	fmt.Println("ok")
}
