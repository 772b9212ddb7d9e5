/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The vsock device and its unix-socket side together (src/host/linux/
 * vsock_mux.c), with a fake guest and real unix sockets: more than a
 * credit's worth each way, in the guest's packet sizes, arrives whole and
 * in order; a program's CONNECT line; a refused port.
 */
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_guest.h"
#include "ward/host/linux/vsock_mux.h"

#define QSIZE 64
#define RX 0
#define TX 1
#define HDR WARD_VSOCK_HDR_LEN
#define CID 3
#define R_NOTIFY 0x050

struct ctx {
        struct fake_guest g;
        struct ward_vsock s;
        struct ward_vsock_mux m;
        char path[108];
        uint16_t next_desc[2];
        uint16_t rx_seen;
        uint64_t rx_buf[QSIZE];
};

static void put32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int setup(void **state)
{
        struct ctx *x = calloc(1, sizeof(*x));
        fg_init(&x->g);
        snprintf(x->path, sizeof(x->path), "/tmp/ward-vsock-test-%d", (int)getpid());
        struct ward_vsock_config cfg = {.cid = CID};
        snprintf(cfg.path, sizeof(cfg.path), "%s", x->path);
        char err[256];
        assert_int_equal(ward_vsock_mux_open(&x->m, &cfg, err, sizeof(err)), 0);
        struct ward_vsock_backend be = ward_vsock_mux_backend(&x->m);
        ward_vsock_setup(&x->s, &be, CID);
        ward_virtio_init(&x->s.v, &x->g.gm, fg_irq, &x->g);
        fg_driver_init(&x->g, &x->s.v, 1ull << WARD_VIRTIO_F_VERSION_1, QSIZE);
        x->m.dev = &x->s;
        *state = x;
        return 0;
}

static int teardown(void **state)
{
        struct ctx *x = *state;
        ward_vsock_mux_close(&x->m);
        unlink(x->path);
        fg_free(&x->g);
        free(x);
        return 0;
}

/* Receive buffers as Linux posts them: 4 KiB each, reused as the guest reads. */
static void post_rx(struct ctx *x, unsigned n)
{
        for (unsigned i = 0; i < n; i++) {
                uint16_t d = x->next_desc[RX]++ % QSIZE;
                if (!x->rx_buf[d])
                        x->rx_buf[d] = fg_alloc(&x->g, 4096, 0);
                fg_desc(&x->g, RX, d, x->rx_buf[d], 4096, WARD_VRING_DESC_F_WRITE, 0);
                fg_avail(&x->g, RX, d);
        }
        fg_mmio_write(&x->s.v, R_NOTIFY, RX);
}

static uint64_t tx_buf;

static void guest_send(struct ctx *x, uint32_t sport, uint32_t dport, uint16_t op, const void *data,
                       uint32_t len, uint32_t fwd)
{
        if (!tx_buf)
                tx_buf = fg_alloc(&x->g, HDR + 8192, 0);
        uint8_t *h = fg_ptr(&x->g, tx_buf);
        memset(h, 0, HDR);
        put32(h, CID);
        put32(h + 8, 2);
        put32(h + 16, sport);
        put32(h + 20, dport);
        put32(h + 24, len);
        h[28] = 1;
        h[30] = (uint8_t)op;
        put32(h + 36, 262144);
        put32(h + 40, fwd);
        if (len)
                memcpy(h + HDR, data, len);
        uint16_t d = x->next_desc[TX]++ % QSIZE;
        fg_desc(&x->g, TX, d, tx_buf, HDR + len, 0, 0);
        fg_avail(&x->g, TX, d);
        uint16_t k = fg_used_idx(&x->g, TX);
        fg_mmio_write(&x->s.v, R_NOTIFY, TX);
        /* The packet comes back by its own id, even when sending it made the
         * device put a credit update in the receive queue (it once came back
         * as that buffer's id). */
        uint32_t id, used_len;
        assert_int_equal(fg_used_idx(&x->g, TX), (uint16_t)(k + 1));
        fg_used_elem(&x->g, TX, k, &id, &used_len);
        assert_int_equal(id, d);
}

