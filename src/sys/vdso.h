// vdso.h: finds functions in the vDSO, the small ELF library the kernel maps into every process.
#ifndef SYS_VDSO_H
#define SYS_VDSO_H

#include <stdint.h>

#include "sys/kernel_abi.h"

// ---- the ELF ABI, as much of it as a symbol lookup reads ------------------------
// Spelled out here (System V gABI, "Object Files" and "Dynamic Linking"; the
// GNU symbol versioning and hash extensions), as tools/include/nolibc spells
// out the kernel's structures: <elf.h> belongs to the C library.
struct elf64_ehdr {
    unsigned char e_ident[16]; // "\177ELF", class, data, version, ...
    uint16_t e_type;
    uint16_t e_machine;
    uint32_t e_version;
    uint64_t e_entry;
    uint64_t e_phoff; // program headers: file offset ...
    uint64_t e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize;
    uint16_t e_phentsize; // ... size of one ...
    uint16_t e_phnum;     // ... and how many
    uint16_t e_shentsize;
    uint16_t e_shnum;
    uint16_t e_shstrndx;
};
struct elf64_phdr {
    uint32_t p_type;
    uint32_t p_flags;
    uint64_t p_offset; // where the segment starts in the image
    uint64_t p_vaddr;  // the address it was linked for
    uint64_t p_paddr;
    uint64_t p_filesz;
    uint64_t p_memsz;
    uint64_t p_align;
};
struct elf64_dyn {
    int64_t d_tag;  // DT_*
    uint64_t d_val; // a number or a link-time address
};
struct elf64_sym {
    uint32_t st_name;      // offset of the name in the string table
    unsigned char st_info; // binding << 4 | type
    unsigned char st_other;
    uint16_t st_shndx; // SHN_UNDEF: not defined here
    uint64_t st_value; // link-time address
    uint64_t st_size;
};
struct elf64_verdef {
    uint16_t vd_version;
    uint16_t vd_flags; // VER_FLG_BASE: the library's own name, not a version
    uint16_t vd_ndx;   // the index DT_VERSYM entries refer to
    uint16_t vd_cnt;
    uint32_t vd_hash;
    uint32_t vd_aux;  // offset of the first elf64_verdaux: the version's name
    uint32_t vd_next; // offset of the next elf64_verdef, 0 at the last
};
struct elf64_verdaux {
    uint32_t vda_name; // offset of the name in the string table
    uint32_t vda_next;
};
_Static_assert(sizeof(struct elf64_ehdr) == 64, "Elf64_Ehdr is 64 bytes");
_Static_assert(sizeof(struct elf64_phdr) == 56, "Elf64_Phdr is 56 bytes");
_Static_assert(sizeof(struct elf64_dyn) == 16, "Elf64_Dyn is 16 bytes");
_Static_assert(sizeof(struct elf64_sym) == 24, "Elf64_Sym is 24 bytes");
_Static_assert(sizeof(struct elf64_verdef) == 20, "Elf64_Verdef is 20 bytes");

#define ELFCLASS64   2
#define ELFDATA2LSB  1
#define PT_LOAD      1
#define PT_DYNAMIC   2
#define DT_NULL      0
#define DT_HASH      4
#define DT_STRTAB    5
#define DT_SYMTAB    6
#define DT_GNU_HASH  0x6ffffef5
#define DT_VERSYM    0x6ffffff0
#define DT_VERDEF    0x6ffffffc
#define STT_NOTYPE   0
#define STT_FUNC     2
#define STB_GLOBAL   1
#define STB_WEAK     2
#define SHN_UNDEF    0
#define VER_FLG_BASE 1

// ---- the lookup --------------------------------------------------------------
// Address of the function `name` in the ELF image mapped at ehdr, with the
// symbol version `version` (NULL: any version). Returns NULL if ehdr is NULL,
// is not a 64-bit little-endian ELF image with a dynamic symbol table and a
// hash table, or defines no such function. Beyond those checks it trusts the
// image: the kernel made it.
void *sys_vdso_sym(const void *ehdr, const char *name, const char *version);

// The vDSO's clock_gettime: it has the syscall's contract (0 or -errno) and
// reads the clock in user space when the kernel's clock source allows it.
typedef int (*sys_vdso_clock_fn)(int clock, struct timespec *ts);
// __vdso_clock_gettime, or NULL when there is none: set by sys_vdso_init
// before main runs and not written after, so every thread may read it.
extern sys_vdso_clock_fn sys_vdso_clock_gettime;
// Looks the vDSO's functions up in the image at ehdr: AT_SYSINFO_EHDR, or
// NULL when the kernel mapped no vDSO. _start calls it once.
void sys_vdso_init(const void *ehdr);

#endif
