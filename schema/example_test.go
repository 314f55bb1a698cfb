package schema_test

import (
	"errors"
	"fmt"

	"github.com/repokit/repokit/schema"
)

func ExampleParse() {
	src := []byte(`version: 1
records:
  - name: OrderLine
    id: {type: uuid}
    fields:
      - {name: quantity, type: int, required: true}
      - {name: status, type: enum, values: [open, shipped], default: open}
`)
	f, err := schema.Parse("orders.yaml", src)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := schema.Validate(&schema.Set{Files: []*schema.File{f}}); err != nil {
		fmt.Println(err)
		return
	}
	r := f.Records[0]
	fmt.Println(r.GoName(), r.Table, r.ID.Type, r.ID.Generated)
	for _, fd := range r.Fields {
		fmt.Println(fd.GoName(), fd.TypeString(), fd.Required, fd.Default)
	}
	// Output:
	// OrderLine order_line uuid true
	// Quantity int true <nil>
	// Status enum false open
}

func ExampleValidate() {
	src := []byte(`version: 1
records:
  - name: Product
    fields:
      - {name: status, type: enum}
      - {name: price, type: float, required: true, default: x}
`)
	f, err := schema.Parse("catalog.yaml", src)
	if err != nil {
		fmt.Println(err)
		return
	}
	err = schema.Validate(&schema.Set{Files: []*schema.File{f}})
	fmt.Println(err)
	fmt.Println(errors.Is(err, schema.ErrMissing))
	var e *schema.Error
	if errors.As(err, &e) {
		fmt.Println(e.Pos.Line, e.Record, e.Field)
	}
	// Output:
	// catalog.yaml:5:30: record Product, field status: an enum field needs values: a non-empty list of strings
	// catalog.yaml:6:61: record Product, field price: default must be a number, got string "x"
	// true
	// 5 Product status
}

func ExampleGoName() {
	for _, name := range []string{"order_line", "OrderLine", "product_id", "api_url", "type"} {
		fmt.Println(schema.GoName(name), schema.SnakeName(name))
	}
	// Output:
	// OrderLine order_line
	// OrderLine order_line
	// ProductID product_id
	// APIURL api_url
	// Type type
}