/* Reads every packet the device gave the guest; returns the last credit it heard
 * (fwd_cnt), appends RW data to out, and counts the ops. */
static uint32_t guest_read(struct ctx *x, uint8_t *out, uint32_t *out_len, unsigned *ops)
{
        uint32_t fwd = 0;
        unsigned n = 0;
        while (x->rx_seen != fg_used_idx(&x->g, RX)) {
                uint32_t id, len;
                fg_used_elem(&x->g, RX, x->rx_seen++, &id, &len);
                const uint8_t *h = fg_ptr(&x->g, x->rx_buf[id]);
                unsigned op = h[30];
                ops[op < 8 ? op : 0]++;
                fwd = get32(h + 40);
                if (op == WARD_VSOCK_OP_RW && out) {
                        memcpy(out + *out_len, h + HDR, get32(h + 24));
                        *out_len += get32(h + 24);
                }
                n++;
        }
        if (n)
                post_rx(x, n);
        return fwd;
}

/* What the event loop would do: every socket that is ready. */
static void loop_once(struct ctx *x)
{
        for (int h = 0; h < WARD_VSOCK_MAX_CONNS; h++) {
                struct pollfd p = {x->m.c[h].fd, 0, 0};
                if (p.fd < 0)
                        continue;
                if (ward_vsock_mux_wants_input(&x->m, h))
                        p.events |= POLLIN;
                if (ward_vsock_mux_wants_output(&x->m, h))
                        p.events |= POLLOUT;
                if (p.events && poll(&p, 1, 0) > 0)
                        ward_vsock_mux_ready(&x->m, h);
        }
        struct pollfd l = {x->m.listen_fd, POLLIN, 0};
        if (poll(&l, 1, 0) > 0)
                ward_vsock_mux_accept(&x->m);
}

static int unix_listen(const char *path)
{
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof(a.sun_path), "%.107s", path);
        unlink(path);
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(s, 1), 0);
        return s;
}

static void guest_to_host_past_credit(void **state)
{
        struct ctx *x = *state;
        post_rx(x, 16);
        char lp[128];
        snprintf(lp, sizeof(lp), "%s_5000", x->path);
        int ls = unix_listen(lp);
        guest_send(x, 1234, 5000, WARD_VSOCK_OP_REQUEST, NULL, 0, 0);
        unsigned ops[8] = {0};
        guest_read(x, NULL, NULL, ops);
        assert_int_equal(ops[WARD_VSOCK_OP_RESPONSE], 1);
        int ps = accept(ls, NULL, NULL);
        assert_true(ps >= 0);
        fcntl(ps, F_SETFL, O_NONBLOCK);
        /* 1 MiB in 4 KiB packets, each only within the credit the guest heard of. */
        enum { TOTAL = 1 << 20, PKT = 4096 };
        static uint8_t data[TOTAL], got[TOTAL];
        for (uint32_t i = 0; i < TOTAL; i++)
                data[i] = (uint8_t)(i * 7 + i / 4096);
        uint32_t sent = 0, fwd = 0, have = 0;
        for (int round = 0; round < 100000 && have < TOTAL; round++) {
                while (sent < TOTAL && sent + PKT - fwd <= WARD_VSOCK_BUF) {
                        guest_send(x, 1234, 5000, WARD_VSOCK_OP_RW, data + sent, PKT, 0);
                        sent += PKT;
                }
                ssize_t r = read(ps, got + have, TOTAL - have);
                if (r > 0)
                        have += (uint32_t)r;
                loop_once(x);
                uint32_t f = guest_read(x, NULL, NULL, ops);
                if (f > fwd)
                        fwd = f;
        }
        assert_int_equal(have, TOTAL);
        assert_memory_equal(got, data, TOTAL);
        /* 1 MiB through a 256 KiB window takes three credit updates at least. */
        assert_true(ops[WARD_VSOCK_OP_CREDIT_UPDATE] >= 3);
        close(ps);
        close(ls);
        unlink(lp);
}

