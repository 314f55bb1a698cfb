package memory

import "github.com/repokit/repokit/runtime/repo"

// Telemetry implements repo.TelemetryDriver: db.system.name "memory" and the record name;
// the providers are otel's global ones unless repo.New is given others
// (repo.WithTracerProvider, repo.WithMeterProvider).
func (d *Driver[T]) Telemetry() repo.Telemetry {
	return repo.Telemetry{System: "memory", Collection: d.desc.Name}
}
