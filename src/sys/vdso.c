// vdso.c: looks functions up in the vDSO's dynamic symbol table, as a dynamic linker would.
#include "sys/vdso.h"

#include <stdbool.h>
#include <stddef.h>

#include "sys/string.h"

sys_vdso_clock_fn sys_vdso_clock_gettime;

// What the lookup needs from the image, found once per call through the
// program headers and the dynamic table.
struct dso {
    uintptr_t bias; // add to a link-time address to get where it is mapped
    const struct elf64_sym *symtab;
    const char *strtab;
    const uint32_t *hash;     // DT_HASH: nbucket, nchain, buckets, chains
    const uint32_t *gnu_hash; // DT_GNU_HASH: nbucket, symoffset, bloom words, shift, ...
    const uint16_t *versym;   // one version index per symbol
    const struct elf64_verdef *verdef;
};

// [snippet: vdso-dynamic]
// The image is mapped whole, so an offset in it is also an offset from ehdr.
// The dynamic table holds link-time addresses; the vDSO is linked at 0, but
// the bias (where PT_LOAD is mapped minus the address it was linked for)
// does not rely on it.
static bool dso_open(struct dso *d, const void *ehdr)
{
    const struct elf64_ehdr *eh = ehdr;
    if (!eh || sys_memcmp(eh->e_ident, "\177ELF", 4) != 0 || eh->e_ident[4] != ELFCLASS64 ||
        eh->e_ident[5] != ELFDATA2LSB || eh->e_phentsize != sizeof(struct elf64_phdr))
        return false;
    const struct elf64_phdr *ph = (const void *)((const char *)eh + eh->e_phoff);
    const struct elf64_dyn *dyn = NULL;
    uintptr_t bias = 0;
    bool loaded = false;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && !loaded) {
            bias = (uintptr_t)eh + ph[i].p_offset - ph[i].p_vaddr;
            loaded = true;
        } else if (ph[i].p_type == PT_DYNAMIC) {
            dyn = (const void *)((const char *)eh + ph[i].p_offset);
        }
    }
    if (!loaded || !dyn)
        return false;
    *d = (struct dso){.bias = bias};
    for (; dyn->d_tag != DT_NULL; dyn++) {
        const void *p = (const void *)(d->bias + dyn->d_val);
        switch (dyn->d_tag) {
        case DT_SYMTAB:
            d->symtab = p;
            break;
        case DT_STRTAB:
            d->strtab = p;
            break;
        case DT_HASH:
            d->hash = p;
            break;
        case DT_GNU_HASH:
            d->gnu_hash = p;
            break;
        case DT_VERSYM:
            d->versym = p;
            break;
        case DT_VERDEF:
            d->verdef = p;
            break;
        }
    }
    return d->symtab && d->strtab && (d->hash || d->gnu_hash);
}
// [end: vdso-dynamic]

// True if symbol i is a defined function called name, of the version asked.
// DT_VERSYM gives each symbol a version index; the DT_VERDEF entry with that
// index names the version ("LINUX_2.6"). An image without them has no versions.
static bool dso_match(const struct dso *d, uint32_t i, const char *name, const char *version)
{
    const struct elf64_sym *s = &d->symtab[i];
    int type = s->st_info & 0xf, bind = s->st_info >> 4;
    if ((type != STT_FUNC && type != STT_NOTYPE) || (bind != STB_GLOBAL && bind != STB_WEAK) ||
        s->st_shndx == SHN_UNDEF || !sys_streq(d->strtab + s->st_name, name))
        return false;
    if (!version || !d->versym || !d->verdef)
        return true;
    uint16_t want = d->versym[i] & 0x7fff; // the top bit marks a hidden symbol
    for (const struct elf64_verdef *v = d->verdef;; v = (const void *)((const char *)v + v->vd_next)) {
        if (!(v->vd_flags & VER_FLG_BASE) && (v->vd_ndx & 0x7fff) == want) {
            const struct elf64_verdaux *aux = (const void *)((const char *)v + v->vd_aux);
            return sys_streq(d->strtab + aux->vda_name, version);
        }
        if (v->vd_next == 0)
            return false;
    }
}

// The System V ABI's hash function, the key of DT_HASH.
static uint32_t elf_hash(const char *name)
{
    uint32_t h = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h = (h << 4) + *p;
        uint32_t g = h & 0xf0000000;
        if (g)
            h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

// GNU's hash function (h * 33 + c), the key of DT_GNU_HASH.
static uint32_t gnu_hash(const char *name)
{
    uint32_t h = 5381;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = h * 33 + *p;
    return h;
}

// [snippet: vdso-hash]
// A hash table maps a name to the few symbols that may have it. DT_HASH:
// bucket[hash % nbucket] is the first symbol of a chain, chain[i] the next
// one, 0 ends it. DT_GNU_HASH sorts the symbols by bucket instead: a bucket
// holds its first symbol, and the chain word of each symbol is its own hash
// with the lowest bit set on the bucket's last symbol. (Its Bloom filter,
// which only answers "surely absent" faster, we skip.)
static uint32_t dso_find(const struct dso *d, const char *name, const char *version)
{
    if (d->gnu_hash) {
        uint32_t nbucket = d->gnu_hash[0], symoffset = d->gnu_hash[1], bloom_words = d->gnu_hash[2];
        if (nbucket == 0)
            return 0;
        const uint32_t *bucket = d->gnu_hash + 4 + 2 * bloom_words; // bloom words are 64 bits
        const uint32_t *chain = bucket + nbucket;
        uint32_t h = gnu_hash(name);
        uint32_t i = bucket[h % nbucket];
        if (i < symoffset)
            return 0; // an empty bucket
        for (;; i++) {
            uint32_t h2 = chain[i - symoffset];
            if ((h | 1) == (h2 | 1) && dso_match(d, i, name, version))
                return i;
            if (h2 & 1)
                return 0;
        }
    }
    uint32_t nbucket = d->hash[0], nchain = d->hash[1];
    if (nbucket == 0)
        return 0;
    const uint32_t *bucket = d->hash + 2, *chain = bucket + nbucket;
    for (uint32_t i = bucket[elf_hash(name) % nbucket], n = 0; i != 0 && i < nchain && n < nchain;
         i = chain[i], n++)
        if (dso_match(d, i, name, version))
            return i;
    return 0; // symbol 0 is the reserved undefined symbol: never a match
}
// [end: vdso-hash]

// [snippet: vdso-sym]
void *sys_vdso_sym(const void *ehdr, const char *name, const char *version)
{
    struct dso d;
    if (!dso_open(&d, ehdr))
        return NULL;
    uint32_t i = dso_find(&d, name, version);
    return i ? (void *)(d.bias + d.symtab[i].st_value) : NULL;
}

void sys_vdso_init(const void *ehdr)
{
    sys_vdso_clock_gettime = (sys_vdso_clock_fn)sys_vdso_sym(ehdr, "__vdso_clock_gettime", "LINUX_2.6");
}
// [end: vdso-sym]
