module github.com/repokit/repokit/bench

go 1.26

replace github.com/repokit/repokit => ../

require github.com/repokit/repokit v0.0.0
