// address.c: parsing IPv4 addresses and ports, and creating the listening socket.
#include "net/net.h"
#include "sys/fmt.h"
#include "sys/string.h"
#include "sys/sys.h"

int net_parse_ipv4(const char *s, uint32_t *addr_be)
{
    uint8_t parts[4];
    for (int i = 0; i < 4; i++) {
        size_t n = 0;
        while (s[n] >= '0' && s[n] <= '9')
            n++;
        uint64_t v;
        if (n == 0 || n > 3 || sys_parse_u64(s, n, &v) < 0 || v > 255 || (n > 1 && s[0] == '0'))
            return -1;
        parts[i] = (uint8_t)v;
        s += n;
        if (i < 3 && *s++ != '.')
            return -1;
    }
    if (*s)
        return -1;
    sys_memcpy(addr_be, parts, 4); // the bytes in order are network byte order
    return 0;
}

int net_parse_port(const char *s, uint16_t *port)
{
    uint64_t v;
    if (sys_parse_u64(s, sys_strlen(s), &v) < 0 || v < 1 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

static uint16_t to_be16(uint16_t v) { return (uint16_t)(v << 8 | v >> 8); }

int net_set_nodelay(int fd)
{
    int one = 1;
    return sys_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// [snippet: net-listen]
static int listen_socket(uint32_t addr_be, uint16_t port, int backlog, bool reuseport)
{
    int fd = sys_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fd;
    int one = 1;
    // Restarting the server must not fail while old connections sit in TIME_WAIT.
    int r = sys_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (r == 0 && reuseport)
        r = sys_setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    // Linux copies TCP_NODELAY from the listening socket to each accepted
    // one, which saves a setsockopt per connection.
    if (r == 0)
        r = net_set_nodelay(fd);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = to_be16(port), .sin_addr = addr_be};
    if (r == 0)
        r = sys_bind(fd, &sa, sizeof sa);
    if (r == 0)
        r = sys_listen(fd, backlog);
    if (r < 0) {
        sys_close(fd);
        return r;
    }
    return fd;
}
// [end: net-listen]

int net_listen(uint32_t addr_be, uint16_t port, int backlog)
{
    return listen_socket(addr_be, port, backlog, false);
}

int net_listen_reuseport(uint32_t addr_be, uint16_t port, int backlog)
{
    return listen_socket(addr_be, port, backlog, true);
}

int net_local_port(int fd)
{
    struct sockaddr_in sa;
    unsigned len = sizeof sa;
    int r = sys_getsockname(fd, &sa, &len);
    return r < 0 ? r : to_be16(sa.sin_port);
}
