/* SPDX-License-Identifier: BSD-2-Clause */
/* Remote ports between Linux processes; see include/ward/host/linux/port_linux.h. */
#include "ward/host/linux/port_linux.h"
#include "ward/host/linux/event_loop.h"
#include "ward/port/port_net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

void ward_port_linux_close(struct ward_port_linux *p)
{
        if (p->mem && p->mem != MAP_FAILED)
                munmap(p->mem, p->size);
        p->mem = NULL;
        close_fd(&p->mem_fd);
        close_fd(&p->to_server);
        close_fd(&p->to_client);
        close_fd(&p->ctl[0]);
        close_fd(&p->ctl[1]);
}

int ward_port_linux_create(struct ward_port_linux *p, const char *name, size_t size, char *err,
                           size_t errlen)
{
        *p = (struct ward_port_linux){
            .mem_fd = -1, .to_server = -1, .to_client = -1, .ctl = {-1, -1}};
        long page = sysconf(_SC_PAGESIZE);
        if (size == 0 || page <= 0 || size > SIZE_MAX - (size_t)page) {
                snprintf(err, errlen, "port %s: bad size %zu", name, size);
                return -1;
        }
        p->size = (size + (size_t)page - 1) & ~((size_t)page - 1);
        const char *what = "memfd_create";
        p->mem_fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (p->mem_fd < 0)
                goto fail;
        what = "ftruncate";
        if (ftruncate(p->mem_fd, (off_t)p->size) != 0)
                goto fail;
        /* Fixed size from now on: the peer cannot make our accesses fault. */
        what = "sealing";
        if (fcntl(p->mem_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
                goto fail;
        what = "mmap";
        p->mem = mmap(NULL, p->size, PROT_READ | PROT_WRITE, MAP_SHARED, p->mem_fd, 0);
        if (p->mem == MAP_FAILED) {
                p->mem = NULL;
                goto fail;
        }
        what = "eventfd";
        /* Non-blocking: a notify never stalls, and wait() drains without blocking. */
        p->to_server = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        p->to_client = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (p->to_server < 0 || p->to_client < 0)
                goto fail;
        what = "socketpair";
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p->ctl) != 0)
                goto fail;
        return 0;
fail:
        snprintf(err, errlen, "port %s: %s: %s", name, what, strerror(errno));
        ward_port_linux_close(p);
        return -1;
}

void ward_port_linux_take_side(struct ward_port_linux *p, enum ward_port_side side)
{
        p->side = side;
        p->sided = true;
        close_fd(&p->ctl[side == WARD_PORT_CLIENT ? WARD_PORT_SERVER : WARD_PORT_CLIENT]);
}

static void eventfd_notify(void *opaque)
{
        const int *fd = opaque;
        uint64_t one = 1;
        /* EAGAIN means the counter is saturated: the peer is already woken. */
        while (write(*fd, &one, sizeof(one)) < 0 && errno == EINTR) {
        }
}

struct ward_port_notify ward_port_linux_notifier(struct ward_port_linux *p,
                                                 enum ward_port_side side)
{
        /* The fd is read through the struct, which sits at the same address after fork(). */
        int *fd = side == WARD_PORT_CLIENT ? &p->to_server : &p->to_client;
        return (struct ward_port_notify){.notify = eventfd_notify, .opaque = fd};
}

int ward_port_linux_event_fd(const struct ward_port_linux *p, enum ward_port_side side)
{
        return side == WARD_PORT_CLIENT ? p->to_client : p->to_server;
}

int ward_port_linux_wait(struct ward_port_linux *p, enum ward_port_side side, int timeout_ms)
{
        struct pollfd fds[2] = {
            {.fd = ward_port_linux_event_fd(p, side), .events = POLLIN},
            {.fd = p->sided ? p->ctl[side] : -1, .events = POLLIN}, /* poll ignores -1 */
        };
        int n = ward_poll(fds, 2, timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : -1;
        if (fds[0].revents & POLLIN) {
                uint64_t count;
                if (read(fds[0].fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
                        return -1;
                return 1; /* a notification first: the peer's last words still count */
        }
        if (fds[1].revents & (POLLHUP | POLLERR))
                return -1;
        if (fds[1].revents & POLLIN) {
                char b;
                ssize_t r = recv(fds[1].fd, &b, 1, MSG_DONTWAIT);
                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                        return -1;
        }
        if (fds[0].revents & (POLLERR | POLLNVAL))
                return -1;
        return 0;
}

int ward_net_port_linux_attach(struct ward_net_port *p, int mem_fd, enum ward_port_side side,
                               void **mem, int *wait_fd, int *kick_fd, char *err, size_t errlen)
{
        size_t need = ward_net_port_region_bytes(WARD_NET_PORT_RING);
        struct stat st;
        if (fstat(mem_fd, &st) < 0 || (size_t)st.st_size < need) {
                snprintf(err, errlen, "descriptor %d is not a network port", mem_fd);
                return -1;
        }
        *mem = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_SHARED, mem_fd, 0);
        if (*mem == MAP_FAILED) {
                *mem = NULL;
                snprintf(err, errlen, "mapping its port: %s", strerror(errno));
                return -1;
        }
        close(mem_fd); /* mapped: the descriptor is no longer needed */
        int to_server = mem_fd + 1, to_client = mem_fd + 2;
        bool client = side == WARD_PORT_CLIENT;
        *wait_fd = client ? to_client : to_server;
        *kick_fd = client ? to_server : to_client;
        for (int fd = to_server; fd <= to_client; fd++) {
                int fl = fcntl(fd, F_GETFL);
                if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
                    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
                        snprintf(err, errlen, "descriptor %d: %s", fd, strerror(errno));
                        return -1;
                }
        }
        struct ward_port_notify n = {eventfd_notify, kick_fd};
        if (ward_net_port_init(p, *mem, need, WARD_NET_PORT_RING, side, &n)) {
                snprintf(err, errlen, "not a network port's shape");
                return -1;
        }
        return 0;
}
