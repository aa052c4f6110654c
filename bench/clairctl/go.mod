module clair-bundle/bench/clairctl

go 1.24.9

require github.com/quay/claircore v1.5.48

require (
	clair-bundle/bench/bundlecsv v0.0.0
	github.com/Masterminds/semver v1.5.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/quay/claircore/toolkit v1.3.0 // indirect
	go.uber.org/mock v0.6.0 // indirect
	golang.org/x/mod v0.30.0 // indirect
	golang.org/x/sync v0.18.0 // indirect
	golang.org/x/tools v0.39.0 // indirect
)

replace clair-bundle/bench/bundlecsv => ../bundlecsv
