package recordtest_test

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/repokit/repokit/examples/shop/shopdb"
	"github.com/repokit/repokit/internal/recordtest"
	"github.com/repokit/repokit/runtime/record"
)

// orderDesc describes the generated shopdb.Order: a uuid id, an indexed uuid, an enum, a
// required list and other names than the record's.
var orderDesc = recordtest.MustNew[shopdb.Order]("Order",
	recordtest.Table("orders"), recordtest.Index("shop-orders"), recordtest.Prefix("shop/orders"), recordtest.IDGenerated(),
	recordtest.Tag("ID", ",uuid"), recordtest.Tag("CustomerID", ",uuid,indexed"),
	recordtest.Tag("Status", ",enum=pending|paid|shipped|cancelled"), recordtest.Tag("SKUs", ",required"),
	recordtest.Tag("Notes", ",text"))

func TestOrderAsGenerated(t *testing.T) {
	sameSchema(t, orderDesc, shopdb.OrderSchema)
	const u = "0190a0a0-0000-7000-8000-000000000001"
	ok := shopdb.Order{ID: u, CustomerID: u, Status: "paid", SKUs: []string{"a"}, Total: math.Copysign(0, -1),
		PlacedAt: time.Date(2025, 1, 2, 3, 4, 5, 999, berlin), Notes: ptr("n")}
	with := func(f func(*shopdb.Order)) shopdb.Order {
		r := shopdb.OrderSchema.Clone(&ok)
		f(&r)
		return r
	}
	for _, c := range []struct {
		name  string
		rec   shopdb.Order
		field string // of the error; "" for none
	}{
		{"valid", ok, ""},
		{"id not a uuid", with(func(r *shopdb.Order) { r.ID = "x" }), "id"},
		{"customer not a uuid", with(func(r *shopdb.Order) { r.CustomerID = "x" }), "customer_id"},
		{"status unknown", with(func(r *shopdb.Order) { r.Status = "lost" }), "status"},
		{"required list nil", with(func(r *shopdb.Order) { r.SKUs = nil }), "skus"},
		{"required list empty", with(func(r *shopdb.Order) { r.SKUs = []string{} }), "skus"},
		{"total NaN", with(func(r *shopdb.Order) { r.Total = math.NaN() }), "total"},
		{"notes NUL", with(func(r *shopdb.Order) { r.Notes = ptr("\x00") }), "notes"},
	} {
		got, want := c.rec, c.rec
		gErr, wErr := orderDesc.Prepare(&got), shopdb.OrderSchema.Prepare(&want)
		var gfe, wfe *record.FieldError
		switch {
		case c.field == "" && (gErr != nil || wErr != nil):
			t.Errorf("%s: Prepare = %v, generated %v", c.name, gErr, wErr)
		case c.field != "" && (!errors.As(gErr, &gfe) || !errors.As(wErr, &wfe) || gfe.Field != c.field || wfe.Field != c.field || gErr.Error() != wErr.Error()):
			t.Errorf("%s: Prepare = %v, generated %v; want both on %s", c.name, gErr, wErr, c.field)
		case c.field == "" && !reflect.DeepEqual(got, want):
			t.Errorf("%s: prepared %+v, generated %+v", c.name, got, want)
		}
	}
}
