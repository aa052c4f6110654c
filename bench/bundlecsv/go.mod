module clair-bundle/bench/bundlecsv

go 1.24.9
