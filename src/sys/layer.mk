# layer.mk (sys): the pure parts of the syscall layer, also built hosted for differential tests.
PURE_SRCS_sys := src/sys/string.c src/sys/fmt.c