static void host_to_guest_with_connect_line(void **state)
{
        struct ctx *x = *state;
        post_rx(x, 16);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", x->path);
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
        enum { TOTAL = 300000 };
        static uint8_t data[TOTAL + 16], got[TOTAL];
        int k = snprintf((char *)data, 16, "CONNECT 6000\n");
        for (uint32_t i = 0; i < TOTAL; i++)
                data[k + i] = (uint8_t)(i * 13);
        fcntl(c, F_SETFL, O_NONBLOCK);
        uint32_t wrote = 0, have = 0, hport = 0;
        unsigned ops[8] = {0};
        bool answered = false, closed = false;
        for (int round = 0; round < 100000 && !(closed && ops[WARD_VSOCK_OP_SHUTDOWN]); round++) {
                if (wrote < TOTAL + (uint32_t)k) {
                        ssize_t w = write(c, data + wrote, TOTAL + (uint32_t)k - wrote);
                        if (w > 0)
                                wrote += (uint32_t)w;
                } else if (!closed) {
                        shutdown(c, SHUT_WR);
                        closed = true;
                }
                loop_once(x);
                /* The guest: accept the request, read, give credit back. */
                unsigned before = ops[WARD_VSOCK_OP_REQUEST];
                guest_read(x, got, &have, ops);
                if (ops[WARD_VSOCK_OP_REQUEST] > before && !answered) {
                        hport = x->s.conn[0].hport;
                        for (int h = 0; h < WARD_VSOCK_MAX_CONNS; h++)
                                if (x->s.conn[h].used)
                                        hport = x->s.conn[h].hport;
                        guest_send(x, 6000, hport, WARD_VSOCK_OP_RESPONSE, NULL, 0, 0);
                        answered = true;
                } else if (answered) {
                        guest_send(x, 6000, hport, WARD_VSOCK_OP_CREDIT_UPDATE, NULL, 0, have);
                }
        }
        assert_true(answered);
        assert_int_equal(have, TOTAL);
        assert_memory_equal(got, data + k, TOTAL);
        assert_int_equal(ops[WARD_VSOCK_OP_SHUTDOWN], 1);
        char line[32] = {0};
        assert_true(read(c, line, sizeof(line) - 1) > 0);
        assert_int_equal(strncmp(line, "OK ", 3), 0);
        close(c);
}

/*
 * The socket's path is made absolute (a jailed VMM keeps its directory, at
 * the same path, to reach the sockets of the guest's connections); a path
 * that names a directory, or that is too long with _P once absolute, is
 * refused by name.
 */
static void paths_made_absolute(void **state)
{
        (void)state;
        char cwd[4096], err[256];
        assert_non_null(getcwd(cwd, sizeof(cwd)));
        assert_int_equal(chdir("/tmp"), 0);
        static struct ward_vsock_mux m;
        struct ward_vsock_config cfg = {.cid = CID};
        snprintf(cfg.path, sizeof(cfg.path), "ward-vsock-rel-%d", (int)getpid());
        int rc = ward_vsock_mux_open(&m, &cfg, err, sizeof(err));
        char want[128];
        snprintf(want, sizeof(want), "/tmp/%s", cfg.path);
        unlink(want);
        assert_int_equal(rc, 0);
        assert_string_equal(m.path, want);
        assert_string_equal(m.dir, "/tmp");
        ward_vsock_mux_close(&m);

        snprintf(cfg.path, sizeof(cfg.path), "/tmp/");
        assert_int_equal(ward_vsock_mux_open(&m, &cfg, err, sizeof(err)), -1);
        assert_string_equal(err, "--vsock: /tmp/: names a directory, not a socket");
        snprintf(cfg.path, sizeof(cfg.path), "/no-such-dir-%d/s", (int)getpid());
        assert_int_equal(ward_vsock_mux_open(&m, &cfg, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "No such file or directory"));
        assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(paths_made_absolute),
            cmocka_unit_test_setup_teardown(guest_to_host_past_credit, setup, teardown),
            cmocka_unit_test_setup_teardown(host_to_guest_with_connect_line, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
