package postgres

// SetCopyDeallocateHook makes d call f each time a COPY drops its connection's cached
// statements because the column types changed (see copyTypes); before any use.
func SetCopyDeallocateHook[T any](d *Driver[T], f func()) { d.onCopyDeallocate = f }
