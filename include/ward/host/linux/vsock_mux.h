/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Linux side of virtio-vsock (`ward run --vsock CID,PATH`), as in
 * Firecracker's design: unix sockets on the host stand for vsock ports.
 *
 *  - The guest connects to host port P: the VMM connects to the unix socket
 *    PATH_P (a host program listens there). No listener: the guest gets a
 *    reset.
 *  - A host program connects to PATH and writes "CONNECT P\n": the VMM
 *    connects it to guest port P and answers "OK HOSTPORT\n" once the guest
 *    accepted; if the guest refuses, the program's socket is closed.
 *
 * Each connection's bytes are buffered here as the device's credit allows
 * (WARD_VSOCK_BUF each way): a slow reader on either side holds its writer
 * back, and nothing is dropped. The runner calls these with the device's
 * lock held.
 */
#ifndef WARD_HOST_LINUX_VSOCK_MUX_H
#define WARD_HOST_LINUX_VSOCK_MUX_H

#include "ward/virtio/virtio_vsock.h"
#include "ward/vm/vm_config.h"

#define WARD_VSOCK_CMD_MAX 32 /* "CONNECT 4294967295\n" and some */

struct ward_vsock_mux_conn {
        int fd;           /* -1: free */
        bool reading_cmd; /* a host program's CONNECT line is still coming */
        bool waiting;     /* connected to the guest port, no answer yet */
        bool eof;         /* the program ended its side: close when in[] is out */
        bool draining;    /* the guest ended: close when out[] is written */
        char cmd[WARD_VSOCK_CMD_MAX];
        unsigned cmd_len;
        uint8_t *in; /* program -> guest, not yet sent: [in_off, in_len) */
        uint32_t in_off, in_len;
        uint8_t *out; /* guest -> program, not yet written: [out_off, out_len) */
        uint32_t out_off, out_len;
};

struct ward_vsock_mux {
        struct ward_vsock *dev; /* set once the device exists */
        int listen_fd;
        char path[108]; /* absolute */
        char dir[4096]; /* path's directory (PATH_MAX, as realpath() wants) */
        struct ward_vsock_mux_conn c[WARD_VSOCK_MAX_CONNS];
};

/* Listens on cfg->path (replacing a stale socket there), made absolute. */
int ward_vsock_mux_open(struct ward_vsock_mux *m, const struct ward_vsock_config *cfg, char *err,
                        size_t errlen);
struct ward_vsock_backend ward_vsock_mux_backend(struct ward_vsock_mux *m);
/* The listening socket is readable: takes one program's connection. */
void ward_vsock_mux_accept(struct ward_vsock_mux *m);
/* Connection h's socket is readable (or writable, with output waiting). */
void ward_vsock_mux_ready(struct ward_vsock_mux *m, int h);
/* Whether h's socket should be read now, or written. */
bool ward_vsock_mux_wants_input(const struct ward_vsock_mux *m, int h);
bool ward_vsock_mux_wants_output(const struct ward_vsock_mux *m, int h);
void ward_vsock_mux_close(struct ward_vsock_mux *m);

#endif
