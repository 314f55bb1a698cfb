// Package open turns a target — a URL, a backend name with a config map, or an entry of the
// seed's databases: YAML file — into a Target: the backend that serves it and its pool
// configuration. Generated packages open their repositories on a Target: per record
// New<R>Repository(ctx, m, url, opts...), New<R>RepositoryFromConfig(ctx, m, file, backend,
// opts...) and New<R>RepositoryFromTarget, and per package Open, OpenFromConfig and
// OpenFromTarget, which open one repository per record (see docs/opening.md).
//
// One parser per URL scheme, the way the Go CDK's URL openers (docstore.OpenCollection) do:
//
//	scheme                                   backend        form
//	mem://, memory://                        memory         mem:// (a new, empty in-memory store per repository)
//	postgres://, postgresql://               postgres       a pgx connection URL, as pgx takes it
//	s3://                                    s3             s3://BUCKET[/PREFIX][?endpoint=URL&region=NAME&path_style=true&max_connections=N]
//	elasticsearch://, elasticsearch+http://  elasticsearch  elasticsearch://[USER:PASSWORD@]HOST[:PORT][,HOST[:PORT]...][?PARAMS] (http)
//	elasticsearch+https://                   elasticsearch  the same over https
//
// S3 credentials never come from a URL: they come from the AWS SDK's default chain
// (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role, ...) or from
// aws_access_key_id and aws_secret_access_key in a config map or file.
//
// Every error wraps pool.ErrInvalidConfig, names what is accepted, and quotes a URL only with
// its password and secret-looking query values masked. The package links no driver: it
// needs only runtime/pool, so a program can parse targets without the backends.
package open
