package open

import "github.com/repokit/repokit/runtime/repo"

// Configure finishes a generated opener: it returns err when the constructor failed, and
// otherwise c configured with the repo.Options among opts (repo.WithCursorKey), which apply
// to the repository of every backend. When an option is invalid it closes c and returns the
// option's error (ErrInvalidInput).
func Configure[T any](c *repo.Collection[T], err error, opts []Option) (*repo.Collection[T], error) {
	if err != nil {
		return nil, err
	}
	if ro := OptionsFor[repo.Option](opts); len(ro) > 0 {
		if err := c.Configure(ro...); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	return c, nil
}
