package migrate

import "testing"

// TestUpgradeJSON: documents older than the newest version are upgraded with the backend's
// members dropped and numbers kept exact; newer ones are returned as they are.
func TestUpgradeJSON(t *testing.T) {
	h, _ := history(t, v1(), v2())
	u, err := h.Upgrader("Product")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		from     int64
		in, want string
		err      bool
	}{
		{1, `{"@rev":"r","@schema":1,"id":"a","name":"n","stock":7,"label":"L"}`,
			`{"id":"a","label":"L","name":"n","stock":7,"title":"L","weight":1.5}`, false}, // label: the old name kept
		{1, `{"id":"a","name":"n"}`, `{"id":"a","name":"n","weight":1.5}`, false},
		{2, `{"@rev":"r","@schema":2,"id":"a"}`, `{"@rev":"r","@schema":2,"id":"a"}`, false},
		{1, `[1]`, ``, true},
		{1, `null`, ``, true},
	} {
		got, err := u.UpgradeJSON([]byte(c.in), c.from, "@rev", "@schema")
		if (err != nil) != c.err || string(got) != c.want {
			t.Errorf("UpgradeJSON(%s, %d) = %s, %v; want %s (error %v)", c.in, c.from, got, err, c.want, c.err)
		}
	}
}
