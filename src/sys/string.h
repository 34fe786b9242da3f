// string.h: memory and string helpers; mem* exist under their libc names because compilers call them.
#ifndef SYS_STRING_H
#define SYS_STRING_H

#include <stdbool.h>
#include <stddef.h>

// The implementations, under our own names so a hosted test can compare them with libc's.
void *sys_memcpy(void *dst, const void *src, size_t n);
void *sys_memmove(void *dst, const void *src, size_t n);
void *sys_memset(void *dst, int c, size_t n);
int sys_memcmp(const void *a, const void *b, size_t n);
size_t sys_strlen(const char *s);

#ifndef HOSTED
// Even with -ffreestanding, GCC and Clang emit calls to these four for struct
// copies and zeroing, so every freestanding program needs them by these names.
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
#endif

// True if the NUL-terminated strings are equal.
bool sys_streq(const char *a, const char *b);
// True if s starts with prefix.
bool sys_starts_with(const char *s, const char *prefix);
// Case-insensitive comparison of n bytes (ASCII only).
bool sys_memeq_nocase(const void *a, const void *b, size_t n);

#endif
