module cgo_leak

go 1.19
