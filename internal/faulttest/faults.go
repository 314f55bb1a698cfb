package faulttest

// Fault is one network fault of the matrix: toxics added to the backend's proxy for the
// fault's duration, or the proxy disabled for that long.
type Fault struct {
	Name    string  // short name, used in ids and the report
	Doc     string  // what it does, for the report
	Toxics  []Toxic // added when the fault starts, removed when it ends
	Disable bool    // disable the proxy (connection refused, open connections closed)
}

func toxic(name, typ, stream string, toxicity float64, attrs map[string]any) Toxic {
	return Toxic{Name: name, Type: typ, Stream: stream, Toxicity: toxicity, Attributes: attrs}
}

// Faults returns the matrix's faults, in the order they run. Their sizes are chosen against
// the per-call deadline (Config.CallTimeout, 2 s by default) so that each fault makes some
// calls fail and lets others through.
func Faults() []Fault {
	return []Fault{
		{Name: "latency", Doc: "latency spike: 700 ms ± 700 ms each way (some calls outlive their deadline)", Toxics: []Toxic{
			toxic("f_latency_up", "latency", "upstream", 1, map[string]any{"latency": 700, "jitter": 700}),
			toxic("f_latency_down", "latency", "downstream", 1, map[string]any{"latency": 700, "jitter": 700}),
		}},
		{Name: "reset_peer", Doc: "reset_peer: half of the connections reset (RST) 200 ms after they carry data", Toxics: []Toxic{
			toxic("f_reset", "reset_peer", "downstream", 0.5, map[string]any{"timeout": 200}),
		}},
		{Name: "timeout", Doc: "timeout: half of the connections swallow data and never answer until the toxic goes (then the bytes are lost)", Toxics: []Toxic{
			toxic("f_timeout", "timeout", "downstream", 0.5, map[string]any{"timeout": 0}),
		}},
		{Name: "bandwidth", Doc: "bandwidth limit: 4 KB/s each way", Toxics: []Toxic{
			toxic("f_bw_up", "bandwidth", "upstream", 1, map[string]any{"rate": 4}),
			toxic("f_bw_down", "bandwidth", "downstream", 1, map[string]any{"rate": 4}),
		}},
		{Name: "slicer", Doc: "slicer: every stream cut into 1-15 byte pieces 100 µs apart", Toxics: []Toxic{
			toxic("f_slicer_up", "slicer", "upstream", 1, map[string]any{"average_size": 8, "size_variation": 7, "delay": 100}),
			toxic("f_slicer_down", "slicer", "downstream", 1, map[string]any{"average_size": 8, "size_variation": 7, "delay": 100}),
		}},
		{Name: "down", Doc: "proxy disabled: connections closed, new ones refused", Disable: true},
	}
}
