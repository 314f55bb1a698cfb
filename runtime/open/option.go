package open

// Option is an option of one backend's repositories, passed through a generated opener to
// the backend the target names: postgres.Option, s3.Option and elasticsearch.Option are
// Options. A generated opener hands each backend the options of its own type and ignores the
// others, so a program that picks its backend at run time passes the options of every
// backend it may pick:
//
//	products, err := shopdb.NewProductRepository(ctx, m, url,
//		s3.WithConcurrency(32), elasticsearch.WithRefresh(elasticsearch.RefreshFalse))
type Option interface {
	// ForBackend returns the backend the option is for, e.g. "postgres".
	ForBackend() string
}

// OptionsFor returns the options of type O among opts, in order: what a generated opener
// passes to the constructor of O's backend.
func OptionsFor[O Option](opts []Option) []O {
	var out []O
	for _, o := range opts {
		if v, ok := o.(O); ok {
			out = append(out, v)
		}
	}
	return out
}
