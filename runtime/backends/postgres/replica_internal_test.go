package postgres

import (
	"context"
	"testing"
)

func TestParseLSN(t *testing.T) {
	for in, want := range map[string]uint64{"0/0": 0, "0/30069F8": 0x30069F8, "1/0": 1 << 32, "FFFFFFFF/FFFFFFFF": 1<<64 - 1} {
		if got, err := parseLSN(in); err != nil || got != want {
			t.Errorf("parseLSN(%q) = %x, %v; want %x", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "x/1", "1/100000000"} {
		if _, err := parseLSN(in); err == nil {
			t.Errorf("parseLSN(%q) did not fail", in)
		}
	}
}

func TestUsePrimary(t *testing.T) {
	ctx := context.Background()
	if usesPrimary(ctx) || !usesPrimary(UsePrimary(ctx)) {
		t.Fatal("UsePrimary is not seen")
	}
	var rs *replicaSet
	rs.markWrite() // a driver without replicas: no-op
	rs.close()
}
