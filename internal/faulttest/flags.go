package faulttest

import (
	"flag"
	"time"
)

var longFlag = flag.Bool("faults.long", false, "run the fault matrix and the soak test in their long forms (minutes per backend)")

// Config sizes a fault matrix run. Short (the default, run by every `go test`) keeps a
// backend's matrix near a minute on a 2-CPU machine; -faults.long holds each fault longer.
type Config struct {
	Writers     int           // concurrent writer goroutines
	Warm        time.Duration // writers run this long before the fault
	Hold        time.Duration // how long each fault lasts
	Cool        time.Duration // writers run this long after the fault is removed
	CallTimeout time.Duration // every call's own deadline
	Slack       time.Duration // how much later than its deadline a call may return
	SoakFor     time.Duration // the soak test's mixed load
	SoakWorkers int           // the soak test's goroutines
}

// CurrentConfig returns the short or the long configuration, as -faults.long says.
func CurrentConfig() Config {
	c := Config{Writers: 4, Warm: 300 * time.Millisecond, Hold: 4 * time.Second, Cool: 700 * time.Millisecond,
		CallTimeout: 2 * time.Second, Slack: time.Second, SoakFor: 15 * time.Second, SoakWorkers: 16}
	if *longFlag {
		c.Writers, c.Hold, c.Cool, c.SoakFor, c.SoakWorkers = 8, 30*time.Second, 3*time.Second, 3*time.Minute, 32
	}
	return c
}

// Long reports whether -faults.long was given.
func Long() bool { return *longFlag }
